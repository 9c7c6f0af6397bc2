import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/core/training/checkpoint';
import { trainConfigSchema, type TrainConfigInput } from '../../../src/core/training/config';
import { ContrastiveTrainer } from '../../../src/core/training/trainer';
import { registerAllGradients } from '../../../src/main/compute/kernels/register-gradients';
import { registerWasmConvBackprop } from '../../../src/main/compute/kernels/wasm-conv-backprop';
import { pairBatch as fixedPairBatch } from '../../support/pair-batch';

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

function pairBatch(seed: number): Float32Array {
	return fixedPairBatch(seed, batch, size);
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
