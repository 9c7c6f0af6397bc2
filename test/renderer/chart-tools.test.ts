import { describe, expect, it } from 'vitest';
import {
	chartFileName,
	formatAxisTime,
	hasTimes,
	onTimeAxis,
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

describe('the wall-time axis', () => {
	it('is offered only when every point has a time, and plots by it keeping the step', () => {
		const timed = [
			{ x: 1, y: 2, seconds: 0.4 },
			{ x: 2, y: 1, seconds: 0.9 }
		];
		expect(hasTimes([{ points: timed }])).toBe(true);
		expect(hasTimes([{ points: timed }, { points: [{ x: 1, y: 2, seconds: null }] }])).toBe(false);
		expect(hasTimes([{ points: [] }])).toBe(false);
		expect(onTimeAxis(timed)).toEqual([
			{ x: 0.4, y: 2, seconds: 0.4, step: 1 },
			{ x: 0.9, y: 1, seconds: 0.9, step: 2 }
		]);
		expect(readout([{ label: 'loss', points: onTimeAxis(timed) }], 0.8, String, 'time')).toBe(
			'0.9 s (step 2): loss 1'
		);
		expect([
			formatAxisTime(7.46),
			formatAxisTime(42),
			formatAxisTime(125),
			formatAxisTime(3725)
		]).toEqual(['7.5 s', '42 s', '2:05', '1:02:05']);
	});
});
