import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	denseMatMul,
	featureMapSizes,
	modelPresets,
	parameterCount,
	SmallAlexNet
} from '../../../src/core/training/model';
import { registerAllGradients } from '../../../src/main/compute/kernels/register-gradients';

/** A small encoder with the same code path: 16 px input gives maps of 7, 3, 3, 3, 1. */
const micro = { inputSize: 16, channels: [4, 6, 8, 8, 5], fcWidth: 12, embeddingDim: 6 } as const;

function images(count: number, size: number, seed: number): tf.Tensor4D {
	const values = new Float32Array(count * size * size * 3);
	let state = seed;
	for (let i = 0; i < values.length; i++) {
		state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
		values[i] = state / 2 ** 31 - 1;
	}
	return tf.tensor4d(values, [count, size, size, 3]);
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
	return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] ?? Number.NaN);
}

let model: SmallAlexNet;

beforeAll(async () => {
	registerAllGradients();
	await tf.setBackend('cpu');
	model = SmallAlexNet.create(micro, 3);
});

afterAll(() => model.dispose());

describe('SmallAlexNet shapes', () => {
	it('has the paper’s 58,678,368 parameters (§3.2 shapes)', () => {
		const conv = 3 * 3 * (3 * 96 + 96 * 192 + 192 * 384 + 384 * 384 + 384 * 192);
		const convBn = 2 * (96 + 192 + 384 + 384 + 192);
		const fc = 7 * 7 * 192 * 4096 + 4096 * 4096 + 4096 * 128 + 128;
		const fcBn = 2 * (4096 + 4096);
		expect(conv + convBn + fc + fcBn).toBe(58_678_368);
		expect(parameterCount(modelPresets.alexnet)).toBe(58_678_368);
	});

	it('shrinks the maps to 31, 15, 15, 15, 7 at 64 px and 15, 7, 7, 7, 3 at 32 px', () => {
		expect(featureMapSizes(modelPresets.alexnet)).toEqual([31, 15, 15, 15, 7]);
		expect(featureMapSizes(modelPresets.small)).toEqual([31, 15, 15, 15, 7]);
		expect(featureMapSizes(modelPresets.tiny)).toEqual([15, 7, 7, 7, 3]);
		expect(() => featureMapSizes({ ...modelPresets.tiny, inputSize: 14 })).toThrow(
			/at least 15 px/
		);
	});

	it('creates variables whose sizes sum to parameterCount (tiny and alexnet)', () => {
		for (const preset of [modelPresets.tiny, modelPresets.alexnet]) {
			const created = SmallAlexNet.create(preset, 0);
			const total = [...created.trainable.values()].reduce((sum, v) => sum + v.size, 0);
			expect(total).toBe(parameterCount(preset));
			const side = featureMapSizes(preset)[4];
			expect(created.trainable.get('fc6/kernel')?.shape).toEqual([
				side * side * preset.channels[4],
				preset.fcWidth
			]);
			expect(created.buffers.get('fc7/bn/running_var')?.shape).toEqual([preset.fcWidth]);
			created.dispose();
		}
	}, 30_000);

	it('draws N(0, 0.02²) weights from the seed alone, BN γ = 1, β = 0', () => {
		const again = SmallAlexNet.create(micro, 3);
		const other = SmallAlexNet.create(micro, 4);
		const kernel = model.trainable.get('fc6/kernel') as tf.Variable;
		expect(maxDifference(kernel, again.trainable.get('fc6/kernel') as tf.Variable)).toBe(0);
		expect(maxDifference(kernel, other.trainable.get('fc6/kernel') as tf.Variable)).toBeGreaterThan(
			0
		);
		const big = SmallAlexNet.create(modelPresets.tiny, 1);
		const std = tf.tidy(() =>
			Math.sqrt(
				tf.moments(big.trainable.get('fc7/kernel') as tf.Tensor).variance.dataSync()[0] ?? 0
			)
		);
		expect(std).toBeCloseTo(0.02, 3);
		expect([...(big.trainable.get('conv3/bn/gamma')?.dataSync() ?? [])].every((v) => v === 1)).toBe(
			true
		);
		expect([...(big.trainable.get('fc8/bias')?.dataSync() ?? [])].every((v) => v === 0)).toBe(true);
		for (const m of [again, other, big]) m.dispose();
	});
});

