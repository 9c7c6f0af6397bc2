import { describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src/core/api/errors';
import { explainBatchParamsSchema } from '../../../src/core/api/explain';
import type { EvalDataset } from '../../../src/core/evaluation/dataset';
import { mapToBytes } from '../../../src/core/explain/colormap';
import {
	runBatch,
	selectBatchImages,
	summariseAgreement,
	type BatchDependencies
} from '../../../src/main/explain/batch';

const size = 4;

function dataset(labels: number[], classes = ['a', 'b', 'c']): EvalDataset {
	const images = (count: number) => ({
		count,
		width: size,
		height: size,
		channels: 3 as const,
		data: new Uint8Array(count * size * size * 3)
	});
	return {
		name: 'toy',
		classes,
		train: { images: images(0), labels: new Int32Array(0) },
		test: { images: images(labels.length), labels: Int32Array.from(labels) },
		notes: []
	};
}

function params(fields: Record<string, unknown>) {
	return explainBatchParamsSchema.parse({
		encoders: [{ runId: 1 }, { runId: 2 }],
		dataset: 'toy',
		...fields
	});
}

const ramp = Float32Array.from({ length: size * size }, (_, i) => i / (size * size - 1));
const reversed = ramp.map((value) => 1 - value);
const flat = new Float32Array(size * size).fill(0.5);

/** Class 0's maps agree (ρ = 1), class 1's are opposite (ρ = −1), class 2's second is flat. */
function deps(data: EvalDataset, extra: Partial<BatchDependencies> = {}): BatchDependencies {
	return {
		dataset: data,
		size,
		labels: ['noise', 'real'],
		explainImage: (index) => {
			const label = data.test.labels[index];
			const second = label === 0 ? ramp : label === 1 ? reversed : flat;
			const rgb = new Uint8Array(size * size * 3).fill(index);
			return Promise.resolve({ rgb, maps: [ramp, second] });
		},
		...extra
	};
}

describe('selectBatchImages', () => {
	const labels = Int32Array.from([1, 0, 0, 2, 0, 1, 0, 1, 2, 0, 1]);

	it('takes the first images of each class round-robin, grouped by class', () => {
		// Class 0: 1, 2, 4, 6, 9; class 1: 0, 5, 7, 10; class 2: 3, 8.
		expect(selectBatchImages(labels, 3, 3)).toEqual([1, 0, 3]);
		expect(selectBatchImages(labels, 3, 7)).toEqual([1, 2, 4, 0, 5, 3, 8]);
		expect(selectBatchImages(labels, 3, 100)).toEqual([1, 2, 4, 6, 9, 0, 5, 7, 10, 3, 8]);
	});

	it('spreads evenly: class counts differ by at most one while every class has images', () => {
		const many = Int32Array.from({ length: 300 }, (_, i) => (i * 7) % 5);
		for (const count of [1, 4, 5, 13, 40]) {
			const chosen = selectBatchImages(many, 5, count);
			expect(chosen).toHaveLength(count);
			expect(new Set(chosen).size).toBe(count);
			const perClass = [0, 1, 2, 3, 4].map(
				(c) => chosen.filter((index) => many[index] === c).length
			);
			expect(Math.max(...perClass) - Math.min(...perClass)).toBeLessThanOrEqual(1);
			expect(selectBatchImages(many, 5, count)).toEqual(chosen);
		}
	});

	it('takes the first images of one class when asked', () => {
		expect(selectBatchImages(labels, 3, 3, 1)).toEqual([0, 5, 7]);
		expect(selectBatchImages(labels, 3, 10, 2)).toEqual([3, 8]);
		expect(selectBatchImages(labels, 3, 3, 7)).toEqual([]);
	});
});

describe('summariseAgreement', () => {
	it('averages per class and overall, leaving out flat maps but counting them', () => {
		const summary = summariseAgreement([
			{ labelIndex: 2, agreement: null },
			{ labelIndex: 0, agreement: 0.5 },
			{ labelIndex: 0, agreement: 0.1 },
			{ labelIndex: 2, agreement: 0.9 },
			{ labelIndex: 1, agreement: null }
		]);
		expect(summary.perClass).toEqual([
			{ classIndex: 0, count: 2, meanAgreement: expect.closeTo(0.3, 12) as number },
			{ classIndex: 1, count: 1, meanAgreement: null },
			{ classIndex: 2, count: 2, meanAgreement: 0.9 }
		]);
		expect(summary.meanAgreement).toBeCloseTo(1.5 / 3, 12);
		expect(summariseAgreement([]).meanAgreement).toBeNull();
	});
});

describe('runBatch', () => {
	const labels = [1, 0, 0, 2, 0, 1, 0, 1, 2, 0, 1];

	it('maps the chosen images and scores the agreement of the first two maps', async () => {
		const progress: [number, number][] = [];
		const result = await runBatch(
			params({ count: 6 }),
			deps(dataset(labels), { onProgress: (done, total) => progress.push([done, total]) })
		);
		expect(result.items.map((item) => item.index)).toEqual([1, 2, 0, 5, 3, 8]);
		expect(result.items.map((item) => item.labelIndex)).toEqual([0, 0, 1, 1, 2, 2]);
		expect(result.items.map((item) => item.agreement)).toEqual([
			expect.closeTo(1, 9),
			expect.closeTo(1, 9),
			expect.closeTo(-1, 9),
			expect.closeTo(-1, 9),
			null,
			null
		]);
		const first = result.items[0];
		expect(first?.maps).toEqual([mapToBytes(ramp), mapToBytes(ramp)]);
		expect(first?.rgb[0]).toBe(1);
		expect(result.perClass.map((entry) => [entry.classIndex, entry.count])).toEqual([
			[0, 2],
			[1, 2],
			[2, 2]
		]);
		expect(result.perClass[0]?.meanAgreement).toBeCloseTo(1, 9);
		expect(result.perClass[1]?.meanAgreement).toBeCloseTo(-1, 9);
		expect(result.perClass[2]?.meanAgreement).toBeNull();
		expect(result.meanAgreement).toBeCloseTo(0, 9);
		expect(result).toMatchObject({ size, classes: ['a', 'b', 'c'], labels: ['noise', 'real'] });
		expect(result.seconds).toBeGreaterThanOrEqual(0);
		expect(progress).toEqual([1, 2, 3, 4, 5, 6].map((done) => [done, 6]));
	});

	it('restricts to one class', async () => {
		const result = await runBatch(params({ count: 3, classIndex: 0 }), deps(dataset(labels)));
		expect(result.items.map((item) => item.index)).toEqual([1, 2, 4]);
		expect(result.perClass).toHaveLength(1);
	});

	it('stops between images when cancelled', async () => {
		const controller = new AbortController();
		const asked: number[] = [];
		const base = deps(dataset(labels));
		const failure = await runBatch(params({ count: 6 }), {
			...base,
			signal: controller.signal,
			explainImage: (index) => {
				asked.push(index);
				return base.explainImage(index);
			},
			onProgress: (done) => {
				if (done === 2) controller.abort();
			}
		}).catch((error: unknown) => error);
		expect(failure).toBeInstanceOf(AppFailure);
		expect((failure as AppFailure).code).toBe('CANCELLED');
		expect(asked).toEqual([1, 2]);
	});

	it('rejects a class outside the dataset and a selection without images', async () => {
		const outside = await runBatch(params({ classIndex: 3 }), deps(dataset(labels))).catch(
			(error: unknown) => error
		);
		expect((outside as AppFailure).code).toBe('INVALID_REQUEST');
		expect((outside as AppFailure).message).toMatch(/Class 3/);
		const empty = await runBatch(
			params({ classIndex: 2 }),
			deps(dataset([0, 1, 0], ['a', 'b', 'c']))
		).catch((error: unknown) => error);
		expect((empty as AppFailure).code).toBe('INVALID_REQUEST');
		expect((empty as AppFailure).message).toMatch(/"c"/);
	});

	it('rejects maps that do not match the batch', async () => {
		const base = deps(dataset(labels));
		const wrong = runBatch(params({ count: 1 }), {
			...base,
			explainImage: async (index) => ({ ...(await base.explainImage(index)), maps: [ramp] })
		});
		await expect(wrong).rejects.toThrow(/2 maps/);
	});
});
