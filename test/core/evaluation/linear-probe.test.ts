import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src/core/api/errors';
import {
	milestoneEpochs,
	predictProbe,
	probeLearningRate,
	topKAccuracy,
	trainLinearProbe,
	type LinearProbe
} from '../../../src/core/evaluation/linear-probe';
import { accuracy } from '../../../src/core/evaluation/metrics';
import { Random } from '../../../src/core/generators/random';

const dim = 32;
const classes = 4;

/** Gaussian blobs: class c is centred on a random unit-scale mean, noise σ = `spread`. */
function blobs(count: number, seed: number, spread: number, means?: Float32Array) {
	const random = new Random(seed);
	const centres = means ?? Float32Array.from({ length: classes * dim }, () => 2 * random.normal());
	const features = new Float32Array(count * dim);
	const labels = new Int32Array(count);
	for (let i = 0; i < count; i++) {
		const label = random.int(classes);
		labels[i] = label;
		for (let d = 0; d < dim; d++) {
			features[i * dim + d] = (centres[label * dim + d] as number) + spread * random.normal();
		}
	}
	return { features, labels, centres };
}

function sameProbe(a: LinearProbe, b: LinearProbe): boolean {
	return (
		a.weight.every((w, i) => w === b.weight[i]) &&
		a.bias.every((w, i) => w === b.bias[i]) &&
		a.lossHistory.every((loss, i) => loss === b.lossHistory[i])
	);
}

beforeAll(async () => {
	expect(await tf.setBackend('cpu')).toBe(true);
});

