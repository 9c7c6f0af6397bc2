/**
 * The augmentations applied to the image at every optimisation step (§2.4), Lucent's
 * `standard_transforms` followed by ImageNet normalisation and a bilinear resize back:
 *
 * 1. pad 12 px with the constant 0.5;
 * 2. translate by (dx, dy) ∈ {0..7}², content moving right/down, zero fill (kornia `translate`);
 * 3. scale by s ∈ {0.90, 0.92, …, 1.10}: bilinear resize (align_corners) to ⌈s·d⌉, then zero pad
 *    ⌈(d − ⌈s·d⌉)/2⌉ on each side when shrinking (an enlarged image is not cropped);
 * 4. rotate about the centre by an angle from {−10..10} ∪ five extra 0 (degrees, bilinear, zero
 *    fill, output the same size; kornia `warp_affine`);
 * 5. translate by {0..3}²;
 * 6. normalise with the network's channel statistics;
 * 7. bilinear resize (align_corners) to the network's input size.
 *
 * The paper draws these from numpy's unseeded global generator; here they come from the
 * image's {@link Random}, so image `index` is reproducible. Every op has a gradient on the cpu
 * and wasm backends; the rotation brings its own (see {@link rotate}).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../random';
import type { InputNormalisation } from './feature-network';

/** Pixels of constant 0.5 added on each side before the random transforms. */
export const transformPadding = 12;

/** Lucent's scale list, computed as Python does so that ⌈s·d⌉ rounds identically. */
export const transformScales: readonly number[] = Array.from(
	{ length: 11 },
	(_, i) => 1 + (i - 5) / 50
);

/** −10..10 degrees plus five extra zeros, so that 6 in 26 steps do not rotate. */
export const transformAngles: readonly number[] = [
	...Array.from({ length: 21 }, (_, i) => i - 10),
	0,
	0,
	0,
	0,
	0
];

/** One step's random draws, in the order the paper makes them. */
export interface TransformDraw {
	jitter1: [number, number];
	scale: number;
	angleDegrees: number;
	jitter2: [number, number];
}

/** Draws one step's transform parameters. */
export function drawTransform(random: Random): TransformDraw {
	const jitter1: [number, number] = [random.int(8), random.int(8)];
	const scale = random.pick(transformScales);
	const angleDegrees = random.pick(transformAngles);
	const jitter2: [number, number] = [random.int(4), random.int(4)];
	return { jitter1, scale, angleDegrees, jitter2 };
}

/** Content moves by (dx, dy) pixels right and down; uncovered pixels become 0. */
export function translate(image: tf.Tensor4D, dx: number, dy: number): tf.Tensor4D {
	if (dx === 0 && dy === 0) return image;
	const [batch, height, width, channels] = image.shape;
	const kept = tf.slice(image, [0, 0, 0, 0], [batch, height - dy, width - dx, channels]);
	return tf.pad(kept, [
		[0, 0],
		[dy, 0],
		[dx, 0],
		[0, 0]
	]);
}

/** Lucent's `random_scale` for one chosen factor. */
export function scaleImage(image: tf.Tensor4D, scale: number): tf.Tensor4D {
	const [, height, width] = image.shape;
	const scaledHeight = Math.ceil(scale * height);
	const scaledWidth = Math.ceil(scale * width);
	if (scaledHeight === height && scaledWidth === width) return image;
	const resized = tf.image.resizeBilinear(image, [scaledHeight, scaledWidth], true);
	const padY = Math.max(0, Math.ceil((height - scaledHeight) / 2));
	const padX = Math.max(0, Math.ceil((width - scaledWidth) / 2));
	if (padX === 0 && padY === 0) return resized;
	return tf.pad(resized, [
		[0, 0],
		[padY, padY],
		[padX, padX],
		[0, 0]
	]);
}

/**
 * A bilinear resampling of an H×W grid: four source taps and weights per output pixel, used as
 * the rotation's exact transpose in its backward pass.
 */
export interface SamplingPlan {
	height: number;
	width: number;
	/** Flat source pixel index per tap, `4 · height · width` entries. */
	taps: Int32Array;
	/** The tap weights; taps outside the source have weight 0. */
	weights: Float32Array;
}

/**
 * The sampling of a rotation by `angleDegrees` about the centre ((w−1)/2, (h−1)/2), positive
 * angles counter-clockwise on screen, as kornia's `get_rotation_matrix2d` + `warp_affine`.
 */
