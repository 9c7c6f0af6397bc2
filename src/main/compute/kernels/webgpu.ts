/**
 * The project's kernel pack for the tfjs `webgpu` backend: kernels tfjs-backend-webgpu 4.22
 * computes differently from the cpu backend (and PyTorch) in a way training notices. Each is
 * checked against cpu by test/main/webgpu-kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpuMaxPoolGradConfig } from './webgpu-max-pool-grad';

const pack = [webgpuMaxPoolGradConfig];

/** Replaces the stock kernels with the pack's. Idempotent; load tfjs-backend-webgpu first. */
export function registerWebGpuKernelPack(): void {
	for (const config of pack) {
		if (tf.getKernel(config.kernelName, 'webgpu') === config) continue;
		if (tf.getKernel(config.kernelName, 'webgpu')) tf.unregisterKernel(config.kernelName, 'webgpu');
		tf.registerKernel(config);
	}
}