describe('linear probe training', () => {
	it('separates Gaussian blobs on held-out data, without leaking tensors', async () => {
		const train = blobs(800, 1, 1.5);
		const test = blobs(1000, 2, 1.5, train.centres);
		const before = tf.memory().numTensors;
		const probe = await trainLinearProbe([train.features], train.labels, dim, classes, {
			epochs: 40,
			seed: 7
		});
		expect(tf.memory().numTensors).toBe(before);
		const { logits, predicted } = await predictProbe(probe, test.features);
		expect(tf.memory().numTensors).toBe(before);
		expect(logits).toHaveLength(1000 * classes);
		expect(accuracy(predicted, test.labels)).toBeGreaterThan(0.95);
		expect(topKAccuracy(logits, test.labels, classes, 1)).toBe(accuracy(predicted, test.labels));
		expect(probe.lossHistory).toHaveLength(40);
		expect(probe.lossHistory.at(-1)).toBeLessThan((probe.lossHistory[0] as number) / 2);
	});

	it('stays at chance on held-out data when the training labels are shuffled', async () => {
		const train = blobs(1000, 3, 1.5);
		const test = blobs(2000, 4, 1.5, train.centres);
		const shuffled = Int32Array.from(new Random(5).shuffle([...train.labels]));
		const probe = await trainLinearProbe([train.features], shuffled, dim, classes, {
			epochs: 10,
			seed: 7
		});
		const held = accuracy((await predictProbe(probe, test.features)).predicted, test.labels);
		// Shuffled labels carry no information about the features, so held-out accuracy is a
		// Binomial(2000, 1/4) fraction: within 4 standard deviations of 1/4.
		const sigma = Math.sqrt((0.25 * 0.75) / 2000);
		expect(Math.abs(held - 0.25)).toBeLessThan(4 * sigma);
		// The same probe does learn the true labels well above chance (the control is sound).
		const real = await trainLinearProbe([train.features], train.labels, dim, classes, {
			epochs: 10,
			seed: 7
		});
		expect(
			accuracy((await predictProbe(real, test.features)).predicted, test.labels)
		).toBeGreaterThan(0.9);
	});

	it('is deterministic for a seed and differs across seeds', async () => {
		const train = blobs(300, 6, 2);
		const options = { epochs: 3, batch: 64, seed: 11 };
		const first = await trainLinearProbe([train.features], train.labels, dim, classes, options);
		const again = await trainLinearProbe([train.features], train.labels, dim, classes, options);
		const other = await trainLinearProbe([train.features], train.labels, dim, classes, {
			...options,
			seed: 12
		});
		expect(sameProbe(first, again)).toBe(true);
		expect(first.weight.some((w, i) => w !== other.weight[i])).toBe(true);
	});

	it('uses PyTorch Linear init: uniform within ±1/√dim, from the seed', async () => {
		const train = blobs(10, 6, 2);
		// lr 0: the trained weights are the initial ones.
		const probe = await trainLinearProbe([train.features], train.labels, dim, classes, {
			epochs: 1,
			lr: 0,
			seed: 3
		});
		const bound = 1 / Math.sqrt(dim);
		const all = [...probe.weight, ...probe.bias];
		expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(bound);
		expect(Math.max(...all)).toBeGreaterThan(0.9 * bound);
		expect(Math.min(...all)).toBeLessThan(-0.9 * bound);
	});

	it('takes epoch e from view e mod K', async () => {
		const base = blobs(200, 8, 2);
		const shifted = Float32Array.from(base.features, (v, i) => v + 0.5 * Math.sin(i));
		const options = { epochs: 4, batch: 32, seed: 5 };
		const single = await trainLinearProbe([base.features], base.labels, dim, classes, options);
		const twoViews = await trainLinearProbe(
			[base.features, shifted],
			base.labels,
			dim,
			classes,
			options
		);
		const twoSame = await trainLinearProbe(
			[base.features, base.features],
			base.labels,
			dim,
			classes,
			options
		);
		// Epoch 0 reads view 0 in both runs; epoch 1 reads the shifted view in the two-view run.
		expect(twoViews.lossHistory[0]).toBe(single.lossHistory[0]);
		expect(twoViews.lossHistory[1]).not.toBe(single.lossHistory[1]);
		expect(twoViews.weight.some((w, i) => w !== single.weight[i])).toBe(true);
		// Two copies of the same view are plain training on fixed features.
		expect(sameProbe(twoSame, single)).toBe(true);
		// Epoch 2 is back on view 0, as in a three-view run [base, shifted, base].
		const threeViews = await trainLinearProbe(
			[base.features, shifted, base.features],
			base.labels,
			dim,
			classes,
			{ ...options, epochs: 3 }
		);
		const twoViewsShort = await trainLinearProbe(
			[base.features, shifted],
			base.labels,
			dim,
			classes,
			{ ...options, epochs: 3 }
		);
		expect(sameProbe(threeViews, twoViewsShort)).toBe(true);
	});

	it('applies the step decay at 60% and 80% of the epochs', async () => {
		expect(milestoneEpochs(100)).toEqual([60, 80]);
		expect(milestoneEpochs(10)).toEqual([6, 8]);
		expect(probeLearningRate(59, 100)).toBeCloseTo(1e-3, 12);
		expect(probeLearningRate(60, 100)).toBeCloseTo(2e-4, 12);
		expect(probeLearningRate(79, 100)).toBeCloseTo(2e-4, 12);
		expect(probeLearningRate(80, 100)).toBeCloseTo(4e-5, 12);
		expect(probeLearningRate(99, 100)).toBeCloseTo(4e-5, 12);
		expect(probeLearningRate(5, 10, { lr: 0.1, milestones: [0.5], decay: 0.1 })).toBeCloseTo(0.01);

		// In training: with decay 1 the run is identical before the first milestone (epoch 3 of
		// 5) and different from it on.
		const train = blobs(200, 9, 2);
		const options = { epochs: 5, batch: 50, seed: 2, lr: 0.01 };
		const decayed = await trainLinearProbe([train.features], train.labels, dim, classes, options);
		const flat = await trainLinearProbe([train.features], train.labels, dim, classes, {
			...options,
			decay: 1
		});
		expect(decayed.lossHistory.slice(0, 3)).toEqual(flat.lossHistory.slice(0, 3));
		expect(decayed.lossHistory[3]).not.toBe(flat.lossHistory[3]);
		// And a run whose milestones fall at epoch 0 trains with lr × 0.04 from the start, which is
		// the same as lr × 0.04 without milestones.
		const scaled = await trainLinearProbe([train.features], train.labels, dim, classes, {
			...options,
			milestones: [0, 0]
		});
		const direct = await trainLinearProbe([train.features], train.labels, dim, classes, {
			...options,
			lr: options.lr * 0.2 * 0.2,
			milestones: []
		});
		expect(scaled.lossHistory).toEqual(direct.lossHistory);
	});

	it('reports each epoch and stops when cancelled', async () => {
		const train = blobs(100, 10, 2);
		const seen: number[] = [];
		const signal = { aborted: false };
		const before = tf.memory().numTensors;
		const run = trainLinearProbe([train.features], train.labels, dim, classes, {
			epochs: 50,
			seed: 1,
			signal,
			onEpoch: (epoch, loss) => {
				seen.push(epoch);
				expect(loss).toBeGreaterThan(0);
				if (epoch === 2) signal.aborted = true;
			}
		});
		await expect(run).rejects.toSatisfy(
			(error) => error instanceof AppFailure && error.code === 'CANCELLED'
		);
		expect(seen).toEqual([0, 1, 2]);
		expect(tf.memory().numTensors).toBe(before);
	});

	it('rejects inputs of the wrong shape', async () => {
		const features = new Float32Array(10 * dim);
		const labels = new Int32Array(10);
		await expect(
			trainLinearProbe([], labels, dim, classes, { epochs: 1, seed: 1 })
		).rejects.toThrow(/at least one view/);
		await expect(
			trainLinearProbe([features, new Float32Array(dim)], labels, dim, classes, {
				epochs: 1,
				seed: 1
			})
		).rejects.toThrow(/view 1/);
		await expect(
			trainLinearProbe([features], new Int32Array(9), dim, classes, { epochs: 1, seed: 1 })
		).rejects.toThrow(/10 labels/);
		await expect(
			trainLinearProbe([features], labels.fill(4), dim, classes, { epochs: 1, seed: 1 })
		).rejects.toThrow(/outside \[0, 4\)/);
		await expect(
			trainLinearProbe([new Float32Array(33)], labels, dim, classes, { epochs: 1, seed: 1 })
		).rejects.toThrow(/multiple of dim/);
	});
});

