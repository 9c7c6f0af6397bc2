/**
 * Which training batch fits a WebGPU adapter. A shader binds each tensor as one storage buffer,
 * so a batch fails when its largest tensor outgrows `maxStorageBufferBindingSize` (128 MiB on
 * many adapters) or `maxBufferSize`, and when the step outgrows the GPU's memory. tfjs does not
 * check either: the kernels then compute garbage. So a session checks its batch before the
 * first step, and a step that ran out of memory is followed by a probe for the batch that fits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AppFailure } from '../../core/api/errors';
import { describeAdapter, type GpuAdapter } from '../../core/compute/backends';
import type { TrainConfig } from '../../core/training/config';
import {
	activationBytesPerPair,
	largestWeightBytes,
	modelPresets
} from '../../core/training/encoder-spec';
import { ContrastiveTrainer } from '../../core/training/trainer';
import { takeGpuTrouble } from '../compute/webgpu';

/** The smallest batch a run may have (the config schema's minimum). */
const smallestBatch = 4;

/** The largest tensor a step may create on this adapter, in bytes. */
function bindingLimit(adapter: GpuAdapter): number {
	return Math.min(adapter.limits.maxStorageBufferBindingSize, adapter.limits.maxBufferSize);
}

/** Per-kernel output sizes of one step at `batch`, and the step's peak bytes, measured. */
async function stepFootprint(
	config: TrainConfig,
	batch: number
): Promise<{ outputs: number[]; peakBytes: number }> {
	const trainer = ContrastiveTrainer.create({ ...config, batch });
	try {
		const size = trainer.inputSize;
		const views = new Float32Array(2 * batch * size * size * 3);
		const info = await tf.profile(async () => {
			await trainer.step(views, 0);
		});
		return {
			outputs: info.kernels.map((kernel) =>
				kernel.outputShapes.reduce(
					(largest, shape) => Math.max(largest, 4 * (shape ?? []).reduce((a, b) => a * b, 1)),
					0
				)
			),
			peakBytes: info.peakBytes
		};
	} finally {
		trainer.dispose();
	}
}

/**
 * The largest batch whose every tensor fits the adapter's buffer limits, measured: two steps at
 * small batches give each kernel output's size as a linear function of the batch. Returns 0
 * when even the smallest batch does not fit (the weights alone are too large).
 */
export async function largestBatchWithinLimits(
	config: TrainConfig,
	adapter: GpuAdapter
): Promise<number> {
	const limit = bindingLimit(adapter);
	const small = await stepFootprint(config, smallestBatch);
	const large = await stepFootprint(config, 2 * smallestBatch);
	if (small.outputs.some((bytes) => bytes > limit)) return 0;
	let fits = Number.POSITIVE_INFINITY;
	if (small.outputs.length === large.outputs.length) {
		for (const [index, bytes] of small.outputs.entries()) {
			const perPair = ((large.outputs[index] as number) - bytes) / smallestBatch;
			if (perPair > 0) {
				fits = Math.min(fits, smallestBatch + Math.floor((limit - bytes) / perPair));
			}
		}
	} else {
		// The kernel sequence changed with the batch; bound the largest tensor instead.
		const largest = (outputs: number[]) => Math.max(...outputs);
		const perPair = (largest(large.outputs) - largest(small.outputs)) / smallestBatch;
		if (perPair > 0) {
			fits = smallestBatch + Math.floor((limit - largest(small.outputs)) / perPair);
		}
	}
	return Number.isFinite(fits) ? fits : Number.MAX_SAFE_INTEGER;
}

/** "The largest batch that fits is N." or why none does, for an error message. */
function fitAdvice(config: TrainConfig, fits: number): string {
	if (fits < smallestBatch) {
		return `No batch of ${config.model} fits this adapter (its largest weight alone needs ${mebibytes(largestWeightBytes(modelPresets[config.model]))}, and a batch of ${smallestBatch} more). Use a smaller model preset or another backend.`;
	}
	return `The largest batch of ${config.model} that fits is ${fits}; use that or less.`;
}

function mebibytes(bytes: number): string {
	return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Refuses, before the first step, a batch whose tensors the adapter cannot bind, naming the
 * largest batch that fits. The measured probe (two short steps) runs only when a cheap estimate
 * comes within half of the limit, so ordinary batches start at once.
 */
export async function checkBatchFits(config: TrainConfig, adapter: GpuAdapter): Promise<void> {
	const spec = modelPresets[config.model];
	const limit = bindingLimit(adapter);
	const estimate = Math.max(config.batch * activationBytesPerPair(spec), largestWeightBytes(spec));
	if (estimate < limit / 2) return;
	const fits = await largestBatchWithinLimits(config, adapter);
	takeGpuTrouble();
	if (config.batch <= fits) return;
	throw new AppFailure(
		'OUT_OF_MEMORY',
		`A training step of ${config.model} at batch ${config.batch} needs GPU buffers larger than ${describeAdapter(adapter)} allows (${mebibytes(limit)} per tensor). ${fitAdvice(config, fits)}`
	);
}

/**
 * After a step ran out of GPU memory at `failedBatch`: the largest batch below it whose step
 * runs without a GPU error, probed by halving and then bisecting (a handful of steps), within
 * the adapter's limits. Returns advice for the error message.
 */
export async function probeBatchAfterOutOfMemory(
	config: TrainConfig,
	adapter: GpuAdapter,
	failedBatch: number
): Promise<string> {
	const stepRuns = async (batch: number): Promise<boolean> => {
		takeGpuTrouble();
		try {
			await stepFootprint(config, batch);
		} catch {
			return false;
		}
		return takeGpuTrouble().length === 0;
	};
	let high = Math.min(failedBatch, (await largestBatchWithinLimits(config, adapter)) + 1);
	let low = 0;
	for (let batch = Math.floor(high / 2); batch >= smallestBatch; batch = Math.floor(batch / 2)) {
		if (await stepRuns(batch)) {
			low = batch;
			break;
		}
		high = batch;
	}
	for (let probes = 0; probes < 3 && low > 0 && high - low > 1; probes++) {
		const middle = Math.floor((low + high) / 2);
		if (await stepRuns(middle)) low = middle;
		else high = middle;
	}
	return low < smallestBatch
		? fitAdvice(config, 0)
		: `A step at batch ${low} ran without error (probed); use that or less.`;
}
