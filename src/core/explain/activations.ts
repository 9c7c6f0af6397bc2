/**
 * What one channel of a conv block responds to in an image: the channel's activation map, next
 * to the mean activation of every channel so that the active ones can be found.
 */
import { type FeatureLayer } from '../encoders/architecture';
import type { Encoder } from '../encoders/encoder';
import * as tf from '@tensorflow/tfjs-core';
import { upsampleBilinear } from './gradcam';
import { readAndDispose } from '../compute/read';

/** One channel's activation map and every channel's strength. */
export interface ChannelActivation {
	/** Channels of the layer. */
	channels: number;
	/** The channel shown. */
	channel: number;
	/** `size²` bytes, row-major: 0–255 = 0 … {@link max}, bilinearly upsampled. */
	map: Uint8Array;
	/** The channel's largest activation (the map's scale); 0 for a channel that is off. */
	max: number;
	/** Mean activation of each channel over the map. */
	strengths: number[];
}

/**
 * The output of conv block `layer` (after its ReLU and pool, batch norm in eval mode) for one
 * image (`inputSize² · 3` normalised floats, NHWC), shown for `channel` — by default the
 * channel with the largest mean activation (the lowest index on a tie).
 *
 * The map is scaled from 0, not from its minimum: the block ends in a ReLU, so 0 means "silent"
 * and stays black, and the share of the maximum is comparable across images.
 */
export async function channelActivation(
	encoder: Encoder,
	input: Float32Array,
	layer: FeatureLayer,
	channel: number | undefined,
	size: number
): Promise<ChannelActivation> {
	const inputSize = encoder.inputSize;
	if (input.length !== inputSize * inputSize * 3) {
		throw new RangeError(
			`expected ${inputSize}×${inputSize}×3 = ${inputSize * inputSize * 3} floats, got ${input.length}`
		);
	}
	// Checked before running the encoder, so a bad request costs nothing; throws for a layer
	// without a spatial map.
	const layerChannels = encoder.channelsAt(layer);
	if (
		channel !== undefined &&
		(!Number.isInteger(channel) || channel < 0 || channel >= layerChannels)
	) {
		throw new RangeError(
			`Channel ${channel} does not exist: ${layer} has channels 0 to ${layerChannels - 1}.`
		);
	}
	if (!Number.isInteger(size) || size < 1) {
		throw new RangeError(`The map size must be a positive integer, got ${size}.`);
	}
	const output = tf.tidy(() =>
		encoder.convActivation(tf.tensor4d(input, [1, inputSize, inputSize, 3]), layer, {
			training: false
		})
	);
	const [, height, width, channels] = output.shape;
	const activation = await readAndDispose(output);
	const pixels = height * width;
	const sums = new Float64Array(channels);
	for (let p = 0; p < pixels; p++) {
		for (let k = 0; k < channels; k++)
			sums[k] = (sums[k] as number) + (activation[p * channels + k] as number);
	}
	const strengths = Array.from(sums, (sum) => sum / pixels);
	let chosen = channel ?? 0;
	if (channel === undefined) {
		for (let k = 1; k < channels; k++) {
			if ((strengths[k] as number) > (strengths[chosen] as number)) chosen = k;
		}
	}
	const raw = new Float32Array(pixels);
	let max = 0;
	for (let p = 0; p < pixels; p++) {
		const value = activation[p * channels + chosen] as number;
		raw[p] = value;
		max = Math.max(max, value);
	}
	// Bilinear weights are convex, so the upsampled map stays within [0, max].
	const upsampled = upsampleBilinear(raw, height, width, size);
	const map = new Uint8Array(size * size);
	if (max > 0) {
		for (let i = 0; i < map.length; i++) {
			map[i] = Math.round(Math.min(Math.max((upsampled[i] as number) / max, 0), 1) * 255);
		}
	}
	return { channels, channel: chosen, map, max, strengths };
}
