import { describe, expect, it } from 'vitest';
import type { MetricPoint, RunEstimate } from '../../src/core/api/training';
import {
	featureMapSizes,
	modelPresets,
	parameterCount
} from '../../src/core/training/encoder-spec';
import {
	describeModelPreset,
	formatParameterCount
} from '../../src/renderer/lib/training/model-presets';
import {
	downsampleMinMax,
	mergeMetrics,
	seriesOf,
	type SeriesPoint
} from '../../src/renderer/lib/training/series';
import {
	epochAt,
	formatApproxDuration,
	formatBytes,
	formatEstimate,
	formatRate,
	runControls
} from '../../src/renderer/lib/training/run-format';

describe('model presets', () => {
	it('flattens 7×7 at 64 px and 3×3 at 32 px before fc6', () => {
		expect(featureMapSizes(modelPresets.alexnet)[4]).toBe(7);
		expect(featureMapSizes(modelPresets.tiny)[4]).toBe(3);
	});

	it('counts SmallAlexNet exactly as the paper’s layer table', () => {
		// conv weights, BN γ/β per channel, fc6 from 192·7·7, fc7, fc8 with bias.
		const convs = 3 * 96 * 9 + 96 * 192 * 9 + 192 * 384 * 9 + 384 * 384 * 9 + 384 * 192 * 9;
		const convBn = 2 * (96 + 192 + 384 + 384 + 192);
		const fc = 192 * 49 * 4096 + 2 * 4096 + 4096 * 4096 + 2 * 4096 + 4096 * 128 + 128;
		expect(parameterCount(modelPresets.alexnet)).toBe(convs + convBn + fc);
		expect(parameterCount(modelPresets.alexnet)).toBe(58_678_368);
	});

	it('counts the laptop presets from the same formula', () => {
		const tiny =
			3 * 24 * 9 +
			24 * 48 * 9 +
			48 * 96 * 9 +
			96 * 96 * 9 +
			96 * 48 * 9 +
			2 * (24 + 48 + 96 + 96 + 48) +
			48 * 9 * 1024 +
			2 * 1024 +
			1024 * 1024 +
			2 * 1024 +
			1024 * 128 +
			128;
		expect(parameterCount(modelPresets.tiny)).toBe(tiny);
		const small =
			3 * 48 * 9 +
			48 * 96 * 9 +
			96 * 192 * 9 +
			192 * 192 * 9 +
			192 * 96 * 9 +
			2 * (48 + 96 + 192 + 192 + 96) +
			96 * 49 * 2048 +
			2 * 2048 +
			2048 * 2048 +
			2 * 2048 +
			2048 * 128 +
			128;
		expect(parameterCount(modelPresets.small)).toBe(small);
		expect(parameterCount(modelPresets.tiny)).toBeLessThan(parameterCount(modelPresets.small));
	});

	it('describes a preset in one line', () => {
		expect(describeModelPreset('alexnet')).toBe('64 px input, 58.7 M parameters');
		expect(describeModelPreset('tiny')).toBe('32 px input, 1.8 M parameters');
		expect(formatParameterCount(412_345)).toBe('412 k');
		expect(formatParameterCount(950)).toBe('950');
	});
});

function ramp(count: number, y: (index: number) => number): SeriesPoint[] {
	return Array.from({ length: count }, (_, index) => ({ x: index, y: y(index) }));
}

describe('downsampling', () => {
	it('returns short series unchanged', () => {
		const points = ramp(50, (index) => index * 2);
		expect(downsampleMinMax(points, 100)).toEqual(points);
	});

	it('keeps the first and last point and stays within the budget', () => {
		const points = ramp(27_400, (index) => Math.sin(index / 50));
		const thinned = downsampleMinMax(points, 2000);
		expect(thinned.length).toBeLessThanOrEqual(2000);
		expect(thinned.length).toBeGreaterThan(1900);
		expect(thinned[0]).toEqual(points[0]);
		expect(thinned.at(-1)).toEqual(points.at(-1));
	});

	it('keeps steps in order and the global extremes, so spikes survive', () => {
		const points = ramp(10_000, (index) => 5 - index / 10_000);
		const spike = points[4321];
		const dip = points[7777];
		if (!spike || !dip) throw new Error('fixture');
		spike.y = 40;
		dip.y = -3;
		const thinned = downsampleMinMax(points, 500);
		const xs = thinned.map((point) => point.x);
		expect(xs).toEqual([...xs].sort((a, b) => a - b));
		expect(thinned).toContainEqual({ x: 4321, y: 40 });
		expect(thinned).toContainEqual({ x: 7777, y: -3 });
		// The envelope of every bucket matches the original's within that span.
		const ys = thinned.map((point) => point.y);
		expect(Math.max(...ys)).toBe(40);
		expect(Math.min(...ys)).toBe(-3);
	});

	it('keeps the min/max envelope of a noisy series', () => {
		// Alternating ±1 noise around a falling trend: the thinned series must still span it.
		const points = ramp(20_000, (index) => 10 - index / 2000 + (index % 2 === 0 ? 1 : -1));
		const thinned = downsampleMinMax(points, 400);
		const buckets = 4;
		for (let bucket = 0; bucket < buckets; bucket++) {
			const from = (bucket * 20_000) / buckets;
			const to = ((bucket + 1) * 20_000) / buckets;
			const original = points.filter((point) => point.x >= from && point.x < to).map((p) => p.y);
			const kept = thinned.filter((point) => point.x >= from && point.x < to).map((p) => p.y);
			// Within one display bucket (~100 steps) of the trend, which moves 0.05 per bucket.
			expect(Math.abs(Math.max(...kept) - Math.max(...original))).toBeLessThan(0.06);
			expect(Math.abs(Math.min(...kept) - Math.min(...original))).toBeLessThan(0.06);
		}
		// Both edges of the ±1 band are drawn: an even-stride decimation would keep only one.
		const upper = thinned.filter((point) => point.x % 2 === 0).length;
		const lower = thinned.filter((point) => point.x % 2 === 1).length;
		expect(Math.min(upper, lower)).toBeGreaterThan(180);
	});

	it('skips non-finite values inside buckets but keeps a diverged last point', () => {
		const points = ramp(5000, (index) => (index % 7 === 0 ? Number.NaN : 1));
		points.push({ x: 5000, y: Number.NaN });
		const thinned = downsampleMinMax(points, 100);
		expect(thinned.slice(1, -1).every((point) => Number.isFinite(point.y))).toBe(true);
		expect(Number.isNaN(thinned.at(-1)?.y)).toBe(true);
	});
});