export function rotationPlan(height: number, width: number, angleDegrees: number): SamplingPlan {
	const radians = (angleDegrees * Math.PI) / 180;
	const cos = Math.cos(radians);
	const sin = Math.sin(radians);
	const centreX = (width - 1) / 2;
	const centreY = (height - 1) / 2;
	const taps = new Int32Array(4 * height * width);
	const weights = new Float32Array(4 * height * width);
	for (let y = 0; y < height; y++) {
		const dy = y - centreY;
		for (let x = 0; x < width; x++) {
			const dx = x - centreX;
			const sourceX = cos * dx - sin * dy + centreX;
			const sourceY = sin * dx + cos * dy + centreY;
			const x0 = Math.floor(sourceX);
			const y0 = Math.floor(sourceY);
			const fx = sourceX - x0;
			const fy = sourceY - y0;
			const base = 4 * (y * width + x);
			const corners = [
				[x0, y0, (1 - fx) * (1 - fy)],
				[x0 + 1, y0, fx * (1 - fy)],
				[x0, y0 + 1, (1 - fx) * fy],
				[x0 + 1, y0 + 1, fx * fy]
			] as const;
			for (let t = 0; t < 4; t++) {
				const [cx, cy, weight] = corners[t] as (typeof corners)[number];
				if (cx >= 0 && cx < width && cy >= 0 && cy < height) {
					taps[base + t] = cy * width + cx;
					weights[base + t] = weight;
				}
			}
		}
	}
	return { height, width, taps, weights };
}

/**
 * Rotation by a whole number of degrees (step 4); 0° is the identity, since its bilinear taps
 * land on pixels. The forward pass is tfjs's projective `transform` (bilinear, zero fill: the
 * same sampling as kornia's `warp_affine`); its gradient, which tfjs does not define, is the
 * transpose of that sampling: `dy` scattered back to the four taps with the same weights
 * (ScatterNd sums duplicate indices).
 */
export function rotate(image: tf.Tensor4D, angleDegrees: number): tf.Tensor4D {
	if (angleDegrees === 0) return image;
	const [, height, width, channels] = image.shape;
	const plan = rotationPlan(height, width, angleDegrees);
	const pixels = height * width;
	const op = tf.customGrad((x, save) => {
		const taps = tf.tensor2d(plan.taps, [4 * pixels, 1], 'int32');
		const weights = tf.tensor3d(plan.weights, [pixels, 4, 1]);
		(save as tf.GradSaveFunc)([taps, weights]);
		const value = tf.image.transform(
			x as tf.Tensor4D,
			tf.tensor2d([inverseRotation(height, width, angleDegrees)]),
			'bilinear',
			'constant',
			0
		);
		return {
			value,
			gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
				const [savedTaps, savedWeights] = saved as [tf.Tensor2D, tf.Tensor3D];
				const spread = tf.mul(tf.reshape(dy, [pixels, 1, channels]), savedWeights);
				return tf.reshape(
					tf.scatterND(savedTaps, tf.reshape(spread, [4 * pixels, channels]), [pixels, channels]),
					[1, height, width, channels]
				);
			}
		};
	});
	return op(image) as tf.Tensor4D;
}

/**
 * The output→source map of {@link rotationPlan} as tfjs's 8-parameter projective transform
 * [a0, a1, a2, b0, b1, b2, 0, 0]: source = (a0·x + a1·y + a2, b0·x + b1·y + b2).
 */
export function inverseRotation(height: number, width: number, angleDegrees: number): number[] {
	const radians = (angleDegrees * Math.PI) / 180;
	const cos = Math.cos(radians);
	const sin = Math.sin(radians);
	const centreX = (width - 1) / 2;
	const centreY = (height - 1) / 2;
	return [
		cos,
		-sin,
		centreX - cos * centreX + sin * centreY,
		sin,
		cos,
		centreY - sin * centreX - cos * centreY,
		0,
		0
	];
}

/** Subtracts the mean and divides by the standard deviation per channel (NHWC). */
export function normalise(image: tf.Tensor4D, normalisation: InputNormalisation): tf.Tensor4D {
	return tf.div(
		tf.sub(image, tf.tensor1d([...normalisation.mean])),
		tf.tensor1d([...normalisation.std])
	);
}

/**
 * Steps 1–7 on a `[1, size, size, 3]` image in [0, 1], returning the normalised network input
 * of `outputSize`². With `draw` null only steps 6–7 run (used to measure the plain image).
 */
export function augment(
	image: tf.Tensor4D,
	draw: TransformDraw | null,
	normalisation: InputNormalisation,
	outputSize: number
): tf.Tensor4D {
	let x = image;
	if (draw) {
		x = tf.pad(
			x,
			[
				[0, 0],
				[transformPadding, transformPadding],
				[transformPadding, transformPadding],
				[0, 0]
			],
			0.5
		);
		x = translate(x, draw.jitter1[0], draw.jitter1[1]);
		x = scaleImage(x, draw.scale);
		x = rotate(x, draw.angleDegrees);
		x = translate(x, draw.jitter2[0], draw.jitter2[1]);
	}
	x = normalise(x, normalisation);
	const [, height, width] = x.shape;
	if (height !== outputSize || width !== outputSize) {
		x = tf.image.resizeBilinear(x, [outputSize, outputSize], true);
	}
	return x;
}
