import type * as tf from '@tensorflow/tfjs-core';

/**
 * A float tensor's values as a new array, read asynchronously, then the tensor disposed. Code
 * that runs on the selected backend reads this way: the webgpu backend cannot read
 * synchronously in Node (tfjs's `dataSync` there goes through a browser's OffscreenCanvas).
 */
export async function readAndDispose(tensor: tf.Tensor): Promise<Float32Array> {
	try {
		return Float32Array.from(await tensor.data<'float32'>());
	} finally {
		tensor.dispose();
	}
}
