import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	defaultKnnKs,
	knnClassify,
	knnClassifyMany,
	type KnnResult
} from '../../../src/core/evaluation/knn';
import { Random } from '../../../src/core/generators/random';

const dim = 16;
const classes = 5;

function randomSet(count: number, seed: number) {
	const random = new Random(seed);
	return {
		features: Float32Array.from({ length: count * dim }, () => random.normal()),
		labels: Int32Array.from({ length: count }, () => random.int(classes))
	};
}

/** The rule written out with plain loops in float64: the oracle the implementation must match. */
function bruteForce(
	train: Float32Array,
	trainLabels: Int32Array,
	test: Float32Array,
	k: number,
	temperature: number
): { predicted: number[]; scores: number[][] } {
	const rows = (features: Float32Array) => {
		const out: number[][] = [];
		for (let i = 0; i < features.length / dim; i++) {
			const row = [...features.subarray(i * dim, (i + 1) * dim)];
			const norm = Math.sqrt(row.reduce((sum, v) => sum + v * v, 0));
			out.push(row.map((v) => v / norm));
		}
		return out;
	};
	const trainRows = rows(train);
	const predicted: number[] = [];
	const scores: number[][] = [];
	for (const query of rows(test)) {
		const similarities = trainRows.map((row, index) => ({
			index,
			value: row.reduce((sum, v, d) => sum + v * (query[d] as number), 0)
		}));
		similarities.sort((a, b) => b.value - a.value || a.index - b.index);
		const votes: number[] = Array.from({ length: classes }, () => 0);
		for (const { index, value } of similarities.slice(0, k)) {
			const label = trainLabels[index] as number;
			votes[label] = (votes[label] as number) + Math.exp(value / temperature);
		}
		scores.push(votes);
		predicted.push(votes.indexOf(Math.max(...votes)));
	}
	return { predicted, scores };
}

function expectMatches(result: KnnResult, reference: ReturnType<typeof bruteForce>): void {
	expect([...result.predicted]).toEqual(reference.predicted);
	reference.scores.forEach((row, i) => {
		row.forEach((score, c) => {
			const actual = result.scores[i * classes + c] as number;
			// float32 similarities: relative error of exp(s / T) is about |Δs| / T.
			expect(Math.abs(actual - score)).toBeLessThanOrEqual(1e-4 * Math.max(score, 1));
		});
	});
}

const train = randomSet(300, 1);
const test = randomSet(70, 2);

describe.each(['cpu', 'wasm'])('weighted kNN on %s', (backend) => {
	beforeAll(async () => {
		expect(await tf.setBackend(backend)).toBe(true);
	});
	afterAll(async () => {
		await tf.setBackend('cpu');
	});

	it.each([1, 5, 20])('matches the brute-force reference for k = %i', async (k) => {
		const before = tf.memory().numTensors;
		// A chunk that does not divide the test set, to cover the last partial chunk.
		const result = await knnClassify(train.features, train.labels, test.features, dim, classes, {
			k,
			chunk: 32
		});
		expect(tf.memory().numTensors).toBe(before);
		expectMatches(result, bruteForce(train.features, train.labels, test.features, k, 0.07));
	});

	it('weights votes by exp(similarity / T)', async () => {
		const warm = await knnClassify(train.features, train.labels, test.features, dim, classes, {
			k: 20,
			temperature: 0.5
		});
		expectMatches(warm, bruteForce(train.features, train.labels, test.features, 20, 0.5));
		const cold = await knnClassify(train.features, train.labels, test.features, dim, classes, {
			k: 20
		});
		// The temperature changes the votes, not only their scale.
		expect([...warm.predicted]).not.toEqual([...cold.predicted]);
	});

	it('computes several k in one pass, equal to one k at a time', async () => {
		const many = await knnClassifyMany(train.features, train.labels, test.features, dim, classes, {
			ks: [...defaultKnnKs, 3]
		});
		expect(defaultKnnKs).toEqual([20, 200]);
		for (const [index, k] of [20, 200, 3].entries()) {
			const single = await knnClassify(train.features, train.labels, test.features, dim, classes, {
				k
			});
			expect(many[index]?.scores).toEqual(single.scores);
			expect(many[index]?.predicted).toEqual(single.predicted);
		}
	});
});

describe('weighted kNN edge cases', () => {
	beforeAll(async () => {
		expect(await tf.setBackend('cpu')).toBe(true);
	});

	it('breaks similarity ties by the lower training index and score ties by the lower class', async () => {
		// Four training points in 2-d: index 1 and 2 are the same point (tie), of classes 1 and 0.
		const points = Float32Array.from([0, 1, 1, 0, 1, 0, -1, 0]);
		const labels = Int32Array.from([2, 1, 0, 2]);
		const query = Float32Array.from([2, 0]);
		const one = await knnClassify(points, labels, query, 2, 3, { k: 1 });
		expect([...one.predicted]).toEqual([1]);
		expect(one.scores[1]).toBeCloseTo(Math.exp(1 / 0.07), -1);
		expect(one.scores[0]).toBe(0);
		// k = 2 takes both tied points: classes 0 and 1 score the same, the lower class wins.
		const two = await knnClassify(points, labels, query, 2, 3, { k: 2 });
		expect(two.scores[0]).toBe(two.scores[1]);
		expect([...two.predicted]).toEqual([0]);
	});

	it('scales away the feature norms, lets a zero vector vote with similarity 0, clamps k', async () => {
		const points = Float32Array.from([10, 0, 0, 0.1, 0, 0]);
		const labels = Int32Array.from([0, 1, 2]);
		const result = await knnClassify(points, labels, Float32Array.from([0, 3]), 2, 3, {
			k: 10,
			temperature: 1
		});
		expect(result.scores[0]).toBeCloseTo(1, 6);
		expect(result.scores[1]).toBeCloseTo(Math.E, 5);
		expect(result.scores[2]).toBeCloseTo(1, 6);
		expect([...result.predicted]).toEqual([1]);
	});

	it('rejects bad input', async () => {
		const points = new Float32Array(4 * 2);
		const labels = Int32Array.from([0, 1, 0, 1]);
		const query = new Float32Array(2);
		await expect(knnClassify(points, labels, query, 2, 2, { k: 0 })).rejects.toThrow(/k must be/);
		await expect(knnClassify(points, labels, query, 2, 1, { k: 1 })).rejects.toThrow(
			/outside \[0, 1\)/
		);
		await expect(knnClassify(points, labels.subarray(1), query, 2, 2, { k: 1 })).rejects.toThrow(
			/4 training labels/
		);
		await expect(knnClassify(points, labels, new Float32Array(3), 2, 2, { k: 1 })).rejects.toThrow(
			/multiple of dim/
		);
		await expect(
			knnClassify(Float32Array.from([0, Number.NaN, 1, 1]), labels.subarray(2), query, 2, 2, {
				k: 1
			})
		).rejects.toThrow(/row 0 holds NaN/);
	});
});
