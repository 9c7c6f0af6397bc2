/**
 * Frozen-encoder features for evaluation (`paper-protocol.md` §4.1): the encoder in eval mode
 * (batch norm from running statistics), the test transform (resize + centre crop), and the
 * train transform of the linear probe (RandomResizedCrop + flip, no colour jitter).
 */
import { type FeatureLayer } from '../encoders/architecture';
import type { Encoder } from '../encoders/encoder';
import * as tf from '@tensorflow/tfjs-core';
import { Random } from '../generators/random';
import {
	augmentView,
	resizeCropBilinear,
	stl10Mean,
	stl10Std,
	type SourceImage
} from '../training/augment';
import { augmentConfigSchema, type AugmentConfig } from '../training/config';
import { imageAt, type PackedImages } from './dataset';

/** The probe's train transform: the pre-training crop and flip, without colour changes. */
export const probeAugment: AugmentConfig = augmentConfigSchema.parse({
	brightness: 0,
	contrast: 0,
	saturation: 0,
	hue: 0,
	grayscaleProbability: 0
});

/**
 * The test transform: PyTorch's `Resize(70)` + `CenterCrop(64)` scaled to the encoder's input,
 * done as one centred crop of 64/70 of the shorter side resized to the input (the same
 * region; one resampling instead of two).
 */
export function writeCentreView(
	image: SourceImage,
	inputSize: number,
	out: Float32Array,
	offset: number,
	scratch: Uint8Array
): void {
	const side = Math.max(1, Math.round((Math.min(image.width, image.height) * 64) / 70));
	const crop = {
		x: Math.floor((image.width - side) / 2),
		y: Math.floor((image.height - side) / 2),
		width: side,
		height: side
	};
	resizeCropBilinear(image, crop, inputSize, inputSize, scratch);
	for (let i = 0; i < inputSize * inputSize * 3; i++) {
		const channel = i % 3;
		out[offset + i] =
			((scratch[i] as number) / 255 - (stl10Mean[channel] as number)) /
			(stl10Std[channel] as number);
	}
}

/** Which transform feature extraction applies. */
export type FeatureView = { kind: 'centre' } | { kind: 'augmented'; seed: number; view: number };

/** Options of {@link extractFeatures}. */
export interface ExtractOptions {
	layer: FeatureLayer;
	view: FeatureView;
	batch?: number;
	signal?: { readonly aborted: boolean };
	/** Awaited after every batch: a worker yields here so that a cancel message gets in. */
	onProgress?: (done: number, total: number) => void | Promise<void>;
}

/**
 * Features of every image of a set at one layer (`N × dim`, row-major). Augmented views draw
 * from `Random(seed, view, image index)`, so a view is the same on every run and machine.
 */
export function extractFeatures(
	encoder: Encoder,
	images: PackedImages,
	options: ExtractOptions
): Promise<{ features: Float32Array; dim: number }> {
	return extractFeaturesOf(encoder, images.count, (index) => imageAt(images, index), options);
}

/**
 * {@link extractFeatures} over images that are produced on demand, of any size: `image(i)` for
 * i in 0..count−1, asked for in order, a batch at a time (generated noise images, files).
 */
export async function extractFeaturesOf(
	encoder: Encoder,
	count: number,
	image: (index: number) => SourceImage | Promise<SourceImage>,
	options: ExtractOptions
): Promise<{ features: Float32Array; dim: number }> {
	const size = encoder.inputSize;
	const batch = options.batch ?? 128;
	const scratch = new Uint8Array(size * size * 3);
	let features: Float32Array | null = null;
	let dim = 0;
	for (let start = 0; start < count; start += batch) {
		if (options.signal?.aborted) throw new Error('Feature extraction was cancelled.');
		const rows = Math.min(batch, count - start);
		const input = new Float32Array(rows * size * size * 3);
		for (let i = 0; i < rows; i++) {
			const source = await image(start + i);
			const offset = i * size * size * 3;
			if (options.view.kind === 'centre') writeCentreView(source, size, input, offset, scratch);
			else {
				const random = new Random(options.view.seed, options.view.view, start + i);
				augmentView(source, random, probeAugment, size, input, offset);
			}
		}
		const output = tf.tidy(() =>
			encoder.forward(tf.tensor4d(input, [rows, size, size, 3]), {
				training: false,
				layer: options.layer
			})
		);
		const values = await output.data<'float32'>();
		dim = output.shape[1];
		output.dispose();
		features ??= new Float32Array(count * dim);
		features.set(values, start * dim);
		await options.onProgress?.(start + rows, count);
	}
	return { features: features ?? new Float32Array(0), dim };
}
