/**
 * Gradient-weighted class-activation maps for Encoder encoders, following pytorch-grad-cam:
 * Grad-CAM (Selvaraju et al. 2017), Grad-CAM++ (Chattopadhay et al. 2018) and XGrad-CAM (Fu et
 * al. 2020) weight each channel of one conv block's activation by a function of the gradient of
 * a scalar target; HiResCAM (Draelos & Carin 2020) and LayerCAM (Jiang et al. 2021) weight every
 * position by its own gradient. Then ReLU, bilinear upsampling to the input and min-max scaling
 * to [0, 1].
 *
 * The target is either a linear-probe logit or the similarity of the image's fc8 embedding to a
 * reference, so that encoders without a probe can be explained too (pytorch-grad-cam's
 * `ClassifierOutputTarget` and `SimilarityToConceptTarget`).
 */
import { correspondingLayer, featureLayers, type FeatureLayer } from '../encoders/architecture';
import type { Encoder } from '../encoders/encoder';
import * as tf from '@tensorflow/tfjs-core';
import { readAndDispose } from '../compute/read';
import type { CamMethod } from '../api/explain';
import type { LinearProbe } from '../evaluation/linear-probe';
import { denseMatMul } from '../training/model';

export type { CamMethod } from '../api/explain';

/** Methods whose weights are per position and channel, not per channel. */
const elementwiseMethods: readonly CamMethod[] = ['hirescam', 'layercam'];

/**
 * What the map explains.
 * - `class`: the logit of `classIndex` under `probe`, which reads the encoder's `probeLayer`
 *   features (conv features averaged over H and W, as `Encoder.forward`). A probe trained on
 *   standardised features must be folded first (see {@link foldStandardization}).
 * - `embedding`: how close the image's fc8 embedding is to `reference` (e.g. a class mean).
 *   `measure` 'cosine' (default) is the cosine similarity; 'projection' is the un-normalised fc8
 *   output projected on the reference direction. Use 'projection' when the reference is the
 *   image's own embedding: the cosine is at its maximum there, its gradient is zero in exact
 *   arithmetic, and the map would show only rounding noise.
 */
export type CamTarget =
	| { kind: 'class'; probe: LinearProbe; probeLayer: FeatureLayer; classIndex: number }
	| { kind: 'embedding'; reference: Float32Array; measure?: 'cosine' | 'projection' };

/** A class-activation map and the target value it explains. */
export interface CamResult {
	/** `inputSize²`, row-major, in [0, 1]: `raw` upsampled bilinearly, then min-max scaled. */
	map: Float32Array;
	/** `height × width` at the layer's resolution, after the ReLU, before upsampling and scaling. */
	raw: Float32Array;
	height: number;
	width: number;
	/** The target's value for the image. */
	score: number;
}

/** Options of {@link computeCam}. */
export interface CamOptions {
	method: CamMethod;
	/** A conv block; default the last conv block (conv5, layer4). */
	layer?: FeatureLayer;
	target: CamTarget;
}

/** pytorch-grad-cam's guard in the Grad-CAM++ denominator. */
const plusPlusEpsilon = 1e-6;
/** pytorch-grad-cam's guard in the XGrad-CAM denominator. */
const xGradEpsilon = 1e-7;
/** pytorch-grad-cam's `scale_cam_image` guard against a constant map. */
const scaleEpsilon = 1e-7;

/**
 * A probe trained on z-scored features (`standardizeInPlace`) as one on the raw features:
 * `((x − μ)/σ)·W + b = x·(W/σ) + (b − (μ/σ)·W)`.
 */
export function foldStandardization(
	probe: LinearProbe,
	statistics: { mean: Float32Array; std: Float32Array }
): LinearProbe {
	const weight = new Float32Array(probe.weight.length);
	const bias = Float32Array.from(probe.bias);
	for (let d = 0; d < probe.dim; d++) {
		const std = statistics.std[d] as number;
		const mean = statistics.mean[d] as number;
		for (let c = 0; c < probe.classes; c++) {
			const w = (probe.weight[d * probe.classes + c] as number) / std;
			weight[d * probe.classes + c] = w;
			bias[c] = (bias[c] as number) - mean * w;
		}
	}
	return { ...probe, weight, bias };
}

function checkTarget(encoder: Encoder, layer: FeatureLayer, target: CamTarget): void {
	if (target.kind === 'class') {
		const { probe, probeLayer, classIndex } = target;
		if (featureLayers.indexOf(probeLayer) < featureLayers.indexOf(layer)) {
			throw new Error(
				`The probe reads ${probeLayer}, before the CAM layer ${layer}; choose an earlier layer.`
			);
		}
		if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= probe.classes) {
			throw new RangeError(`class ${classIndex} is outside the probe's [0, ${probe.classes})`);
		}
		if (probe.weight.length !== probe.dim * probe.classes) {
			throw new RangeError('The probe weight is not dim × classes.');
		}
	} else if (target.reference.length !== encoder.embeddingDim) {
		throw new RangeError(
			`The reference has ${target.reference.length} values; the embedding has ${encoder.embeddingDim}.`
		);
	}
}

