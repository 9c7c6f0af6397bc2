/**
 * Encoders whose Grad-CAM answer is known, for the explain tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LinearProbe } from '../../../src/core/evaluation/linear-probe';
import { Random } from '../../../src/core/generators/random';
import { modelPresets, SmallAlexNet, type EncoderSpec } from '../../../src/core/training/model';

/** Side of the constructed encoder's input (the `tiny` preset). */
export const constructedSize = 32;

/** Top-left corner and side of the red patch the constructed encoder detects. */
export const patch = { y: 2, x: 2, side: 6 };

function setValues(
	encoder: SmallAlexNet,
	name: string,
	edit: (values: Float32Array, shape: number[]) => void
): void {
	const variable = encoder.trainable.get(name);
	if (!variable) throw new Error(`no ${name}`);
	const values = variable.dataSync<'float32'>().slice();
	edit(values, variable.shape);
	tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
}

/**
 * A `tiny` encoder (random weights elsewhere) whose channel 0 is a red-patch detector carried
 * unchanged to conv5: conv1 channel 0 computes R − G − B − 3.5 at the centre tap (so the image's
 * noise, |R − G − B| ≤ 3, never passes the ReLU), and conv2..conv5 channel 0 copy channel 0 of
 * the block before (centre tap 1, every other input weight 0). The max pools then confine it to
 * the top-left cell(s) of each map when the patch sits in the image's top-left corner.
 */
export function constructedEncoder(): SmallAlexNet {
	const encoder = SmallAlexNet.create(modelPresets.tiny, 3);
	const centre = (shape: number[], input: number, output: number) => {
		const [, , inputs, outputs] = shape as [number, number, number, number];
		return ((1 * 3 + 1) * inputs + input) * outputs + output;
	};
	setValues(encoder, 'conv1/kernel', (values, shape) => {
		const outputs = shape[3] as number;
		for (let i = 0; i < values.length; i += outputs) values[i] = 0;
		values[centre(shape, 0, 0)] = 1;
		values[centre(shape, 1, 0)] = -1;
		values[centre(shape, 2, 0)] = -1;
	});
	setValues(encoder, 'conv1/bn/beta', (values) => {
		values[0] = -3.5;
	});
	for (const layer of ['conv2', 'conv3', 'conv4', 'conv5']) {
		setValues(encoder, `${layer}/kernel`, (values, shape) => {
			const outputs = shape[3] as number;
			for (let i = 0; i < values.length; i += outputs) values[i] = 0;
			values[centre(shape, 0, 0)] = 1;
		});
	}
	return encoder;
}

/** A 2-class probe on conv5 (48 features) whose class 0 logit is conv5 channel 0's mean. */
export function constructedProbe(): LinearProbe {
	const dim = modelPresets.tiny.channels[4];
	const weight = new Float32Array(dim * 2);
	const random = new Random(11);
	for (let d = 0; d < dim; d++) weight[d * 2 + 1] = random.normal();
	weight[0] = 1;
	weight[1] = 0;
	return { dim, classes: 2, weight, bias: new Float32Array([0.25, -0.5]), lossHistory: [] };
}

/** Uniform noise in [−1, 1] on every channel, with the red patch at `at` (default {@link patch}). */
export function patchImage(seed = 5, at: { y: number; x: number } = patch): Float32Array {
	const size = constructedSize;
	const image = new Float32Array(size * size * 3);
	const random = new Random(seed);
	for (let i = 0; i < image.length; i++) image[i] = random.range(-1, 1);
	for (let y = at.y; y < at.y + patch.side; y++) {
		for (let x = at.x; x < at.x + patch.side; x++) {
			image.set([3, -3, -3], (y * size + x) * 3);
		}
	}
	return image;
}

/** The share of a square map's sum that lies in its top-left (or bottom-right) quadrant. */
export function quadrantShare(
	map: Float32Array,
	size: number,
	quadrant: 'top-left' | 'bottom-right' = 'top-left'
): number {
	const half = size / 2;
	let inside = 0;
	let total = 0;
	for (let y = 0; y < size; y++) {
		for (let x = 0; x < size; x++) {
			const value = map[y * size + x] as number;
			total += value;
			const top = y < half && x < half;
			if (quadrant === 'top-left' ? top : y >= half && x >= half) inside += value;
		}
	}
	return inside / total;
}

/** A very small encoder for finite differences: 16 px, conv 4/6/8/8/6, fc 16, 8-d. */
export const microSpec: EncoderSpec = {
	inputSize: 16,
	channels: [4, 6, 8, 8, 6],
	fcWidth: 16,
	embeddingDim: 8
};

/**
 * {@link microSpec} with He-scaled weights and non-trivial BN parameters and statistics, so that
 * activations and gradients are of order one (the paper's N(0, 0.02²) makes them tiny).
 */
export function microEncoder(seed: number): SmallAlexNet {
	const encoder = SmallAlexNet.create(microSpec, seed);
	const random = new Random(seed, 99);
	for (const [name, variable] of encoder.trainable) {
		const shape = variable.shape;
		const fanIn =
			shape.length === 4
				? (shape[0] as number) * (shape[1] as number) * (shape[2] as number)
				: (shape[0] as number);
		const values = new Float32Array(variable.size);
		for (let i = 0; i < values.length; i++) {
			if (name.endsWith('kernel')) values[i] = random.normal() * Math.sqrt(2 / fanIn);
			else if (name.endsWith('gamma')) values[i] = random.range(0.5, 1.5);
			else values[i] = random.range(-0.3, 0.3);
		}
		tf.tidy(() => variable.assign(tf.tensor(values, shape)));
	}
	for (const [name, variable] of encoder.buffers) {
		const values = new Float32Array(variable.size);
		for (let i = 0; i < values.length; i++) {
			values[i] = name.endsWith('mean') ? random.range(-0.2, 0.2) : random.range(0.5, 2);
		}
		tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
	}
	return encoder;
}

/** Standard-normal values from `Random(seed)`. */
export function normals(count: number, seed: number): Float32Array {
	const random = new Random(seed, 7);
	return Float32Array.from({ length: count }, () => random.normal());
}
