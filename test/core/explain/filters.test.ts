import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { firstLayerFilters } from '../../../src/core/explain/filters';
import { Random } from '../../../src/core/generators/random';
import { modelPresets, SmallAlexNet } from '../../../src/core/training/model';

const encoder = SmallAlexNet.create(modelPresets.tiny, 4);
const filterCount = modelPresets.tiny.channels[0];

/**
 * Known conv1 weights, HWIO: filter f's value at tap (y, x), input channel c is a seeded
 * normal scaled by (f + 1), so filters differ in scale by up to 24× (what per-filter scaling is
 * for); filter 1 is constant, and filter 2 is a pure red vertical edge.
 */
function knownWeights(): {
	weights: Float32Array;
	at: (f: number, y: number, x: number, c: number) => number;
} {
	const random = new Random(8);
	const weights = new Float32Array(3 * 3 * 3 * filterCount);
	const index = (f: number, y: number, x: number, c: number) =>
		((y * 3 + x) * 3 + c) * filterCount + f;
	for (let f = 0; f < filterCount; f++) {
		for (let y = 0; y < 3; y++) {
			for (let x = 0; x < 3; x++) {
				for (let c = 0; c < 3; c++) {
					let value = random.normal() * 0.02 * (f + 1);
					if (f === 1) value = 0.05;
					if (f === 2) value = c === 0 ? x - 1 : 0;
					weights[index(f, y, x, c)] = value;
				}
			}
		}
	}
	return { weights, at: (f, y, x, c) => weights[index(f, y, x, c)] as number };
}

afterAll(() => encoder.dispose());

describe('firstLayerFilters', () => {
	const { weights, at } = knownWeights();
	tf.tidy(() =>
		encoder.trainable.get('conv1/kernel')?.assign(tf.tensor4d(weights, [3, 3, 3, filterCount]))
	);

	it('returns every conv1 filter as a 3×3 RGB image, each scaled on its own min and max', async () => {
		const before = tf.memory().numTensors;
		const filters = await firstLayerFilters(encoder);
		expect(tf.memory().numTensors).toBe(before);
		expect(filters.kernel).toBe(3);
		expect(filters.count).toBe(filterCount);
		expect(filters.rgb.length).toBe(filterCount * 9 * 3);
		for (let f = 0; f < filterCount; f++) {
			if (f === 1) continue;
			const values: number[] = [];
			for (let y = 0; y < 3; y++) {
				for (let x = 0; x < 3; x++) for (let c = 0; c < 3; c++) values.push(at(f, y, x, c));
			}
			const min = Math.min(...values);
			const max = Math.max(...values);
			for (let y = 0; y < 3; y++) {
				for (let x = 0; x < 3; x++) {
					for (let c = 0; c < 3; c++) {
						const expected = ((at(f, y, x, c) - min) / (max - min)) * 255;
						const got = filters.rgb[f * 27 + (y * 3 + x) * 3 + c] as number;
						expect(Math.abs(got - expected)).toBeLessThanOrEqual(0.5 + 1e-6);
					}
				}
			}
			// Each filter uses the full range, however small its weights.
			const tile = Array.from(filters.rgb.subarray(f * 27, (f + 1) * 27));
			expect(Math.min(...tile)).toBe(0);
			expect(Math.max(...tile)).toBe(255);
		}
	});

	it('puts the input channels in R, G, B order and keeps row-major taps', async () => {
		const tile = (await firstLayerFilters(encoder)).rgb.subarray(2 * 27, 3 * 27);
		// Filter 2: red = x − 1 ∈ {−1, 0, 1}, green and blue 0; min −1, max 1.
		for (let y = 0; y < 3; y++) {
			expect(Array.from(tile.subarray(y * 9, y * 9 + 9))).toEqual([
				0, 128, 128, 128, 128, 128, 255, 128, 128
			]);
		}
	});

	it('shows a constant filter as mid-grey', async () => {
		const tile = (await firstLayerFilters(encoder)).rgb.subarray(27, 54);
		expect(new Set(tile)).toEqual(new Set([128]));
	});
});