describe('linear probe on the wasm backend', () => {
	beforeAll(async () => {
		expect(await tf.setBackend('wasm')).toBe(true);
	});
	afterAll(async () => {
		await tf.setBackend('cpu');
	});

	it('trains to the same probe as on cpu, up to float rounding, and is deterministic', async () => {
		const train = blobs(300, 12, 1.5);
		const options = { epochs: 4, batch: 64, seed: 4 };
		const before = tf.memory().numTensors;
		const first = await trainLinearProbe([train.features], train.labels, dim, classes, options);
		const again = await trainLinearProbe([train.features], train.labels, dim, classes, options);
		expect(tf.memory().numTensors).toBe(before);
		expect(sameProbe(first, again)).toBe(true);
		await tf.setBackend('cpu');
		const onCpu = await trainLinearProbe([train.features], train.labels, dim, classes, options);
		await tf.setBackend('wasm');
		first.lossHistory.forEach((loss, i) => expect(loss).toBeCloseTo(onCpu.lossHistory[i] ?? 0, 4));
		const maxDifference = Math.max(
			...first.weight.map((w, i) => Math.abs(w - (onCpu.weight[i] ?? 0)))
		);
		expect(maxDifference).toBeLessThan(1e-3);
	});
});

describe('topKAccuracy', () => {
	// Three samples, three classes.
	const logits = Float32Array.from([
		// label 0: best → top-1
		3, 1, 2,
		// label 2: second best → top-2
		1, 3, 2,
		// label 1: tied with class 0 for best; the lower index ranks first → top-2, not top-1
		5, 5, 0
	]);
	const labels = Int32Array.from([0, 2, 1]);

	it('counts a label within the k best', () => {
		expect(topKAccuracy(logits, labels, 3, 1)).toBeCloseTo(1 / 3);
		expect(topKAccuracy(logits, labels, 3, 2)).toBe(1);
		expect(topKAccuracy(logits, labels, 3, 3)).toBe(1);
		expect(topKAccuracy(logits, labels, 3, 5)).toBe(1);
	});

	it('breaks ties towards the lower class, counts NaN as wrong, and scores an empty set 0', () => {
		expect(topKAccuracy(Float32Array.from([1, 1]), Int32Array.from([0]), 2, 1)).toBe(1);
		expect(topKAccuracy(Float32Array.from([1, 1]), Int32Array.from([1]), 2, 1)).toBe(0);
		expect(topKAccuracy(Float32Array.from([Number.NaN, 0]), Int32Array.from([0]), 2, 2)).toBe(0);
		expect(topKAccuracy(new Float32Array(0), new Int32Array(0), 2, 1)).toBe(0);
		expect(() => topKAccuracy(logits, labels, 3, 0)).toThrow(RangeError);
		expect(() => topKAccuracy(logits, Int32Array.from([0, 1]), 3, 1)).toThrow(/3 labels/);
	});
});
