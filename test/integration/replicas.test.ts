import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { trainConfigSchema, type TrainConfigInput } from '../../src/core/training/config';
import { ContrastiveTrainer, type TensorData } from '../../src/core/training/trainer';
import { registerWasmKernelPack } from '../../src/main/compute/kernels';
import { registerAllGradients } from '../../src/main/compute/kernels/register-gradients';
import { DataParallelTrainer } from '../../src/main/training/data-parallel';
import { pairBatch } from '../support/pair-batch';
import { distDir, fixtureWorkersDir } from '../support/paths';

const threadFile = path.join(distDir, 'workers', 'train-replica.cjs');
const failingThreadFile = path.join(fixtureWorkersDir, 'failing-replica.cjs');

function config(overrides: Partial<TrainConfigInput> = {}) {
	return trainConfigSchema.parse({
		source: { kind: 'folder', path: '/unused' },
		model: 'tiny',
		steps: 100,
		batch: 6,
		...overrides
	});
}

const started: DataParallelTrainer[] = [];
const trainers: ContrastiveTrainer[] = [];

function trainer(settings: ReturnType<typeof config>): ContrastiveTrainer {
	const created = ContrastiveTrainer.create(settings);
	trainers.push(created);
	return created;
}

async function parallel(
	leader: ContrastiveTrainer,
	settings: ReturnType<typeof config>,
	replicas: number
): Promise<DataParallelTrainer> {
	const created = await DataParallelTrainer.start({
		trainer: leader,
		config: settings,
		replicas,
		threadFile
	});
	started.push(created);
	return created;
}

/** The entry whose largest |a − b| is largest relative to its largest magnitude (at least 1e-3). */
function largestRelativeDifference(
	a: Record<string, TensorData>,
	b: Record<string, TensorData>
): { name: string; difference: number } {
	expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
	let worst = { name: '', difference: 0 };
	for (const [name, entry] of Object.entries(a)) {
		const other = (b[name] as TensorData).data;
		let scale = 1e-3;
		let difference = 0;
		for (let i = 0; i < entry.data.length; i++) {
			scale = Math.max(scale, Math.abs(entry.data[i] as number));
			difference = Math.max(difference, Math.abs((entry.data[i] as number) - (other[i] as number)));
		}
		if (difference / scale > worst.difference) worst = { name, difference: difference / scale };
	}
	return worst;
}

beforeAll(async () => {
	registerAllGradients();
	registerWasmKernelPack();
	expect(await tf.setBackend('wasm')).toBe(true);
});

afterEach(async () => {
	await Promise.all(started.splice(0).map((each) => each.close()));
	for (const each of trainers.splice(0)) each.dispose();
});

describe('data-parallel replicas (tiny, wasm)', () => {
	// Each step starts both trainers from the same state (the single trainer's), so what is
	// compared is the step itself, from states with and without optimiser history; Adam from
	// its second step, since its first update is lr·sign(g), which rounding flips for gradients
	// that cancel to ~0. Over a run the two drift apart as any two summation orders do: an
	// activation within rounding of a ReLU or max-pool kink takes the other branch in one of
	// them and changes that unit's gradient outright (as between PyTorch's DataParallel and one
	// GPU). This fixed data has none; wasm arithmetic gives the same bits on every x86 machine.
	for (const [label, overrides, replicas, firstStep] of [
		['SGD with momentum, BN per view, 2 replicas', { optimizer: 'sgd' }, 2, 0],
		[
			'Adam, BN over both views, 3 replicas of uneven shards',
			{ optimizer: 'adam', bnPerView: false, batch: 7 },
			3,
			1
		]
	] as const) {
		it(`equals one replica's step (weights, BN buffers, optimiser state): ${label}`, async () => {
			const settings = config(overrides);
			const single = trainer(settings);
			const leader = trainer(settings);
			const replicated = await parallel(leader, settings, replicas);
			for (let step = 0; step < firstStep; step++) {
				await single.step(pairBatch(step + 1, settings.batch, 32), step);
			}
			for (let step = firstStep; step < firstStep + 3; step++) {
				leader.restore(await single.snapshot());
				replicated.publishWeights();
				const views = pairBatch(step + 1, settings.batch, 32);
				const expected = await single.step(views, step);
				const metrics = await replicated.step(views, step);
				expect(metrics.lr).toBe(expected.lr);
				for (const key of ['loss', 'align', 'uniform'] as const) {
					expect(Math.abs(metrics[key] - expected[key])).toBeLessThan(1e-5);
				}
				const worst = largestRelativeDifference(await single.snapshot(), await leader.snapshot());
				expect(worst.difference, `${worst.name} after step ${step}`).toBeLessThan(1e-4);
			}
		}, 120_000);
	}

	it('is deterministic: the same replicas from the same state give the same bits', async () => {
		const settings = config({ optimizer: 'sgd', seed: 5 });
		const first = trainer(settings);
		const second = trainer(settings);
		const a = await parallel(first, settings, 2);
		const b = await parallel(second, settings, 2);
		for (let step = 0; step < 2; step++) {
			const views = pairBatch(step + 1, settings.batch, 32);
			expect(await b.step(views, step)).toEqual(await a.step(views, step));
		}
		const bytes = (data: Float32Array) =>
			Buffer.from(data.buffer, data.byteOffset, data.byteLength);
		const left = await first.snapshot();
		const right = await second.snapshot();
		for (const [name, entry] of Object.entries(left)) {
			expect(bytes(entry.data).equals(bytes((right[name] as TensorData).data)), name).toBe(true);
		}
	}, 120_000);

	it('fails a step with WORKER_CRASHED when a replica dies, instead of waiting for it', async () => {
		const settings = config();
		const replicated = await DataParallelTrainer.start({
			trainer: trainer(settings),
			config: settings,
			replicas: 2,
			threadFile: failingThreadFile
		});
		started.push(replicated);
		await replicated.step(pairBatch(1, settings.batch, 32), 0);
		const failure = await replicated.step(pairBatch(2, settings.batch, 32), 1).then(
			() => null,
			(error: unknown) => error
		);
		expect(failure).toBeInstanceOf(AppFailure);
		expect((failure as AppFailure).code).toBe('WORKER_CRASHED');
		expect((failure as AppFailure).message).toBe('The training replica 1 stopped (exit code 9).');
		await expect(replicated.step(pairBatch(3, settings.batch, 32), 2)).rejects.toBe(failure);
	}, 120_000);

	it("reports a failing replica's own error, not the stop it caused in the others", async () => {
		const settings = config();
		const replicated = await DataParallelTrainer.start({
			trainer: trainer(settings),
			config: settings,
			replicas: 2,
			threadFile: failingThreadFile
		});
		started.push(replicated);
		await replicated.step(pairBatch(1, settings.batch, 32), 0);
		await expect(replicated.step(pairBatch(2, settings.batch, 32), 2)).rejects.toThrow(
			'Cannot enlarge memory arrays (simulated)'
		);
	}, 120_000);
});
