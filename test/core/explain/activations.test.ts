import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelActivation } from '../../../src/core/explain/activations';
import { upsampleBilinear } from '../../../src/core/explain/gradcam';
import { modelPresets, type SmallAlexNet } from '../../../src/core/training/model';
import { registerWasmKernelPack } from '../../../src/main/compute/kernels';
import { constructedEncoder, constructedSize, patch, patchImage, quadrantShare } from './fixtures';

beforeAll(async () => {
	registerWasmKernelPack();
	expect(await tf.setBackend('wasm')).toBe(true);
});

afterAll(async () => {
	await tf.setBackend('cpu');
});

/**
 * conv1 channel 0 of the constructed encoder, computed by hand: ReLU(BN(R − G − B) − 3.5) with
 * eval-mode BN (mean 0, variance 1, ε = 1e-5), then max pool 3/2 'valid'.
 */
function referenceChannelZero(image: Float32Array): { map: Float32Array; side: number } {
	const size = constructedSize;
	const before = new Float32Array(size * size);
	for (let p = 0; p < size * size; p++) {
		const [r, g, b] = [image[p * 3], image[p * 3 + 1], image[p * 3 + 2]] as [
			number,
			number,
			number
		];
		before[p] = Math.max(0, (r - g - b) / Math.sqrt(1 + 1e-5) - 3.5);
	}
	const side = Math.floor((size - 3) / 2) + 1;
	const map = new Float32Array(side * side);
	for (let y = 0; y < side; y++) {
		for (let x = 0; x < side; x++) {
			let max = -Infinity;
			for (let dy = 0; dy < 3; dy++) {
				for (let dx = 0; dx < 3; dx++)
					max = Math.max(max, before[(2 * y + dy) * size + 2 * x + dx] as number);
			}
			map[y * side + x] = max;
		}
	}
	return { map, side };
}

describe('channelActivation (wasm, constructed encoder)', () => {
	let encoder: SmallAlexNet;
	beforeAll(() => {
		encoder = constructedEncoder();
	});
	afterAll(() => encoder.dispose());
	const image = patchImage();
	const reference = referenceChannelZero(image);

	it('shows the red-patch channel where the patch is, scaled 0 … its maximum', async () => {
		await channelActivation(encoder, image, 'conv1', 0, 64);
		const before = tf.memory().numTensors;
		const result = await channelActivation(encoder, image, 'conv1', 0, 64);
		expect(tf.memory().numTensors).toBe(before);

		expect(result.channels).toBe(modelPresets.tiny.channels[0]);
		expect(result.channel).toBe(0);
		expect(result.strengths).toHaveLength(result.channels);
		const referenceMax = Math.max(...reference.map);
		expect(result.max).toBeCloseTo(referenceMax, 4);
		expect(result.max).toBeGreaterThan(5);
		let referenceMean = 0;
		for (const value of reference.map) referenceMean += value / reference.map.length;
		expect(result.strengths[0]).toBeCloseTo(referenceMean, 4);

		const upsampled = upsampleBilinear(reference.map, reference.side, reference.side, 64);
		for (let i = 0; i < result.map.length; i++) {
			expect(
				Math.abs((result.map[i] as number) - ((upsampled[i] as number) / referenceMax) * 255)
			).toBeLessThanOrEqual(0.6);
		}
		// All of the map lies in the top-left quadrant, around the patch; silence stays 0.
		expect(quadrantShare(Float32Array.from(result.map), 64)).toBe(1);
		expect(Math.max(...result.map)).toBe(255);
		expect(result.map[63 * 64 + 63]).toBe(0);
		const patchCentre = Math.round(((patch.y + patch.side / 2) * 64) / constructedSize);
		expect(result.map[patchCentre * 64 + patchCentre]).toBeGreaterThan(200);
	});

	it('moves with the patch', async () => {
		const moved = patchImage(5, { y: 22, x: 22 });
		const result = await channelActivation(encoder, moved, 'conv1', 0, 32);
		expect(quadrantShare(Float32Array.from(result.map), 32, 'bottom-right')).toBe(1);
	});

	it('shows the channel with the largest mean activation by default', async () => {
		const result = await channelActivation(encoder, image, 'conv1', undefined, 32);
		const strongest = result.strengths.indexOf(Math.max(...result.strengths));
		expect(result.channel).toBe(strongest);
		// The patch detector outshines the random channels, whose weights are ~N(0, 0.02²).
		expect(strongest).toBe(0);

		// Switch on another channel everywhere through its BN shift: now it is the strongest.
		const beta = encoder.trainable.get('conv1/bn/beta');
		if (!beta) throw new Error('no conv1/bn/beta');
		const saved = beta.dataSync<'float32'>().slice();
		try {
			const shifted = saved.slice();
			shifted[7] = 10;
			tf.tidy(() => beta.assign(tf.tensor1d(shifted)));
			const switched = await channelActivation(encoder, image, 'conv1', undefined, 32);
			expect(switched.channel).toBe(7);
			expect(switched.strengths[7]).toBeGreaterThan(9);
			// On everywhere: the map has no silent pixel.
			expect(Math.min(...switched.map)).toBeGreaterThan(200);
		} finally {
			tf.tidy(() => beta.assign(tf.tensor1d(saved)));
		}
	});

	it('works at deeper blocks, whose maps are smaller', async () => {
		const result = await channelActivation(encoder, image, 'conv5', 0, 32);
		expect(result.channels).toBe(modelPresets.tiny.channels[4]);
		expect(result.max).toBeGreaterThan(0);
		expect(quadrantShare(Float32Array.from(result.map), 32)).toBeGreaterThan(0.5);
	});

	it('rejects a channel the layer does not have, and non-conv layers', async () => {
		await expect(channelActivation(encoder, image, 'conv1', 24, 32)).rejects.toThrow(
			/Channel 24 does not exist: conv1 has channels 0 to 23/
		);
		await expect(channelActivation(encoder, image, 'conv2', -1, 32)).rejects.toThrow(RangeError);
		await expect(channelActivation(encoder, image, 'conv1', 1.5, 32)).rejects.toThrow(RangeError);
		await expect(channelActivation(encoder, image, 'fc6', 0, 32)).rejects.toThrow(
			/not a conv block/
		);
		await expect(channelActivation(encoder, image.subarray(3), 'conv1', 0, 32)).rejects.toThrow(
			RangeError
		);
	});
});
