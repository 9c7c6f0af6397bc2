import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageAt, type LabelledSplit } from '../../../src/core/evaluation/dataset';
import { extractFeatures, writeCentreView } from '../../../src/core/evaluation/features';
import { Random } from '../../../src/core/generators/random';
import type { SmallAlexNet } from '../../../src/core/training/model';
import { registerWasmKernelPack } from '../../../src/main/compute/kernels';
import { stratifiedIndices, stratifiedSubset } from '../../../src/main/evaluation/evaluate-job';
import { nearestNeighbours, type NeighbourOptions } from '../../../src/main/explain/neighbours';
import { microEncoder, microSpec } from '../../core/explain/fixtures';

/** 20×20 RGB images: 60 seeded noise images in 3 classes, image 30 a copy of image 7. */
function gallerySplit(): LabelledSplit {
	const count = 60;
	const side = 20;
	const stride = side * side * 3;
	const data = new Uint8Array(count * stride);
	const random = new Random(21);
	for (let i = 0; i < data.length; i++) data[i] = Math.floor(random.range(0, 256));
	data.copyWithin(30 * stride, 7 * stride, 8 * stride);
	const labels = Int32Array.from({ length: count }, (_, i) => i % 3);
	return { images: { count, width: side, height: side, channels: 3, data }, labels };
}

function centreView(split: LabelledSplit, index: number): Float32Array {
	const size = microSpec.inputSize;
	const input = new Float32Array(size * size * 3);
	writeCentreView(imageAt(split.images, index), size, input, 0, new Uint8Array(size * size * 3));
	return input;
}

function cosine(a: Float32Array, b: Float32Array): number {
	let dot = 0;
	let aa = 0;
	let bb = 0;
	for (let i = 0; i < a.length; i++) {
		dot += (a[i] as number) * (b[i] as number);
		aa += (a[i] as number) ** 2;
		bb += (b[i] as number) ** 2;
	}
	return dot / Math.sqrt(aa * bb);
}

const gallery = gallerySplit();
let encoder: SmallAlexNet;
let cacheDir: string;

const options = (overrides: Partial<NeighbourOptions> = {}): NeighbourOptions => ({
	layer: 'fc7',
	k: 5,
	maxGallery: 1000,
	seed: 0,
	featureCache: { dir: null, encoderKey: 'micro:12' },
	...overrides
});

beforeAll(async () => {
	registerWasmKernelPack();
	expect(await tf.setBackend('wasm')).toBe(true);
	encoder = microEncoder(12);
	cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'noiselab-neighbours-'));
});

afterAll(async () => {
	encoder.dispose();
	fs.rmSync(cacheDir, { recursive: true, force: true });
	await tf.setBackend('cpu');
});