describe('SmallAlexNet forward', () => {
	it('outputs unit-norm embeddings in both modes, and pooled features per layer', () => {
		const x = images(6, 16, 1);
		for (const training of [true, false]) {
			const norms = tf.tidy(() => tf.norm(model.forward(x, { training }), 2, 1).dataSync());
			for (const norm of norms) expect(norm).toBeCloseTo(1, 5);
		}
		model.commitRunningStatistics();
		expect(tf.tidy(() => model.forward(x, { training: false, layer: 'conv5' }).shape)).toEqual([
			6, 5
		]);
		expect(tf.tidy(() => model.forward(x, { training: false, layer: 'fc6' }).shape)).toEqual([
			6, 12
		]);
		x.dispose();
	});

	it('with groups: 2 equals forwarding each half on its own (BN per view)', () => {
		const x = images(8, 16, 2);
		const [first, second] = tf.split(x, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
		const grouped = model.forward(x, { training: true, groups: 2 });
		const separate = tf.concat([
			model.forward(first, { training: true }),
			model.forward(second, { training: true })
		]);
		const pooled = model.forward(x, { training: true, groups: 1 });
		expect(maxDifference(grouped, separate)).toBeLessThan(1e-5);
		// Sanity: the grouping matters, so the comparison above is not vacuous.
		expect(maxDifference(grouped, pooled)).toBeGreaterThan(1e-3);
		model.commitRunningStatistics();
		tf.dispose([x, first, second, grouped, separate, pooled]);
	});

	it('updates running statistics from the first group only, and uses them in eval mode', () => {
		const fresh = SmallAlexNet.create(micro, 5);
		const x = images(8, 16, 3);
		tf.tidy(() => fresh.forward(x, { training: true, groups: 2 }));
		fresh.commitRunningStatistics();
		const kernel = fresh.trainable.get('conv1/kernel') as tf.Tensor4D;
		const firstHalf = tf.slice(x, [0, 0, 0, 0], [4, 16, 16, 3]);
		const conv = tf.conv2d(firstHalf, kernel, 1, 'same');
		const { mean, variance } = tf.moments(conv, [0, 1, 2]);
		const n = 4 * 16 * 16;
		const expectedMean = tf.mul(mean, 0.1);
		const expectedVar = tf.add(0.9, tf.mul(variance, (0.1 * n) / (n - 1)));
		expect(
			maxDifference(fresh.buffers.get('conv1/bn/running_mean') as tf.Tensor, expectedMean)
		).toBeLessThan(1e-6);
		expect(
			maxDifference(fresh.buffers.get('conv1/bn/running_var') as tf.Tensor, expectedVar)
		).toBeLessThan(1e-6);

		// Eval: conv → (x − running mean)/√(running var + ε) → ReLU → max pool → spatial mean.
		const manual = tf.tidy(() =>
			tf.mean(
				tf.maxPool(
					tf.relu(
						tf.div(
							tf.sub(tf.conv2d(x, kernel, 1, 'same'), expectedMean),
							tf.sqrt(tf.add(expectedVar, 1e-5))
						)
					),
					3,
					2,
					'valid'
				),
				[1, 2]
			)
		);
		const evaluated = fresh.forward(x, { training: false, layer: 'conv1' });
		expect(maxDifference(evaluated, manual)).toBeLessThan(1e-5);
		// Eval output of an image does not depend on the rest of the batch.
		const single = fresh.forward(tf.slice(x, [5, 0, 0, 0], [1, 16, 16, 3]), { training: false });
		const batched = tf.slice(fresh.forward(x, { training: false }), [5, 0], [1, 6]);
		expect(maxDifference(single, batched)).toBeLessThan(1e-6);
		tf.dispose([
			x,
			firstHalf,
			conv,
			mean,
			variance,
			expectedMean,
			expectedVar,
			manual,
			evaluated,
			single,
			batched
		]);
		fresh.dispose();
	});

	it('back-propagates through per-group batch norm exactly as the textbook formula', () => {
		const x = images(6, 16, 4);
		const weights = tf.randomUniform([6, 6], -1, 1, 'float32', 9);
		const names = [
			'conv1/kernel',
			'conv1/bn/gamma',
			'conv1/bn/beta',
			'fc6/kernel',
			'fc7/bn/gamma',
			'fc8/bias'
		];
		const variables = names.map((name) => model.trainable.get(name) as tf.Variable);
		const reference = (input: tf.Tensor4D) => {
			// Independent implementation: tf.moments per half, normalise, affine; plain MatMul.
			const norm = (h: tf.Tensor, layer: string, axes: number[]) => {
				const halves = tf.split(h, 2, 0).map((part) => {
					const { mean, variance } = tf.moments(part, axes, true);
					return tf.div(tf.sub(part, mean), tf.sqrt(tf.add(variance, 1e-5)));
				});
				const p = (n: string) => model.trainable.get(`${layer}/bn/${n}`) as tf.Tensor;
				return tf.add(tf.mul(tf.concat(halves, 0), p('gamma')), p('beta'));
			};
			let h: tf.Tensor4D = input;
			for (const [i, layer] of ['conv1', 'conv2', 'conv3', 'conv4', 'conv5'].entries()) {
				h = tf.relu(
					norm(
						tf.conv2d(h, model.trainable.get(`${layer}/kernel`) as tf.Tensor4D, 1, 'same'),
						layer,
						[0, 1, 2]
					)
				) as tf.Tensor4D;
				if (i === 0 || i === 1 || i === 4) h = tf.maxPool(h, 3, 2, 'valid');
			}
			let f: tf.Tensor2D = tf.reshape(h, [6, -1]);
			for (const layer of ['fc6', 'fc7']) {
				f = tf.relu(
					norm(tf.matMul(f, model.trainable.get(`${layer}/kernel`) as tf.Tensor2D), layer, [0])
				) as tf.Tensor2D;
			}
			const e = tf.add(
				tf.matMul(f, model.trainable.get('fc8/kernel') as tf.Tensor2D),
				model.trainable.get('fc8/bias') as tf.Tensor
			);
			return tf.div(e, tf.norm(e, 2, 1, true));
		};
		const ours = tf.variableGrads(
			() => tf.sum(tf.mul(model.forward(x, { training: true, groups: 2 }), weights)),
			variables
		);
		model.commitRunningStatistics();
		const theirs = tf.variableGrads(() => tf.sum(tf.mul(reference(x), weights)), variables);
		expect(maxDifference(ours.value, theirs.value)).toBeLessThan(1e-5);
		for (const variable of variables) {
			const a = ours.grads[variable.name] as tf.Tensor;
			const b = theirs.grads[variable.name] as tf.Tensor;
			const scale = tf.tidy(() => tf.max(tf.abs(b)).dataSync()[0] ?? 0);
			expect(scale).toBeGreaterThan(0);
			expect(maxDifference(a, b) / scale).toBeLessThan(1e-3);
		}
		tf.dispose([
			x,
			weights,
			ours.value,
			theirs.value,
			...Object.values(ours.grads),
			...Object.values(theirs.grads)
		]);
	});

	it('denseMatMul has the gradients of a plain matrix product', () => {
		const a = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
		const b = tf.randomNormal([4, 2], 0, 1, 'float32', 2);
		const f = (g: typeof denseMatMul) =>
			tf.grads((p: tf.Tensor, q: tf.Tensor) =>
				tf.sum(tf.sin(g(p as tf.Tensor2D, q as tf.Tensor2D)))
			)([a, b]);
		const [da, db] = f(denseMatMul);
		const [ra, rb] = f((p, q) => tf.matMul(p, q));
		expect(maxDifference(da as tf.Tensor, ra as tf.Tensor)).toBeLessThan(1e-6);
		expect(maxDifference(db as tf.Tensor, rb as tf.Tensor)).toBeLessThan(1e-6);
		tf.dispose([a, b, da as tf.Tensor, db as tf.Tensor, ra as tf.Tensor, rb as tf.Tensor]);
	});

	it('rejects inputs of the wrong size and groups that do not divide the batch', () => {
		const x = images(6, 16, 5);
		expect(() => model.forward(x, { training: true, groups: 4 })).toThrow(/groups must divide/);
		const wrong = images(2, 18, 6);
		expect(() => model.forward(wrong, { training: false })).toThrow(/expects \[N, 16, 16, 3\]/);
		tf.dispose([x, wrong]);
	});
});
