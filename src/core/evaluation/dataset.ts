/**
 * Labelled image datasets for evaluation, held compactly in memory: every image of a split has
 * the same size and channel count, packed in one byte array. Grayscale sets (MNIST formats)
 * stay one channel here and are replicated to RGB when an image is read.
 */
import type { SourceImage } from '../training/augment';

/** Images of one size, packed row-major, channels interleaved. */
export interface PackedImages {
	count: number;
	width: number;
	height: number;
	channels: 1 | 3;
	/** `count * width * height * channels` bytes. */
	data: Uint8Array;
}

/** Images and their class indices. */
export interface LabelledSplit {
	images: PackedImages;
	/** One class index per image, in `[0, classes.length)`. */
	labels: Int32Array;
}

/** A dataset as the evaluation protocols consume it. */
export interface EvalDataset {
	/** A stable name, e.g. `fashion-mnist-mini`, `structured:count-shapes`, or a folder path. */
	name: string;
	classes: string[];
	train: LabelledSplit;
	test: LabelledSplit;
	/** What the loader did that a user should know (files skipped and why, a split it made). */
	notes: string[];
}

/** Image `index` of a packed set as RGB (grayscale replicated), for augmentation and display. */
export function imageAt(images: PackedImages, index: number): SourceImage {
	const { width, height, channels } = images;
	const pixels = width * height;
	const start = index * pixels * channels;
	if (channels === 3) {
		return { width, height, data: images.data.subarray(start, start + pixels * 3) };
	}
	const data = new Uint8Array(pixels * 3);
	for (let i = 0; i < pixels; i++) {
		const value = images.data[start + i] as number;
		data[3 * i] = value;
		data[3 * i + 1] = value;
		data[3 * i + 2] = value;
	}
	return { width, height, data };
}
