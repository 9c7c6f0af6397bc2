/**
 * Convolution gradients for the tfjs `wasm` backend, built on its XNNPACK forward convolution.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel (training a conv net fails) and
 * its `Conv2DBackpropInput` is a scalar C++ loop. Both gradients are convolutions themselves:
 * - input gradient: dy, dilated by the stride (zeros between pixels) and padded by
 *   `filter - 1 - pad`, convolved (stride 1) with the filter rotated by 180° and with its in/out
 *   channels swapped;
 * - filter gradient: x with batch and channels swapped (`[C, H, W, B]`), convolved with dy as
 *   the filter (`[OH, OW, B, O]`, dilated by the stride), gives `[C, FH, FW, O]`.
 * The kernels compose the backend's own kernels (Transpose, Reverse, PadV2, Slice, Conv2D),
 * looked up in the kernel registry and called on the same backend, and free their
 * intermediates. NHWC, any strides and 'same' / 'valid' / explicit padding; forward dilations
 * other than 1 are not supported (tfjs-core's Conv2D gradient itself refuses them).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

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

const conv2dBackpropFilter: tf.KernelFunc = (args) => {
	const { inputs } = args;
	const backend = args.backend as KernelBackend;
	const attrs = args.attrs ?? {};
	const x = inputs.x as TensorInfo;
	const dy = inputs.dy as TensorInfo;
	const filterShape = attrs.filterShape as [number, number, number, number];
	const info = conv2dInfo(x.shape as [number, number, number, number], filterShape, attrs);
	if (info.dataFormat !== 'channelsLast') {
		throw new Error("Conv2DBackpropFilter on wasm supports only dataFormat 'NHWC'.");
	}
	const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
	const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
	// x padded (or cropped) to exactly the rows and columns the forward pass read.
	const rowsRead = (outHeight - 1) * strideHeight + filterHeight;
	const colsRead = (outWidth - 1) * strideWidth + filterWidth;
	const padBottom = rowsRead - inHeight - padInfo.top;
	const padRight = colsRead - inWidth - padInfo.left;
	let framed = x;
	backend.incRef(x.dataId);
	if (padInfo.top > 0 || padInfo.left > 0 || padBottom > 0 || padRight > 0) {
		const padded = runWasmKernel(
			tf.PadV2,
			backend,
			{ x: framed },
			{
				paddings: [
					[0, 0],
					[padInfo.top, Math.max(padBottom, 0)],
					[padInfo.left, Math.max(padRight, 0)],
					[0, 0]
				],
				constantValue: 0
			}
		);
		release(backend, framed);
		framed = padded;
	}
	if (padBottom < 0 || padRight < 0) {
		const cropped = runWasmKernel(
			tf.Slice,
			backend,
			{ x: framed },
			{ begin: [0, 0, 0, 0], size: [batchSize, rowsRead, colsRead, inChannels] }
		);
		release(backend, framed);
		framed = cropped;
	}
	// Batch becomes the channels the convolution sums over, dy becomes the (dilated) filter.
	const xSwapped = runWasmKernel(tf.Transpose, backend, { x: framed }, { perm: [3, 1, 2, 0] });
	release(backend, framed);
	const dyAsFilter = runWasmKernel(tf.Transpose, backend, { x: dy }, { perm: [1, 2, 0, 3] });
	const swappedGradient = runWasmKernel(
		tf.Conv2D,
		backend,
		{ x: xSwapped, filter: dyAsFilter },
		{
			strides: [1, 1],
			pad: 'valid',
			dataFormat: 'NHWC',
			dilations: [strideHeight, strideWidth]
		}
	);
	release(backend, xSwapped, dyAsFilter);
	// [C, FH, FW, O] → [FH, FW, C, O].
	const gradient = runWasmKernel(
		tf.Transpose,
		backend,
		{ x: swappedGradient },
		{ perm: [1, 2, 0, 3] }
	);
	release(backend, swappedGradient);
	return gradient;
};

let installed = false;

/**
 * Registers `Conv2DBackpropFilter` and a faster `Conv2DBackpropInput` for the wasm backend.
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
	installed = true;
}