/**
 * The target's value for each image, `[N]`, from the output of conv block `layer`
 * (`Encoder.convActivation`); differentiable in `activation`.
 */
export function targetScores(
	encoder: Encoder,
	activation: tf.Tensor4D,
	layer: FeatureLayer,
	target: CamTarget
): tf.Tensor1D {
	checkTarget(encoder, layer, target);
	return tf.tidy(() => {
		if (target.kind === 'class') {
			const { probe, probeLayer, classIndex } = target;
			const features = encoder.forwardFrom(activation, layer, {
				training: false,
				layer: probeLayer
			});
			if (features.shape[1] !== probe.dim) {
				throw new RangeError(
					`The probe expects ${probe.dim} features; ${probeLayer} has ${features.shape[1]}.`
				);
			}
			// Only the chosen class's column: a [D, 1] product instead of the full [D, C] one.
			const column = new Float32Array(probe.dim);
			for (let d = 0; d < probe.dim; d++) {
				column[d] = probe.weight[d * probe.classes + classIndex] as number;
			}
			const logits = denseMatMul(features, tf.tensor2d(column, [probe.dim, 1]));
			return tf.reshape(tf.add(logits, probe.bias[classIndex] as number), [-1]) as tf.Tensor1D;
		}
		// The output before its L2 normalisation (SmallAlexNet's raw fc8): its norm is needed for
		// 'projection', and the cosine is the same either way.
		const embedding = encoder.rawEmbeddingFrom(activation, layer);
		let norm = 0;
		for (const value of target.reference) norm += value * value;
		const direction = tf.tensor2d(
			target.reference.map((value) => value / Math.sqrt(norm)),
			[target.reference.length, 1]
		);
		const projection = tf.reshape(denseMatMul(embedding, direction), [-1]);
		if (target.measure === 'projection') return projection as tf.Tensor1D;
		return tf.div(projection, tf.sqrt(tf.sum(tf.square(embedding), 1))) as tf.Tensor1D;
	});
}

/**
 * pytorch-grad-cam's weights from activations `A` and gradients `g` (`[1, H, W, K]`). Per channel
 * (`[K]`): Grad-CAM `mean_hw g`; Grad-CAM++ `Σ_hw α·ReLU(g)` with `α = g² / (2g² + Σ_hw A · g³ + ε)`
 * (0 where g = 0), the closed form that assumes an exponential score; XGrad-CAM
 * `Σ_hw g·A / (Σ_hw A + ε)`. Per position and channel (`[H·W·K]`): HiResCAM `g`, LayerCAM
 * `ReLU(g)`.
 */
export function camWeights(
	method: CamMethod,
	activation: tf.Tensor4D,
	gradient: tf.Tensor4D
): tf.Tensor1D {
	return tf.tidy(() => {
		if (method === 'gradcam') return tf.reshape(tf.mean(gradient, [0, 1, 2]), [-1]) as tf.Tensor1D;
		if (method === 'hirescam') return tf.reshape(gradient, [-1]) as tf.Tensor1D;
		if (method === 'layercam') return tf.reshape(tf.relu(gradient), [-1]) as tf.Tensor1D;
		if (method === 'xgradcam') {
			const weighted = tf.sum(tf.mul(gradient, activation), [0, 1, 2]);
			return tf.reshape(
				tf.div(weighted, tf.add(tf.sum(activation, [0, 1, 2]), xGradEpsilon)),
				[-1]
			) as tf.Tensor1D;
		}
		const squared = tf.square(gradient);
		const cubed = tf.mul(squared, gradient);
		const activationSums = tf.sum(activation, [1, 2], true);
		const alpha = tf.div(
			squared,
			tf.add(tf.add(tf.mul(squared, 2), tf.mul(activationSums, cubed)), plusPlusEpsilon)
		);
		const masked = tf.where(tf.notEqual(gradient, 0), alpha, tf.zerosLike(alpha));
		return tf.reshape(tf.sum(tf.mul(masked, tf.relu(gradient)), [0, 1, 2]), [-1]) as tf.Tensor1D;
	});
}

/**
 * Bilinear resize of a `height × width` map to `size × size` with half-pixel centres and edge
 * clamping (OpenCV's `cv2.resize`, which pytorch-grad-cam uses; `align_corners = False`).
 */