describe('nearestNeighbours (wasm, micro encoder)', () => {
	it('finds an image of the gallery as its own nearest neighbour, similarity 1', async () => {
		const found = await nearestNeighbours(encoder, centreView(gallery, 12), gallery, options());
		expect(found.galleryCount).toBe(60);
		expect(found.neighbours).toHaveLength(5);
		expect(found.neighbours[0]?.index).toBe(12);
		expect(found.neighbours[0]?.labelIndex).toBe(0);
		expect(found.neighbours[0]?.similarity).toBeCloseTo(1, 5);
		expect(found.neighbours[1]?.similarity).toBeLessThan(0.9999);
	});

	it('orders by cosine similarity, as computed from the features directly', async () => {
		const { features, dim } = await extractFeatures(encoder, gallery.images, {
			layer: 'conv3',
			view: { kind: 'centre' }
		});
		const query = centreView(gallery, 40);
		const queryFeatures = (
			await extractFeatures(
				encoder,
				{ ...gallery.images, count: 1, data: gallery.images.data.subarray(40 * 1200, 41 * 1200) },
				{ layer: 'conv3', view: { kind: 'centre' } }
			)
		).features;
		const expected = Array.from({ length: 60 }, (_, i) => ({
			index: i,
			similarity: cosine(queryFeatures, features.subarray(i * dim, (i + 1) * dim))
		})).sort((a, b) => b.similarity - a.similarity || a.index - b.index);

		const found = await nearestNeighbours(
			encoder,
			query,
			gallery,
			options({ layer: 'conv3', k: 10 })
		);
		expect(found.neighbours.map((n) => n.index)).toEqual(expected.slice(0, 10).map((e) => e.index));
		for (const [rank, neighbour] of found.neighbours.entries()) {
			expect(neighbour.similarity).toBeCloseTo(expected[rank]?.similarity ?? NaN, 5);
			expect(neighbour.labelIndex).toBe(gallery.labels[neighbour.index]);
			if (rank > 0) {
				expect(neighbour.similarity).toBeLessThanOrEqual(
					found.neighbours[rank - 1]?.similarity ?? 0
				);
			}
		}
	});

	it('breaks a tie by the lower index', async () => {
		// Images 7 and 30 are the same pixels, so they have the same features and similarity.
		for (const queryIndex of [30, 7]) {
			const found = await nearestNeighbours(
				encoder,
				centreView(gallery, queryIndex),
				gallery,
				options()
			);
			expect(found.neighbours.slice(0, 2).map((n) => n.index)).toEqual([7, 30]);
			expect(found.neighbours[0]?.similarity).toBe(found.neighbours[1]?.similarity);
		}
	});

	it('returns the whole gallery when k exceeds it', async () => {
		const found = await nearestNeighbours(
			encoder,
			centreView(gallery, 3),
			gallery,
			options({ k: 32, maxGallery: 12 })
		);
		expect(found.galleryCount).toBe(12);
		expect(found.neighbours).toHaveLength(12);
		expect(new Set(found.neighbours.map((n) => n.index)).size).toBe(12);
	});

	it('takes a stratified subset and reports indices in the full split', async () => {
		const indices = stratifiedIndices(gallery, 15, 4);
		const subset = stratifiedSubset(gallery, 15, 4);
		expect(indices).toHaveLength(15);
		// The same images as stratifiedSubset picks, in the split's order, five per class.
		expect(Array.from(indices)).toEqual([...indices].sort((a, b) => a - b));
		for (const [row, index] of indices.entries()) {
			const stride = 20 * 20 * 3;
			expect(subset.images.data.subarray(row * stride, (row + 1) * stride)).toEqual(
				gallery.images.data.subarray(index * stride, (index + 1) * stride)
			);
			expect(subset.labels[row]).toBe(gallery.labels[index]);
		}
		expect(
			[0, 1, 2].map((c) => Array.from(indices).filter((i) => gallery.labels[i] === c).length)
		).toEqual([5, 5, 5]);

		const member = indices[9] as number;
		const found = await nearestNeighbours(
			encoder,
			centreView(gallery, member),
			gallery,
			options({ k: 15, maxGallery: 15, seed: 4 })
		);
		expect(found.galleryCount).toBe(15);
		expect(found.neighbours[0]?.index).toBe(member);
		expect(found.neighbours[0]?.similarity).toBeCloseTo(1, 5);
		expect(found.neighbours.map((n) => n.index).sort((a, b) => a - b)).toEqual(Array.from(indices));
		for (const neighbour of found.neighbours)
			expect(neighbour.labelIndex).toBe(gallery.labels[neighbour.index]);

		const outsider = Array.from({ length: 60 }, (_, i) => i).find(
			(i) => !indices.includes(i)
		) as number;
		const other = await nearestNeighbours(
			encoder,
			centreView(gallery, outsider),
			gallery,
			options({ maxGallery: 15, seed: 4 })
		);
		expect(other.neighbours.map((n) => n.index)).not.toContain(outsider);
	});

	it('serves the second query from the feature cache', async () => {
		const cached = options({
			featureCache: { dir: cacheDir, encoderKey: 'micro:12' },
			maxGallery: 30
		});
		const progress: number[] = [];
		const first = await nearestNeighbours(encoder, centreView(gallery, 5), gallery, {
			...cached,
			onProgress: (done) => {
				progress.push(done);
			}
		});
		expect(first.cached).toBe(false);
		expect(progress.at(-1)).toBe(30);
		expect(fs.readdirSync(cacheDir).filter((name) => name.endsWith('.f32'))).toHaveLength(1);

		progress.length = 0;
		const before = tf.memory().numTensors;
		const second = await nearestNeighbours(encoder, centreView(gallery, 8), gallery, {
			...cached,
			onProgress: (done) => {
				progress.push(done);
			}
		});
		expect(tf.memory().numTensors).toBe(before);
		expect(second.cached).toBe(true);
		expect(progress).toEqual([]);
		expect(fs.readdirSync(cacheDir).filter((name) => name.endsWith('.f32'))).toHaveLength(1);
		// The same answer as without a cache.
		const uncached = await nearestNeighbours(
			encoder,
			centreView(gallery, 8),
			gallery,
			options({ maxGallery: 30 })
		);
		expect(second.neighbours).toEqual(uncached.neighbours);

		// Another encoder key is another file.
		await nearestNeighbours(encoder, centreView(gallery, 8), gallery, {
			...cached,
			featureCache: { dir: cacheDir, encoderKey: 'micro:other' }
		});
		expect(fs.readdirSync(cacheDir).filter((name) => name.endsWith('.f32'))).toHaveLength(2);
	});

	it('stops when cancelled and rejects a query of the wrong size', async () => {
		await expect(
			nearestNeighbours(
				encoder,
				centreView(gallery, 1),
				gallery,
				options({ signal: { aborted: true } })
			)
		).rejects.toThrow(/cancelled/);
		await expect(
			nearestNeighbours(encoder, new Float32Array(10), gallery, options())
		).rejects.toThrow(RangeError);
	});
});
