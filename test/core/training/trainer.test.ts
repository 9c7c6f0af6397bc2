import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/core/training/checkpoint';
import { trainConfigSchema, type TrainConfigInput } from '../../../src/core/training/config';
import { ContrastiveTrainer } from '../../../src/core/training/trainer';
import { registerAllGradients } from '../../../src/main/compute/kernels/register-gradients';
import { registerWasmConvBackprop } from '../../../src/main/compute/kernels/wasm-conv-backprop';

const batch = 6;
const size = 32;

function config(overrides: Partial<TrainConfigInput> = {}) {
	return trainConfigSchema.parse({
		source: { kind: 'folder', path: '/unused' },
		model: 'tiny',
		steps: 1000,
		batch,
		...overrides
	});
}

/**
 * A fixed batch of positive pairs: `batch` smooth random images (the first views) and the same
 * images with a little noise and a one-pixel shift (the second views).
 */
function pairBatch(seed: number): Float32Array {
	const imageFloats = size * size * 3;
	const views = new Float32Array(2 * batch * imageFloats);
	let state = seed;
	const next = () => {
		state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
		return state / 2 ** 31 - 1;
	};
	for (let image = 0; image < batch; image++) {
		const freq = [next() * 0.4, next() * 0.4, next() * 0.4, next() * 0.4];
		for (let y = 0; y < size; y++) {
			for (let x = 0; x < size; x++) {
				for (let c = 0; c < 3; c++) {
					const value = (phase: number) =>
						Math.sin((freq[0] ?? 0) * (x + phase) + (freq[1] ?? 0) * y + c) +
						Math.cos((freq[2] ?? 0) * y - (freq[3] ?? 0) * (x + phase) * c);
					const offset = (y * size + x) * 3 + c;
					views[image * imageFloats + offset] = value(0);
					views[(batch + image) * imageFloats + offset] = value(1) + 0.1 * next();
				}
			}
		}
	}
	return views;
}

async function weightsOf(trainer: ContrastiveTrainer): Promise<Float32Array[]> {
	return Promise.all(
		[...trainer.model.trainable.values()].map(async (v) => new Float32Array(await v.data()))
	);
}

beforeAll(async () => {
	registerAllGradients();
	registerWasmConvBackprop();
	expect(await tf.setBackend('wasm')).toBe(true);
});

afterAll(async () => {
	await tf.setBackend('cpu');
});

describe('ContrastiveTrainer (wasm, tiny)', () => {
	it('lowers the loss on a fixed batch of pairs, without leaking tensors', async () => {
		const trainer = ContrastiveTrainer.create(config({ lr: 0.05 }));
		expect(trainer.inputSize).toBe(32);
		const views = pairBatch(1);
		const first = await trainer.step(views, 0);
		const tensorsAfterWarmUp = tf.memory().numTensors;
		const losses = [first.loss];
		for (let step = 1; step < 30; step++) {
			const metrics = await trainer.step(views, step);
			expect(metrics.loss).toBeCloseTo(metrics.align + metrics.uniform, 4);
			expect(metrics.lr).toBe(0.05);
			losses.push(metrics.loss);
			expect(tf.memory().numTensors).toBe(tensorsAfterWarmUp);
		}
		const lastFive = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
		expect(lastFive).toBeLessThan(first.loss - 0.2);
		trainer.dispose();
	}, 60_000);

	it('resumes bit-identically from snapshot → encode → decode → restore', async () => {
		const settings = config({ optimizer: 'sgd', seed: 7 });
		const original = ContrastiveTrainer.create(settings);
		const views = pairBatch(2);
		for (let step = 0; step < 3; step++) await original.step(views, step);
		const bytes = encodeCheckpoint({ meta: { step: 3 }, tensors: await original.snapshot() });
		const expected = await original.step(views, 3);
		const expectedWeights = await weightsOf(original);
		original.dispose();

		const resumed = ContrastiveTrainer.create(settings);
		const decoded = decodeCheckpoint(bytes);
		expect(decoded.meta).toEqual({ step: 3 });
		expect(Object.keys(decoded.tensors)).toContain('optimizer/momentum/fc6/kernel');
		expect(Object.keys(decoded.tensors)).toContain('conv1/bn/running_var');
		resumed.restore(decoded.tensors);
		expect(await resumed.step(views, 3)).toEqual(expected);
		expect(await weightsOf(resumed)).toEqual(expectedWeights);
		resumed.dispose();
	}, 60_000);

	it('rejects views of the wrong size and checkpoints of another shape', async () => {
		const trainer = ContrastiveTrainer.create(config({ optimizer: 'adam' }));
		await expect(trainer.step(new Float32Array(10), 0)).rejects.toThrow(/2·6 views of 32×32×3/);
		const snapshot = await trainer.snapshot();
		const missing = { ...snapshot };
		delete missing['fc8/bias'];
		expect(() => trainer.restore(missing)).toThrow(/lacks 'fc8\/bias'/);
		expect(() =>
			trainer.restore({ ...snapshot, 'fc8/bias': { shape: [64], data: new Float32Array(64) } })
		).toThrow(/'fc8\/bias' has shape \[64\].*expected \[128\]/);
		expect(() =>
			trainer.restore({ ...snapshot, 'fc9/kernel': { shape: [1], data: new Float32Array(1) } })
		).toThrow(/'fc9\/kernel'/);
		trainer.dispose();
	});
});
