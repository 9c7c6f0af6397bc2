/**
 * Convolution and its gradients for the tfjs `wasm` backend.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel (training a conv net fails), its
 * `Conv2DBackpropInput` is a scalar C++ loop, and its XNNPACK `Conv2D` runs at about 29 GFLOP/s
 * per core. Each kernel here first tries the project's SIMD kernels (`wasm-simd-conv.ts`: an
 * indirect matrix product at about 45 GFLOP/s), which take the shapes of the encoders (output
 * channels in multiples of 8; the input gradient at stride 1); for the other shapes:
 * - forward: XNNPACK's kernel;
 * - input gradient: dy, dilated by the stride (zeros between pixels) and padded by
 *   `filter - 1 - pad`, convolved (stride 1) with the filter rotated by 180° and with its in/out
 *   channels swapped, on XNNPACK;
 * - filter gradient: a matrix product, im2col(x)ᵀ · dy, with the im2col matrix assembled by a
 *   JavaScript loop over the wasm heap (see {@link im2colTransposed}).
 * These compose the backend's own kernels (Transpose, Reverse, PadV2, Slice, Conv2D,
 * BatchMatMul), looked up in the kernel registry and called on the same backend, and free their
 * intermediates. NHWC, any strides and 'same' / 'valid' / explicit padding; forward dilations
 * other than 1 are not supported (tfjs-core's Conv2D gradient itself refuses them).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapFloats, type WasmHeapBackend } from './wasm-heap';
import { simdConv2D, simdConv2DBackpropFilter, simdConv2DBackpropInput } from './wasm-simd-conv';

const backendName = 'wasm';

type Padding = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** Runs one of the backend's registered kernels directly, bypassing the engine. */
function runWasmKernel(
	kernelName: string,
	backend: KernelBackend,
	inputs: Record<string, TensorInfo>,
	attrs: object = {}
): TensorInfo {
	const kernel = tf.getKernel(kernelName, backendName);
	if (!kernel) throw new Error(`The wasm backend has no '${kernelName}' kernel.`);
	const output = kernel.kernelFunc({ inputs, backend, attrs: attrs as NamedAttrMap });
	return Array.isArray(output) ? (output[0] as TensorInfo) : output;
}

/** Frees intermediate results; reshapes share data by reference count, so each is released. */
function release(backend: KernelBackend, ...infos: TensorInfo[]): void {
	for (const info of infos) backend.disposeData(info.dataId);
}

function reshape(backend: KernelBackend, x: TensorInfo, shape: number[]): TensorInfo {
	return runWasmKernel(tf.Reshape, backend, { x }, { shape });
}

function conv2dInfo(
	xShape: [number, number, number, number],
	filterShape: [number, number, number, number],
	attrs: NamedAttrMap
): tf.backend_util.Conv2DInfo {
	return tf.backend_util.computeConv2DInfo(
		xShape,
		filterShape,
		attrs.strides as [number, number] | number,
		1,
		attrs.pad as Padding,
		attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
		false,
		tf.backend_util.convertConv2DDataFormat(attrs.dataFormat as 'NHWC' | 'NCHW')
	);
}

/**
 * dy, dilated by the stride and padded so that a stride-1 'valid' convolution with the rotated
 * filter yields exactly the input's height and width. Returns null when a pad would be
 * negative (explicit pads wider than the filter), which the caller leaves to the stock kernel.
 */