function metric(step: number, loss: number): MetricPoint {
	return {
		step,
		loss,
		align: loss / 2,
		uniform: -loss,
		lr: 0.06,
		imagesPerSecond: 100,
		seconds: step / 2
	};
}

describe('metric histories', () => {
	it('merges fetched and live points by step, the incoming copy winning', () => {
		const live = [metric(10, 1), metric(11, 0.9)];
		const fetched = [metric(8, 1.2), metric(9, 1.1), metric(10, 1.05)];
		const merged = mergeMetrics(live, fetched);
		expect(merged.map((point) => point.step)).toEqual([8, 9, 10, 11]);
		expect(merged[2]?.loss).toBe(1.05);
	});

	it('extracts one metric as chart points', () => {
		expect(seriesOf([metric(3, 2), metric(4, 1)], 'align')).toEqual([
			{ x: 3, y: 1, seconds: 1.5 },
			{ x: 4, y: 0.5, seconds: 2 }
		]);
	});
});

describe('run wording', () => {
	const estimate: RunEstimate = {
		backend: 'wasm',
		replicas: 1,
		parameterCount: 1,
		secondsPerStep: 0.6,
		imagesPerSecond: 210.4,
		totalSeconds: 12 * 60 + 10,
		measuredSteps: 3
	};

	it('words an estimate as the form shows it', () => {
		expect(formatEstimate(estimate)).toBe('≈ 12 min on wasm (210 img/s)');
		expect(formatEstimate({ ...estimate, totalSeconds: 42, imagesPerSecond: 7.456 })).toBe(
			'≈ 42 s on wasm (7.46 img/s)'
		);
		expect(formatEstimate({ ...estimate, replicas: 2 })).toBe(
			'≈ 12 min on wasm, 2 replicas (210 img/s)'
		);
		expect(formatApproxDuration(2 * 3600 + 7 * 60)).toBe('2 h 07 min');
		expect(formatRate(15.26)).toBe('15.3 img/s');
	});

	it('formats sizes in powers of 1000', () => {
		expect(formatBytes(812)).toBe('812 B');
		expect(formatBytes(4_200_000)).toBe('4.2 MB');
		expect(formatBytes(235_000_000)).toBe('235 MB');
		expect(formatBytes(1_300_000_000)).toBe('1.3 GB');
	});

	it('enables the controls each status allows', () => {
		expect(runControls('running')).toEqual({ pause: true, resume: false, cancel: true });
		expect(runControls('paused')).toEqual({ pause: false, resume: true, cancel: true });
		expect(runControls('interrupted')).toEqual({ pause: false, resume: true, cancel: true });
		expect(runControls('failed')).toEqual({ pause: false, resume: true, cancel: true });
		for (const status of ['completed', 'cancelled', 'diverged'] as const) {
			expect(runControls(status)).toEqual({ pause: false, resume: false, cancel: false });
		}
	});

	it('derives the epoch of a virtual dataset from step, batch and size', () => {
		const config = {
			source: {
				kind: 'generator' as const,
				config: { preset: 'x', params: {} },
				seed: 0,
				count: 1000
			},
			batch: 100
		};
		expect(epochAt({ step: 25, config: config as never })).toBe(2.5);
		expect(
			epochAt({ step: 25, config: { source: { kind: 'folder', path: '/x' } } as never })
		).toBeNull();
	});
});

describe('values that crossed JSON', () => {
	it('turns a null metric (NaN on the wire) into a gap', () => {
		const diverged = { ...metric(5, 1), loss: null as unknown as number };
		const points = seriesOf([metric(4, 1), diverged], 'loss');
		expect(points[0]).toEqual({ x: 4, y: 1, seconds: 2 });
		expect(points[1]?.x).toBe(5);
		expect(Number.isNaN(points[1]?.y)).toBe(true);
	});
});
