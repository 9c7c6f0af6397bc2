/**
 * A trained SmallAlexNet (a run's checkpoint) as a {@link FeatureNetwork}, for
 * `feature_vis-dead_leaves`. The paper visualised a ResNet-50 trained with MoCo v2 on 1.3M
 * dead-leaves images (§2.4); here the encoder is the one NoiseLab trains, at CPU scale.
 *
 * - Units: the pooled units of a conv block (conv5 by default: the mean of each channel over the
 *   map, the counterpart of ResNet-50's avgpool) or of fc6/fc7.
 * - Input: the encoder sees 32 or 64 px. The optimised image (its size, plus the transforms'
 *   padding) is first averaged over f×f blocks (f = ⌊side / input⌋) and then resized bilinearly,
 *   so every pixel receives gradient; a plain bilinear resize by 4–8× would sample a few pixels
 *   and leave a grid of untouched ones.
 * - Normalisation: the STL-10 statistics the encoder was trained with.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadSmallAlexNet } from '../../encoders/build';
import { stl10Mean, stl10Std } from '../../training/augment';
import { modelPresets } from '../../training/encoder-spec';
import type { SmallAlexNet } from '../../training/model';
import type { EncoderWeightsSource, PinnedEncoder } from '../trained-encoders';
import type { FeatureNetwork, InputNormalisation } from './feature-network';

/** The layers whose units can be visualised. */
export const trainedFeatureLayers = ['conv5', 'fc6', 'fc7'] as const;

/** One of {@link trainedFeatureLayers}. */
export type TrainedFeatureLayer = (typeof trainedFeatureLayers)[number];

/** The STL-10 normalisation of the paper's training pipeline. */
export const stl10Normalisation: InputNormalisation = { mean: stl10Mean, std: stl10Std };

/** Box filters `[f, f, 3, 3]` (1/f² per channel, no mixing), by f. */
function boxFilter(factor: number): tf.Tensor4D {
	const values = new Float32Array(factor * factor * 9);
	for (let tap = 0; tap < factor * factor; tap++) {
		for (let channel = 0; channel < 3; channel++)
			values[tap * 9 + channel * 4] = 1 / (factor * factor);
	}
	return tf.tensor4d(values, [factor, factor, 3, 3]);
}

/**
 * Shrinks `[1, side, side, 3]` to `[1, size, size, 3]`: the mean of f×f blocks, then a bilinear
 * resize (align corners, as the paper's final resize) of what remains.
 */
export function areaResize(x: tf.Tensor4D, size: number): tf.Tensor4D {
	return tf.tidy(() => {
		let resized = x;
		const factor = Math.floor(Math.min(x.shape[1], x.shape[2]) / size);
		if (factor >= 2) resized = tf.conv2d(resized, boxFilter(factor), factor, 'valid');
		if (resized.shape[1] !== size || resized.shape[2] !== size) {
			resized = tf.image.resizeBilinear(resized, [size, size], true);
		}
		return resized;
	});
}

/** The units of one layer of a trained encoder; owns nothing (the cache owns the encoder). */
export class TrainedEncoderNetwork implements FeatureNetwork {
	readonly pooledWidth: number;
	readonly normalisation = stl10Normalisation;

	constructor(
		private readonly encoder: SmallAlexNet,
		private readonly layer: TrainedFeatureLayer
	) {
		const { spec } = encoder;
		this.pooledWidth = layer === 'conv5' ? spec.channels[4] : spec.fcWidth;
	}

	forward(x: tf.Tensor4D): tf.Tensor2D {
		return tf.tidy(() =>
			this.encoder.forward(areaResize(x, this.encoder.spec.inputSize), {
				training: false,
				layer: this.layer
			})
		);
	}

	/** The encoder belongs to the cache; release the lease instead. */
	dispose(): void {}
}

interface CacheEntry {
	encoder: SmallAlexNet;
	users: number;
}

const cache = new Map<string, CacheEntry>();

/** A trained network borrowed from the cache; call `release()` when done with it. */
export interface TrainedNetworkLease {
	network: TrainedEncoderNetwork;
	release(): void;
}

/**
 * The network of `encoder`'s `layer`, its weights loaded once per checkpoint from `source` and
 * shared by every image. Loading another checkpoint first frees the idle ones.
 */
export function acquireTrainedNetwork(
	encoder: PinnedEncoder,
	layer: TrainedFeatureLayer,
	source: EncoderWeightsSource
): TrainedNetworkLease {
	let entry = cache.get(encoder.sha256);
	if (!entry) {
		const weights = source(encoder);
		for (const [key, other] of cache) {
			if (other.users === 0) {
				other.encoder.dispose();
				cache.delete(key);
			}
		}
		// The seed only matters for weights the checkpoint lacks, and loadSmallAlexNet refuses those.
		entry = {
			encoder: loadSmallAlexNet(modelPresets[weights.model], 0, weights.tensors),
			users: 0
		};
		cache.set(encoder.sha256, entry);
	}
	const held = entry;
	held.users++;
	let released = false;
	return {
		network: new TrainedEncoderNetwork(held.encoder, layer),
		release: () => {
			if (released) return;
			released = true;
			held.users--;
		}
	};
}

/** Frees every idle cached encoder. */
export function clearTrainedNetworkCache(): void {
	for (const [key, entry] of cache) {
		if (entry.users === 0) {
			entry.encoder.dispose();
			cache.delete(key);
		}
	}
}
