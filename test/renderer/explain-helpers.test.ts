import { describe, expect, it } from 'vitest';
import { explainParamsSchema } from '../../src/core/api/explain';
import type { RunRecord } from '../../src/core/api/training';
import {
	buildExplainParams,
	defaultEncoderPicks,
	lastIndex,
	stepIndex
} from '../../src/renderer/lib/explain/explain-form';
import {
	colorizeMap,
	describeAgreement,
	differenceMap,
	formatAuc,
	jetColor,
	jetTable,
	meanDifference,
	overlayHeatmap
} from '../../src/renderer/lib/explain/heatmap';

describe('jet colour map', () => {
	it('runs dark blue → cyan → yellow → dark red like cv2.COLORMAP_JET', () => {
		expect(jetColor(0)).toEqual([0, 0, 128]);
		expect(jetColor(255)).toEqual([128, 0, 0]);
		// A quarter of the way: pure blue turning cyan; halfway: green-ish; three quarters: yellow-red.
		const [r1, g1, b1] = jetColor(64);
		expect(b1).toBe(255);
		expect(r1).toBe(0);
		expect(g1).toBeGreaterThan(100);
		const [r2, g2, b2] = jetColor(128);
		expect(g2).toBe(255);
		expect(r2).toBeGreaterThan(100);
		expect(b2).toBeGreaterThan(100);
		expect(jetColor(191)).toEqual([255, jetColor(191)[1], 0]);
	});

	it('clamps values outside 0–255 and matches its lookup table', () => {
		expect(jetColor(-20)).toEqual(jetColor(0));
		expect(jetColor(400)).toEqual(jetColor(255));
		expect(jetTable.length).toBe(768);
		expect([...jetTable.subarray(100 * 3, 101 * 3)]).toEqual(jetColor(100));
	});

	it('colours a map pixel by pixel', () => {
		const rgb = colorizeMap(new Uint8Array([0, 255]));
		expect([...rgb]).toEqual([0, 0, 128, 128, 0, 0]);
	});
});

describe('overlayHeatmap', () => {
	const image = new Uint8Array([10, 20, 30, 200, 200, 200]);
	const map = new Uint8Array([0, 255]);

	it('shows the image at opacity 0 and only the map at opacity 1', () => {
		expect([...overlayHeatmap(image, map, 0)]).toEqual([...image]);
		expect([...overlayHeatmap(image, map, 1)]).toEqual([...colorizeMap(map)]);
	});

	it('blends linearly in between and clamps the opacity', () => {
		expect([...overlayHeatmap(image, map, 0.5)]).toEqual([5, 10, 79, 164, 100, 100]);
		expect([...overlayHeatmap(image, map, 3)]).toEqual([...colorizeMap(map)]);
	});

	it('rejects a map of another size', () => {
		expect(() => overlayHeatmap(image, new Uint8Array(3), 0.5)).toThrow(/pixels/);
	});
});

describe('differenceMap', () => {
	it('is |A − B| per pixel, symmetric and zero for equal maps', () => {
		const a = new Uint8Array([0, 100, 255, 7]);
		const b = new Uint8Array([255, 40, 255, 9]);
		expect([...differenceMap(a, b)]).toEqual([255, 60, 0, 2]);
		expect([...differenceMap(b, a)]).toEqual([255, 60, 0, 2]);
		expect(meanDifference(differenceMap(a, a))).toBe(0);
		expect(meanDifference(differenceMap(a, b))).toBeCloseTo(317 / 4 / 255, 10);
	});

	it('rejects maps of different sizes', () => {
		expect(() => differenceMap(new Uint8Array(2), new Uint8Array(3))).toThrow(/size/);
	});
});

describe('formatting', () => {
	it('formats AUCs and describes the agreement in words', () => {
		expect(formatAuc(0.12345)).toBe('0.123');
		expect(formatAuc(Number.NaN)).toBe('—');
		expect(describeAgreement(null)).toMatch(/not defined/);
		expect(describeAgreement(0.82)).toBe('0.82 — strong agreement');
		expect(describeAgreement(0.05)).toBe('0.05 — no agreement');
		expect(describeAgreement(-0.5)).toBe('-0.50 — moderate inverse agreement');
	});
});

function run(id: number, createdAt: string, status: RunRecord['status']): RunRecord {
	return { id, createdAt, status, step: 100 } as unknown as RunRecord;
}

describe('explain form', () => {
	it('proposes the newest completed run against its own random init', () => {
		const runs = [
			run(1, '2026-01-01T00:00:00Z', 'completed'),
			run(2, '2026-01-02T00:00:00Z', 'completed'),
			run(3, '2026-01-03T00:00:00Z', 'running')
		];
		expect(defaultEncoderPicks(runs)).toEqual([
			{ runId: 2, randomInit: false },
			{ runId: 2, randomInit: true }
		]);
		expect(defaultEncoderPicks([])).toEqual([
			{ runId: null, randomInit: false },
			{ runId: null, randomInit: true }
		]);
	});

	it('steps the index, wrapping around a known test split', () => {
		expect(lastIndex({ testCount: 10 } as never)).toBe(9);
		expect(lastIndex({ testCount: null } as never)).toBeNull();
		expect(lastIndex(undefined)).toBeNull();
		expect(stepIndex(0, -1, 9)).toBe(9);
		expect(stepIndex(9, 1, 9)).toBe(0);
		expect(stepIndex(4, 1, 9)).toBe(5);
		expect(stepIndex(0, -1, null)).toBe(0);
		expect(stepIndex(3, 1, null)).toBe(4);
	});

	it('builds a request the contract accepts, leaving out an empty second slot', () => {
		const built = buildExplainParams({
			encoders: [
				{ runId: 4, randomInit: false },
				{ runId: null, randomInit: true }
			],
			dataset: 'fashion-mnist-mini',
			index: 3,
			method: 'gradcam++',
			layer: 'conv4'
		});
		expect(built.ok).toBe(true);
		if (!built.ok) return;
		expect(built.params.encoders).toEqual([{ runId: 4, randomInit: false }]);
		expect(explainParamsSchema.parse(built.params)).toEqual(built.params);
	});

	it('says what is missing instead of sending a bad request', () => {
		const base = {
			encoders: [{ runId: 1, randomInit: false }],
			dataset: 'fashion-mnist-mini',
			index: 0,
			method: 'gradcam' as const,
			layer: 'conv5' as const
		};
		const noRun = buildExplainParams({ ...base, encoders: [{ runId: null, randomInit: false }] });
		expect(noRun.ok ? '' : noRun.error.message).toMatch(/run/);
		const noDataset = buildExplainParams({ ...base, dataset: '' });
		expect(noDataset.ok ? '' : noDataset.error.message).toMatch(/dataset/);
		const badIndex = buildExplainParams({ ...base, index: -1 });
		expect(badIndex.ok ? '' : badIndex.error.message).toMatch(/index/);
	});
});