export function upsampleBilinear(
	raw: Float32Array,
	height: number,
	width: number,
	size: number
): Float32Array {
	const out = new Float32Array(size * size);
	const axis = (from: number, i: number): [number, number, number] => {
		const position = Math.min(Math.max(((i + 0.5) * from) / size - 0.5, 0), from - 1);
		const low = Math.floor(position);
		return [low, Math.min(low + 1, from - 1), position - low];
	};
	for (let y = 0; y < size; y++) {
		const [y0, y1, fy] = axis(height, y);
		for (let x = 0; x < size; x++) {
			const [x0, x1, fx] = axis(width, x);
			const at = (row: number, column: number) => raw[row * width + column] as number;
			const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
			const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
			out[y * size + x] = top * (1 - fy) + bottom * fy;
		}
	}
	return out;
}

/** pytorch-grad-cam's `scale_cam_image`: `(m − min) / (max − min + 1e-7)`, in place. */
export function scaleToUnit(map: Float32Array): Float32Array {
	let min = Infinity;
	let max = -Infinity;
	for (const value of map) {
		min = Math.min(min, value);
		max = Math.max(max, value);
	}
	for (let i = 0; i < map.length; i++)
		map[i] = ((map[i] as number) - min) / (max - min + scaleEpsilon);
	return map;
}

/**
 * The Grad-CAM or Grad-CAM++ map of one image (`inputSize² · 3` normalised floats, NHWC) for
 * `options.target` at conv block `options.layer`, on the active backend, in eval mode.
 * Gradients need `registerAllGradients()` (tfjs-core's CJS build registers none).
 */
export async function computeCam(
	encoder: Encoder,
	image: Float32Array,
	options: CamOptions
): Promise<CamResult> {
	const layer = options.layer ?? correspondingLayer(encoder.architecture, 'conv5');
	const size = encoder.inputSize;
	if (image.length !== size * size * 3) {
		throw new RangeError(
			`expected ${size}×${size}×3 = ${size * size * 3} floats, got ${image.length}`
		);
	}
	const parts = await camParts(encoder, image, { ...options, layer });
	const { height, width, channels, activation, weights, elementwise } = parts;
	const raw = new Float32Array(height * width);
	for (let p = 0; p < raw.length; p++) {
		let sum = 0;
		for (let k = 0; k < channels; k++) {
			const weight = weights[elementwise ? p * channels + k : k] as number;
			sum += (activation[p * channels + k] as number) * weight;
		}
		raw[p] = Math.max(0, sum);
	}
	return {
		map: scaleToUnit(upsampleBilinear(raw, height, width, size)),
		raw,
		height,
		width,
		score: parts.score
	};
}

/** What a CAM is made of: the layer's activation, the target's gradient and the channel weights. */
export interface CamParts {
	height: number;
	width: number;
	channels: number;
	/** `height × width × channels`, row-major (NHWC without the batch). */
	activation: Float32Array;
	/** ∂score/∂activation, laid out as `activation`. */
	gradient: Float32Array;
	/**
	 * The method's weights (see {@link camWeights}): one per channel, or, when `elementwise`,
	 * one per element laid out as `activation`.
	 */
	weights: Float32Array;
	elementwise: boolean;
	score: number;
}

/**
 * The ingredients of {@link computeCam}: the activation of `options.layer` for one image, the
 * gradient of the target's score with respect to it (tfjs autodiff on the active backend), and
 * the method's channel weights.
 */
export async function camParts(
	encoder: Encoder,
	image: Float32Array,
	options: Required<CamOptions>
): Promise<CamParts> {
	const { layer, target, method } = options;
	const size = encoder.inputSize;
	if (image.length !== size * size * 3) {
		throw new RangeError(
			`expected ${size}×${size}×3 = ${size * size * 3} floats, got ${image.length}`
		);
	}
	checkTarget(encoder, layer, target);
	const tensors = tf.tidy(() => {
		const input = tf.tensor4d(image, [1, size, size, 3]);
		const activation = encoder.convActivation(input, layer, { training: false });
		const scoreOf = (a: tf.Tensor) =>
			tf.sum(targetScores(encoder, a as tf.Tensor4D, layer, target)) as tf.Scalar;
		const { value, grad } = tf.valueAndGrad(scoreOf)(activation);
		const weights = camWeights(method, activation, grad as tf.Tensor4D);
		return [activation, grad, weights, value];
	});
	const [, height, width, channels] = (tensors[0] as tf.Tensor4D).shape;
	const [activation, gradient, weights, score] = (await Promise.all(
		tensors.map((t) => readAndDispose(t))
	)) as [Float32Array, Float32Array, Float32Array, Float32Array];
	return {
		height,
		width,
		channels,
		activation,
		gradient,
		weights,
		elementwise: elementwiseMethods.includes(method),
		score: score[0] as number
	};
}
