/**
 * What Evaluate and Explain need of an encoder, whatever its architecture: features at a
 * layer, a conv layer's map and the rest of the network from it (Grad-CAM), the embedding
 * before normalisation, and the first layer's filters. `SmallAlexNet` (training/model.ts) and
 * `ResNetEncoder` (resnet.ts) implement it.
 *
 * Inputs are NHWC floats normalised with NoiseLab's STL-10 statistics, the app's one image
 * pipeline; an encoder that expects another normalisation converts inside
 * ({@link withInputNormalisation}).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
	stl10Normalisation,
	type EncoderArchitecture,
	type FeatureLayer,
	type Normalisation
} from './architecture';

/** Options of a forward pass. */
export interface EncoderForwardOptions {
	/** Batch statistics (true, training only) or running statistics (false) in batch norm. */
	training: boolean;
	/** Training only: batch-norm groups (see `SmallAlexNet`). */
	groups?: number;
	/** Stop at this layer; spatial maps are averaged over H and W. Default: the output. */
	layer?: FeatureLayer;
}

/** An encoder as Evaluate and Explain use it. It owns its weights. */
export interface Encoder {
	readonly architecture: EncoderArchitecture;
	/** Side of the square input in pixels. */
	readonly inputSize: number;
	/** Width of the output (the embedding, or ResNet's pooled features). */
	readonly embeddingDim: number;
	/** `[N, features]` at `options.layer` (default: the output). */
	forward(x: tf.Tensor4D, options: EncoderForwardOptions): tf.Tensor2D;
	/** The 4-D map `[N, H, W, C]` of a spatial layer. */
	convActivation(x: tf.Tensor4D, layer: FeatureLayer, options: { training: boolean }): tf.Tensor4D;
	/**
	 * The rest of {@link forward} from the map of `fromLayer`; differentiable in `activation`:
	 * `forwardFrom(convActivation(x, l), l, o)` equals `forward(x, o)`.
	 */
	forwardFrom(
		activation: tf.Tensor4D,
		fromLayer: FeatureLayer,
		options: EncoderForwardOptions
	): tf.Tensor2D;
	/** The output before any L2 normalisation, from the map of `fromLayer` (eval mode). */
	rawEmbeddingFrom(activation: tf.Tensor4D, fromLayer: FeatureLayer): tf.Tensor2D;
	/** The first conv layer's kernel, HWIO `[k, k, 3, filters]`. */
	firstLayerKernel(): tf.Tensor4D;
	/** Channels of a spatial layer's map. */
	channelsAt(layer: FeatureLayer): number;
	/** Number of weights (for cache budgets and reports). */
	weightCount(): number;
	/** Frees every tensor this encoder owns. */
	dispose(): void;
}

/**
 * `encoder` fed with images normalised by `normalisation` instead of STL-10: an exact per-channel
 * affine map `x·(σ_stl/σ) + (μ_stl − μ)/σ` in front of the first layer. Returns `encoder` itself
 * when the statistics are STL-10's.
 */
export function withInputNormalisation(encoder: Encoder, normalisation: Normalisation): Encoder {
	const same = [0, 1, 2].every(
		(c) =>
			Math.abs((normalisation.mean[c] as number) - (stl10Normalisation.mean[c] as number)) <
				1e-12 &&
			Math.abs((normalisation.std[c] as number) - (stl10Normalisation.std[c] as number)) < 1e-12
	);
	if (same) return encoder;
	const scale = tf.keep(
		tf.tensor1d(
			[0, 1, 2].map((c) => (stl10Normalisation.std[c] as number) / (normalisation.std[c] as number))
		)
	);
	const shift = tf.keep(
		tf.tensor1d(
			[0, 1, 2].map(
				(c) =>
					((stl10Normalisation.mean[c] as number) - (normalisation.mean[c] as number)) /
					(normalisation.std[c] as number)
			)
		)
	);
	const adapt = (x: tf.Tensor4D) => tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
	return {
		architecture: encoder.architecture,
		inputSize: encoder.inputSize,
		embeddingDim: encoder.embeddingDim,
		forward: (x, options) => tf.tidy(() => encoder.forward(adapt(x), options)),
		convActivation: (x, layer, options) =>
			tf.tidy(() => encoder.convActivation(adapt(x), layer, options)),
		forwardFrom: (activation, fromLayer, options) =>
			encoder.forwardFrom(activation, fromLayer, options),
		rawEmbeddingFrom: (activation, fromLayer) => encoder.rawEmbeddingFrom(activation, fromLayer),
		firstLayerKernel: () => encoder.firstLayerKernel(),
		channelsAt: (layer) => encoder.channelsAt(layer),
		weightCount: () => encoder.weightCount(),
		dispose: () => {
			scale.dispose();
			shift.dispose();
			encoder.dispose();
		}
	};
}
