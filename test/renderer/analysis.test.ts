import { describe, expect, it } from 'vitest';
import type { PrecisionRecallResult } from '../../src/core/api/analysis';
import { precisionRecallParamsSchema } from '../../src/core/api/analysis';
import type { RunRecord } from '../../src/core/api/training';
import {
	analysisEncoderChoices,
	encoderOfChoice,
	explainScores,
	precisionRecallRequest
} from '../../src/renderer/lib/analysis/precision-recall';
import { placeLabels, recallAccuracyChart } from '../../src/renderer/lib/analysis/scatter';

const run = (id: number, step: number) =>
	({
		id,
		name: `run ${id}`,
		step,
		sourceLabel: 'photos · folder · 900 images',
		config: { model: 'small' }
	}) as unknown as RunRecord;

describe('the Studio’s precision-and-recall form', () => {
	it('offers random init and every run with a checkpoint, and builds a valid request', () => {
		const choices = analysisEncoderChoices([run(4, 300), run(3, 0)]);
		expect(choices).toEqual([
			{ value: 'random:tiny', label: 'Random init (tiny, seed 0)' },
			{ value: 'run:4', label: 'Run 4 · run 4 (small, photos · folder · 900 images)' }
		]);
		expect(encoderOfChoice('run:4')).toEqual({ kind: 'run', runId: 4 });
		expect(encoderOfChoice('random:tiny')).toEqual({ kind: 'random-init', model: 'tiny', seed: 0 });
		const request = precisionRecallRequest(
			{ dataset: 'fashion-mnist-mini', encoder: 'run:4', layer: 'conv5', samples: 200 },
			{ kind: 'generator', config: { preset: 'stat-wmm', params: {} }, seed: 7 },
			'job'
		);
		expect(precisionRecallParamsSchema.safeParse(request).success).toBe(true);
		expect(request).toMatchObject({ encoder: { kind: 'run', runId: 4 }, k: 3, samples: 200 });
	});

	it('explains both scores with their counts', () => {
		const words = explainScores({
			precision: 0.425,
			recall: 0.1,
			k: 3,
			noiseCount: 500,
			realCount: 400,
			dataset: 'fashion-mnist-mini'
		} as PrecisionRecallResult);
		expect(words.precision).toMatch(
			/^43% of the 500 noise images lie inside the real images’ manifold/
		);
		expect(words.precision).toMatch(/3rd nearest real neighbour/);
		expect(words.recall).toMatch(/^10% of the 400 fashion-mnist-mini images lie inside/);
	});
});

describe('the recall-against-accuracy scatter', () => {
	const points = [
		{ source: 'dead_leaves-mixed', recall: 0.4, accuracy: 0.774, precision: 0.2 },
		{ source: 'control-mean_colour', recall: 0.01, accuracy: 0.68, precision: null },
		{ source: 'not measured', recall: Number.NaN, accuracy: 0.7 }
	];

	it('plots recall against accuracy in percent, one labelled point per measured source', () => {
		const config = recallAccuracyChart(points, { accuracyLabel: 'fashion-mnist-mini top-1 (%)' });
		expect(config.type).toBe('scatter');
		expect(config.data.datasets[0]?.data).toEqual([
			{ x: 0.4, y: 77.4, label: 'dead_leaves-mixed', recall: 0.4, precision: 0.2 },
			{ x: 0.01, y: 68, label: 'control-mean_colour', recall: 0.01, precision: null }
		]);
		expect(config.options?.scales?.y).toMatchObject({
			title: { text: 'fashion-mnist-mini top-1 (%)' }
		});
		expect(config.plugins?.map((plugin) => plugin.id)).toEqual(['noiselabPointLabels']);
	});

	it('places the labels of crowded points so that none overlaps another', () => {
		const area = { left: 0, right: 400, top: 0, bottom: 200 };
		// Three sources at almost the same scores, and one near the right edge.
		const labels = [
			{ x: 10, y: 100, width: 80, height: 12 },
			{ x: 12, y: 101, width: 90, height: 12 },
			{ x: 11, y: 99, width: 70, height: 12 },
			{ x: 390, y: 50, width: 60, height: 12 }
		];
		const placed = placeLabels(labels, area).map((place, index) => ({
			...place,
			right: place.left + (labels[index]?.width ?? 0),
			bottom: place.top + 12
		}));
		// The first keeps the right of its point; the last goes left, inside the area.
		expect(placed[0]).toMatchObject({ left: 16, top: 94 });
		expect(placed[3]?.right).toBeLessThanOrEqual(area.right);
		for (const [i, a] of placed.entries()) {
			for (const b of placed.slice(i + 1)) {
				const apart =
					a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
				expect(apart).toBe(true);
			}
		}
	});

	it('plots precision instead when asked, leaving out sources without one', () => {
		const config = recallAccuracyChart(points, { x: 'precision' });
		expect(config.data.datasets[0]?.data.map((point) => (point as { x: number }).x)).toEqual([0.2]);
		expect(config.options?.scales?.x).toMatchObject({ title: { text: 'precision (realism)' } });
	});
});
