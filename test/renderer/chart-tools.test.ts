import { describe, expect, it } from 'vitest';
import {
	chartFileName,
	pointNearest,
	readout,
	smoothSeries
} from '../../src/renderer/lib/chart-tools';

const points = [1, 2, 3, 4].map((y, x) => ({ x: x * 10, y }));

describe('chart smoothing (TensorBoard-style debiased EMA)', () => {
	it('leaves a series alone at weight 0 and starts at the first value, not at 0', () => {
		expect(smoothSeries(points, 0)).toEqual(points);
		const smoothed = smoothSeries(points, 0.6);
		expect(smoothed[0]?.y).toBeCloseTo(1);
		// 0.4·2 + 0.24·1 over 0.64.
		expect(smoothed[1]?.y).toBeCloseTo((0.4 * 2 + 0.24 * 1) / 0.64);
		expect(smoothed.map((point) => point.x)).toEqual([0, 10, 20, 30]);
		// Heavier smoothing lags the rising line more.
		expect(smoothSeries(points, 0.9)[3]?.y).toBeLessThan(smoothed[3]?.y ?? 0);
	});

	it('keeps a diverged step as a gap without poisoning what follows', () => {
		const gap = smoothSeries(
			[
				{ x: 0, y: 1 },
				{ x: 1, y: Number.NaN },
				{ x: 2, y: 1 }
			],
			0.5
		);
		expect(Number.isNaN(gap[1]?.y)).toBe(true);
		expect(gap[2]?.y).toBeCloseTo(1);
	});
});

describe('chart read-out and file name', () => {
	it('reads each series at the nearest logged step', () => {
		expect(pointNearest(points, 14)).toEqual({ x: 10, y: 2 });
		expect(pointNearest(points, 16)).toEqual({ x: 20, y: 3 });
		expect(pointNearest([], 3)).toBeNull();
		expect(
			readout(
				[
					{ label: 'loss', points },
					{ label: 'lr', points: [{ x: 10, y: 0.5 }] }
				],
				29,
				(value) => value.toFixed(1)
			)
		).toBe('step 30: loss 4.0 · lr 0.5');
	});

	it('names the PNG after the chart', () => {
		expect(chartFileName('Throughput (images/s)')).toBe('throughput-images-s.png');
		expect(chartFileName('…')).toBe('chart.png');
	});
});