function dilateAndPadDy(
	backend: KernelBackend,
	dy: TensorInfo,
	info: tf.backend_util.Conv2DInfo
): { padded: TensorInfo; pad: tf.backend_util.ExplicitPadding } | null {
	const { batchSize, outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
	const top = info.filterHeight - 1 - info.padInfo.top;
	const left = info.filterWidth - 1 - info.padInfo.left;
	// The stride-1 'valid' convolution must see inHeight + filterHeight - 1 rows.
	const bottom = info.inHeight + info.filterHeight - 1 - top - ((outHeight - 1) * strideHeight + 1);
	const right = info.inWidth + info.filterWidth - 1 - left - ((outWidth - 1) * strideWidth + 1);
	if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
	if (strideHeight === 1 && strideWidth === 1) {
		backend.incRef(dy.dataId);
		return {
			padded: dy,
			pad: [
				[0, 0],
				[top, bottom],
				[left, right],
				[0, 0]
			]
		};
	}
	// Zero insertion as a pad of unit axes: [B, OH, 1, OW, 1, O] → [B, OH, SH, OW, SW, O].
	const spread = reshape(backend, dy, [batchSize, outHeight, 1, outWidth, 1, outChannels]);
	const spaced = runWasmKernel(
		tf.PadV2,
		backend,
		{ x: spread },
		{
			paddings: [
				[0, 0],
				[0, 0],
				[0, strideHeight - 1],
				[0, 0],
				[0, strideWidth - 1],
				[0, 0]
			],
			constantValue: 0
		}
	);
	release(backend, spread);
	let dilated = reshape(backend, spaced, [
		batchSize,
		outHeight * strideHeight,
		outWidth * strideWidth,
		outChannels
	]);
	release(backend, spaced);
	// The zero insertion left stride - 1 trailing zero rows and columns: count them as padding.
	let padBottom = bottom - (strideHeight - 1);
	let padRight = right - (strideWidth - 1);
	if (padBottom < 0 || padRight < 0) {
		const cropped = runWasmKernel(
			tf.Slice,
			backend,
			{ x: dilated },
			{
				begin: [0, 0, 0, 0],
				size: [
					batchSize,
					outHeight * strideHeight + Math.min(padBottom, 0),
					outWidth * strideWidth + Math.min(padRight, 0),
					outChannels
				]
			}
		);
		release(backend, dilated);
		dilated = cropped;
		padBottom = Math.max(padBottom, 0);
		padRight = Math.max(padRight, 0);
	}
	return {
		padded: dilated,
		pad: [
			[0, 0],
			[top, padBottom],
			[left, padRight],
			[0, 0]
		]
	};
}

function makeConv2dBackpropInput(stock: KernelConfig | undefined): tf.KernelFunc {
	return (args) => {
		const backend = args.backend as KernelBackend;
		const attrs = args.attrs ?? {};
		const dy = args.inputs.dy as TensorInfo;
		const filter = args.inputs.filter as TensorInfo;
		const info = conv2dInfo(
			attrs.inputShape as [number, number, number, number],
			filter.shape as [number, number, number, number],
			attrs
		);
		const direct = simdConv2DBackpropInput(backend as WasmHeapBackend, dy, filter, info);
		if (direct) return direct;
		const prepared = info.dataFormat === 'channelsLast' ? dilateAndPadDy(backend, dy, info) : null;
		if (!prepared) {
			if (!stock) throw new Error('Conv2DBackpropInput on wasm: unsupported layout or padding.');
			return stock.kernelFunc(args);
		}
		// Rotated by 180° and with in/out channels swapped: [FH, FW, O, C].
		const reversed = runWasmKernel(tf.Reverse, backend, { x: filter }, { dims: [0, 1] });
		const rotated = runWasmKernel(tf.Transpose, backend, { x: reversed }, { perm: [0, 1, 3, 2] });
		release(backend, reversed);
		const dx = runWasmKernel(
			tf.Conv2D,
			backend,
			{ x: prepared.padded, filter: rotated },
			{ strides: [1, 1], pad: prepared.pad, dataFormat: 'NHWC', dilations: [1, 1] }
		);
		release(backend, prepared.padded, rotated);
		return dx;
	};
}

/**
 * The transposed im2col matrix of x for a convolution: row `(kh·FW + kw)·C + c`, column
 * `(b·OH + oy)·OW + ox` holds the input value that filter tap (kh, kw, c) met at output pixel
 * (b, oy, ox), 0 in the padding. x is first copied channel-major and zero-padded to exactly the
 * rows and columns the forward pass read (`[C, B, rowsRead, colsRead]`), so that every row of
 * the matrix is assembled from runs read in order rather than one float per `C` floats of x.
 */
export function im2colTransposed(
	x: Float32Array,
	out: Float32Array,
	info: tf.backend_util.Conv2DInfo
): void {
	const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
	const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
	const rowsRead = (outHeight - 1) * strideHeight + filterHeight;
	const colsRead = (outWidth - 1) * strideWidth + filterWidth;
	const plane = rowsRead * colsRead;
	const channelStride = batchSize * plane;
	const framed = new Float32Array(inChannels * channelStride);
	const lastRow = Math.min(inHeight, rowsRead - padInfo.top);
	const lastCol = Math.min(inWidth, colsRead - padInfo.left);
	for (let b = 0; b < batchSize; b++) {
		for (let row = 0; row < lastRow; row++) {
			const framedRow = b * plane + (row + padInfo.top) * colsRead + padInfo.left;
			for (let col = 0; col < lastCol; col++) {
				let from = ((b * inHeight + row) * inWidth + col) * inChannels;
				let to = framedRow + col;
				for (let c = 0; c < inChannels; c++, to += channelStride) framed[to] = x[from++] as number;
			}
		}
	}
	const rowStep = strideHeight * colsRead;
	let at = 0;
	for (let kh = 0; kh < filterHeight; kh++) {
		for (let kw = 0; kw < filterWidth; kw++) {
			for (let c = 0; c < inChannels; c++) {
				for (let b = 0; b < batchSize; b++) {
					let rowStart = c * channelStride + b * plane + kh * colsRead + kw;
					for (let oy = 0; oy < outHeight; oy++, rowStart += rowStep) {
						let from = rowStart;
						for (let ox = 0; ox < outWidth; ox++, from += strideWidth) {
							out[at++] = framed[from] as number;
						}
					}
				}
			}
		}
	}
}

/**
 * dW = im2col(x)ᵀ · dy: the transposed im2col matrix `[FH·FW·C, B·OH·OW]` built in JavaScript
 * on the heap, times dy seen as `[B·OH·OW, O]` by the backend's plain (untransposed)
 * BatchMatMul, gives `[FH, FW, C, O]` directly. This replaced a formulation as a forward
 * convolution of x with batch and channels swapped, with dy as a huge filter: XNNPACK runs that
 * convolution (a B-channel input, an OH×OW filter) far below its GEMM speed, and it needed three
 * transposes, which wasm runs at about 0.4 GB/s.
 */
const conv2dBackpropFilter: tf.KernelFunc = (args) => {
	const { inputs } = args;
	const backend = args.backend as WasmHeapBackend;
	const attrs = args.attrs ?? {};
	const x = inputs.x as TensorInfo;
	const dy = inputs.dy as TensorInfo;
	const filterShape = attrs.filterShape as [number, number, number, number];
	const info = conv2dInfo(x.shape as [number, number, number, number], filterShape, attrs);
	if (info.dataFormat !== 'channelsLast') {
		throw new Error("Conv2DBackpropFilter on wasm supports only dataFormat 'NHWC'.");
	}
	const direct = simdConv2DBackpropFilter(backend, x, dy, info);
	if (direct) return direct;
	const taps = info.filterHeight * info.filterWidth * info.inChannels;
	const pixels = info.batchSize * info.outHeight * info.outWidth;
	const columns = backend.makeOutput([taps, pixels], 'float32');
	im2colTransposed(heapFloats(backend, x), heapFloats(backend, columns), info);
	const dyMatrix = reshape(backend, dy, [pixels, info.outChannels]);
	const product = runWasmKernel(
		tf.BatchMatMul,
		backend,
		{ a: columns, b: dyMatrix },
		{ transposeA: false, transposeB: false }
	);
	release(backend, columns, dyMatrix);
	const gradient = reshape(backend, product, filterShape);
	release(backend, product);
	return gradient;
};

/** Conv2D on the SIMD kernels where they take the shape, else the stock XNNPACK kernel. */
function makeConv2D(stock: KernelConfig): tf.KernelFunc {
	return (args) => {
		const attrs = args.attrs ?? {};
		const x = args.inputs.x as TensorInfo;
		const filter = args.inputs.filter as TensorInfo;
		const info = tf.backend_util.computeConv2DInfo(
			x.shape as [number, number, number, number],
			filter.shape as [number, number, number, number],
			attrs.strides as [number, number] | number,
			attrs.dilations as [number, number] | number,
			attrs.pad as Padding,
			attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
			false,
			tf.backend_util.convertConv2DDataFormat(attrs.dataFormat as 'NHWC' | 'NCHW')
		);
		return simdConv2D(args.backend as WasmHeapBackend, x, filter, info) ?? stock.kernelFunc(args);
	};
}

let installed = false;

/**
 * Registers `Conv2DBackpropFilter`, a faster `Conv2DBackpropInput` and `Conv2D` for the wasm
 * backend.
 * Call after importing `@tensorflow/tfjs-backend-wasm` and before or after `setBackend('wasm')`.
 * Idempotent. The stock input kernel stays as the fallback for NCHW and for explicit pads wider
 * than the filter; its setup (binding its C++ function) is kept so that fallback works.
 */
export function registerWasmConvBackprop(): void {
	if (installed) return;
	const stockInput = tf.getKernel(tf.Conv2DBackpropInput, backendName);
	if (stockInput) tf.unregisterKernel(tf.Conv2DBackpropInput, backendName);
	tf.registerKernel({
		kernelName: tf.Conv2DBackpropInput,
		backendName,
		kernelFunc: makeConv2dBackpropInput(stockInput),
		...(stockInput?.setupFunc ? { setupFunc: stockInput.setupFunc } : {})
	});
	if (tf.getKernel(tf.Conv2DBackpropFilter, backendName)) {
		tf.unregisterKernel(tf.Conv2DBackpropFilter, backendName);
	}
	tf.registerKernel({
		kernelName: tf.Conv2DBackpropFilter,
		backendName,
		kernelFunc: conv2dBackpropFilter
	});
	const stockConv = tf.getKernel(tf.Conv2D, backendName);
	if (stockConv) {
		tf.unregisterKernel(tf.Conv2D, backendName);
		tf.registerKernel({
			kernelName: tf.Conv2D,
			backendName,
			kernelFunc: makeConv2D(stockConv),
			...(stockConv.setupFunc ? { setupFunc: stockConv.setupFunc } : {})
		});
	}
	installed = true;
}
