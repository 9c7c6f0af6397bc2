/**
 * The contract between feature visualisation and the network it visualises. The random CNN of
 * `feature_vis-random` implements it now; an encoder the app has trained (the paper's
 * `feature_vis-dead_leaves` uses a MoCo v2 ResNet-50) can implement it later and be passed to
 * {@link renderFeatureVis} without changes here.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** Per-channel input normalisation, applied after the augmentations (§2.4 step 6). */
export interface InputNormalisation {
	mean: readonly [number, number, number];
	std: readonly [number, number, number];
}

/** torchvision's ImageNet statistics, which the paper's ResNet-50 (random or MoCo) expects. */
export const imagenetNormalisation: InputNormalisation = {
	mean: [0.485, 0.456, 0.406],
	std: [0.229, 0.224, 0.225]
};

/**
 * A network whose pooled features feature visualisation maximises. It owns its weights: the
 * caller calls `dispose()` once, after its last `forward`.
 */
export interface FeatureNetwork {
	/** The width of the pooled feature vector (2048 for ResNet-50's avgpool). */
	readonly pooledWidth: number;
	/** How the network expects its input normalised; ImageNet statistics when absent. */
	readonly normalisation?: InputNormalisation;
	/**
	 * Pooled features `[batch, pooledWidth]` of a normalised NHWC batch. It must be
	 * differentiable with respect to `x` and must not keep tensors it creates.
	 */
	forward(x: tf.Tensor4D): tf.Tensor2D;
	/** Frees the weights. */
	dispose(): void;
}
