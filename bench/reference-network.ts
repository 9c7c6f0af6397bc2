/**
 * The reference conv net of the training benchmarks (`bench/wasm-training.ts`), the same network
 * as `bench/reference-pytorch.py`: 64×64×3 input, conv 64 5×5 stride 2, max pool 3/2, conv 128
 * 3×3, max pool 3/2, conv 192 3×3, conv 192 3×3, conv 128 3×3 (all 'same', with bias and ReLU),
 * global average pool, dense 128; the loss is the mean square of the output.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The network's trainable variables. */
export interface Network {
	convs: { filter: tf.Variable; bias: tf.Variable; stride: number }[];
	denseWeights: tf.Variable;
	denseBias: tf.Variable;
	/** Every variable, in a fixed order. */
	variables: tf.Variable[];
}

/** Side of the input images. */
export const referenceInputSize = 64;
/** Width of the output. */
export const referenceOutputWidth = 128;

/** He-normal weights from a fixed seed, so every backend trains the same network. */
export function buildNetwork(): Network {
	let seed = 1;
	const heNormal = (shape: number[], fanIn: number) =>
		tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed++), Math.sqrt(2 / fanIn)));
	const specs: [number, number, number, number][] = [
		// [filter size, in channels, out channels, stride]
		[5, 3, 64, 2],
		[3, 64, 128, 1],
		[3, 128, 192, 1],
		[3, 192, 192, 1],
		[3, 192, 128, 1]
	];
	const convs = specs.map(([size, inChannels, outChannels, stride]) => ({
		filter: heNormal([size, size, inChannels, outChannels], size * size * inChannels),
		bias: tf.variable(tf.zeros([outChannels])),
		stride
	}));
	const denseWeights = heNormal([128, referenceOutputWidth], 128);
	const denseBias = tf.variable(tf.zeros([referenceOutputWidth]));
	return {
		convs,
		denseWeights,
		denseBias,
		variables: [...convs.flatMap((conv) => [conv.filter, conv.bias]), denseWeights, denseBias]
	};
}

/** The network's output for `images` (`[N, 64, 64, 3]`). */
export function forward(network: Network, images: tf.Tensor4D): tf.Tensor2D {
	let x: tf.Tensor4D = images;
	for (const [index, conv] of network.convs.entries()) {
		x = tf.relu(tf.add(tf.conv2d(x, conv.filter as tf.Tensor4D, conv.stride, 'same'), conv.bias));
		// Max pools after the first two convolutions.
		if (index < 2) x = tf.maxPool(x, 3, 2, 'same');
	}
	const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
	return tf.add(tf.matMul(pooled, network.denseWeights as tf.Tensor2D), network.denseBias);
}

/**
 * The loss of a shard of `batch` images: the sum of its squared outputs over `batch · 128`, so
 * that the shards' losses (and gradients) add up to the mean square over the whole batch.
 */
export function shardLoss(network: Network, images: tf.Tensor4D, batch: number): tf.Scalar {
	return tf.div(
		tf.sum(tf.square(forward(network, images))),
		batch * referenceOutputWidth
	) as tf.Scalar;
}
