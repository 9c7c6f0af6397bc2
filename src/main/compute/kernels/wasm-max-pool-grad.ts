/**
 * `MaxPoolGrad` for the tfjs `wasm` backend as a JavaScript loop over the wasm heap.
 *
 * tfjs-backend-wasm 4.22's own kernel is a gather over every input pixel that rescans each
 * window covering it: about 80× slower than the forward pool, and the app's third largest cost
 * per training step. This one scatters instead: for each output pixel it finds the window's
 * maximum for all channels at once (NHWC keeps the channels contiguous, so the inner loop runs
 * over a contiguous run of floats) and adds dy to that input position.
 *
 * Semantics are tfjs-backend-cpu's exactly: the gradient goes to the first maximum of the window
 * in row-major order (a strict `>` scan from -Infinity), so ties go to the top-left-most
 * element, and a window whose values are all NaN or -Infinity passes no gradient. Contributions
 * of overlapping windows are added in the same (row, column) order as cpu's, though each sum is
 * rounded to float32 as it goes (cpu rounds once), which can differ in the last bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapFloats, heapOffset, type WasmHeapBackend } from './wasm-heap';
import { simdKernelsOf } from './wasm-simd-conv';
import type { SimdKernels } from './wasm-simd-module';

/**
 * Input gradient of a 2-D max pool, NHWC: `dx[argmax of each window] += dy[window]`.
 * `info` is tfjs's pool geometry (strides, padding, filter; dilation 1).
 */
export function maxPoolBackprop(
	x: Float32Array,
	dy: Float32Array,
	dx: Float32Array,
	info: tf.backend_util.Conv2DInfo
): void {
	const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
	const { strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = info;
	dx.fill(0);
	const best = new Float32Array(channels);
	const bestAt = new Int32Array(channels);
	let dyAt = 0;
	for (let b = 0; b < batchSize; b++) {
		const imageStart = b * inHeight;
		for (let outRow = 0; outRow < outHeight; outRow++) {
			const rowCorner = outRow * strideHeight - padInfo.top;
			const rowStart = Math.max(rowCorner, 0);
			const rowEnd = Math.min(rowCorner + filterHeight, inHeight);
			for (let outCol = 0; outCol < outWidth; outCol++, dyAt += channels) {
				const colCorner = outCol * strideWidth - padInfo.left;
				const colStart = Math.max(colCorner, 0);
				const colEnd = Math.min(colCorner + filterWidth, inWidth);
				best.fill(Number.NEGATIVE_INFINITY);
				bestAt.fill(-1);
				for (let row = rowStart; row < rowEnd; row++) {
					for (let col = colStart; col < colEnd; col++) {
						const pixelAt = ((imageStart + row) * inWidth + col) * channels;
						for (let channel = 0; channel < channels; channel++) {
							const value = x[pixelAt + channel] as number;
							if (value > (best[channel] as number)) {
								best[channel] = value;
								bestAt[channel] = pixelAt + channel;
							}
						}
					}
				}
				for (let channel = 0; channel < channels; channel++) {
					const target = bestAt[channel] as number;
					if (target >= 0) dx[target] = (dx[target] as number) + (dy[dyAt + channel] as number);
				}
			}
		}
	}
}

/**
 * {@link maxPoolBackprop} on the SIMD module's `maxPoolWindow` (4 channels per vector, no
 * branches in the scan): one call per output pixel, the same bits.
 */
function maxPoolBackpropSimd(
	kernels: SimdKernels,
	backend: WasmHeapBackend,
	tensors: { input: TensorInfo; dy: TensorInfo; dx: TensorInfo },
	info: tf.backend_util.Conv2DInfo
): void {
	const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
	const { strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = info;
	heapFloats(backend, tensors.dx).fill(0);
	const xAt = heapOffset(backend, tensors.input);
	const delta = heapOffset(backend, tensors.dx) - xAt;
	let dyAt = heapOffset(backend, tensors.dy);
	const pixelBytes = channels * 4;
	const rowBytes = inWidth * pixelBytes;
	for (let b = 0; b < batchSize; b++) {
		for (let outRow = 0; outRow < outHeight; outRow++) {
			const rowCorner = outRow * strideHeight - padInfo.top;
			const rowStart = Math.max(rowCorner, 0);
			const rows = Math.min(rowCorner + filterHeight, inHeight) - rowStart;
			for (let outCol = 0; outCol < outWidth; outCol++, dyAt += pixelBytes) {
				const colCorner = outCol * strideWidth - padInfo.left;
				const colStart = Math.max(colCorner, 0);
				const columns = Math.min(colCorner + filterWidth, inWidth) - colStart;
				if (rows <= 0 || columns <= 0) continue;
				kernels.maxPoolWindow(
					xAt + (b * inHeight + rowStart) * rowBytes + colStart * pixelBytes,
					rows,
					columns,
					pixelBytes,
					rowBytes,
					channels / 4,
					dyAt,
					delta
				);
			}
		}
	}
}

function makeMaxPoolGrad(stock: KernelConfig | undefined): tf.KernelFunc {
	return (args) => {
		const backend = args.backend as WasmHeapBackend;
		const attrs = (args.attrs ?? {}) as NamedAttrMap;
		const dy = args.inputs.dy as TensorInfo;
		const input = args.inputs.input as TensorInfo;
		if (input.dtype !== 'float32' || dy.dtype !== 'float32' || input.shape.length !== 4) {
			if (!stock) throw new Error('MaxPoolGrad on wasm: only float32 NHWC input is supported.');
			return stock.kernelFunc(args);
		}
		const info = tf.backend_util.computePool2DInfo(
			input.shape as [number, number, number, number],
			attrs.filterSize as [number, number] | number,
			attrs.strides as [number, number] | number,
			1,
			attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
			attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined
		);
		const dx = backend.makeOutput([...input.shape], 'float32');
		const kernels = simdKernelsOf(backend);
		if (kernels && info.inChannels % 4 === 0) {
			maxPoolBackpropSimd(kernels, backend, { input, dy, dx }, info);
			return dx;
		}
		maxPoolBackprop(
			heapFloats(backend, input),
			heapFloats(backend, dy),
			heapFloats(backend, dx),
			info
		);
		return dx;
	};
}

let installed = false;

/**
 * Registers the scatter `MaxPoolGrad` for the wasm backend, keeping the stock kernel (and its
 * setup, which binds its C++ function) as the fallback for non-float32 input. Idempotent.
 */
export function registerWasmMaxPoolGrad(): void {
	if (installed) return;
	const stock = tf.getKernel(tf.MaxPoolGrad, 'wasm');
	if (stock) tf.unregisterKernel(tf.MaxPoolGrad, 'wasm');
	tf.registerKernel({
		kernelName: tf.MaxPoolGrad,
		backendName: 'wasm',
		kernelFunc: makeMaxPoolGrad(stock),
		...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {})
	});
	installed = true;
}
