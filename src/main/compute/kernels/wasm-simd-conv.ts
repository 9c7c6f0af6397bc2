/**
 * Convolution, its input gradient and its filter gradient on the project's SIMD micro-kernels
 * (`wasm-simd-module.ts`), for the tfjs `wasm` backend, NHWC, dilation 1. Each is an indirect
 * matrix product: a table of pointers into the input (a zero buffer where a tap falls in the
 * padding) replaces the im2col matrix, so nothing is copied but the filter, which is packed in
 * panels of 8 output channels.
 *
 * - forward: rows = output pixels, k = (tap, input channel), columns = output channels;
 * - input gradient (stride 1): rows = input pixels, k = (tap, output channel) of dy,
 *   columns = input channels; the filter is packed rotated and transposed on the fly;
 * - filter gradient: for each tap and 4 input channels, Σ over output pixels of the input's 4
 *   values times dy's row, in tiles of pixels so that dy's tile stays in cache.
 *
 * Each returns null when the shape is not one the kernels take (output channels not in
 * multiples of 8, strides in the input gradient, NCHW, dilation), and the caller uses its other
 * path.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { heapOffset, type WasmHeapBackend } from './wasm-heap';
import {
	instantiateSimdKernels,
	kernelColumns,
	kernelRows,
	type SimdKernels,
	type WasmMemory
} from './wasm-simd-module';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** The parts of tfjs-backend-wasm's `BackendWasm` used here. */
interface SimdBackend extends WasmHeapBackend {
	wasm: {
		asm: { memory: WasmMemory };
		_malloc(bytes: number): number;
		_free(pointer: number): void;
	};
}

const kernelsByBackend = new WeakMap<object, SimdKernels | null>();

/** The SIMD kernels on this backend's memory, instantiated once; null without SIMD. */
export function simdKernelsOf(backend: WasmHeapBackend): SimdKernels | null {
	if (!kernelsByBackend.has(backend)) {
		const memory = (backend as SimdBackend).wasm.asm.memory;
		kernelsByBackend.set(backend, instantiateSimdKernels(memory));
	}
	return kernelsByBackend.get(backend) ?? null;
}

/** Whether these kernels run on this engine (WebAssembly SIMD). */
export function simdKernelsAvailable(backend: object): boolean {
	return simdKernelsOf(backend as WasmHeapBackend) !== null;
}

/**
 * The first multiple of 16 at or after `address`. Heap addresses go up to 4 GiB, past int32:
 * bitwise operators, which work on int32, would make those negative.
 */
export function alignTo16(address: number): number {
	return Math.ceil(address / 16) * 16;
}

/** Heap memory for tables and packed filters, freed together. */
class Scratch {
	private readonly pointers: number[] = [];

	constructor(private readonly backend: SimdBackend) {}

	/** Bytes on the heap, 16-byte aligned. May grow the memory: take views afterwards. */
	allocate(bytes: number): number {
		const pointer = this.backend.wasm._malloc(bytes + 16) >>> 0;
		if (pointer === 0) throw new Error('Cannot enlarge memory: the wasm heap is full.');
		this.pointers.push(pointer);
		return alignTo16(pointer);
	}

	free(): void {
		for (const pointer of this.pointers) this.backend.wasm._free(pointer);
	}
}

/** Pixels handed to one filter-gradient call: dy's tile (pixels × out channels) stays in L2. */
const filterGradientTile = 128;

function plainConvolution(info: Conv2DInfo): boolean {
	return (
		info.dataFormat === 'channelsLast' && info.dilationHeight === 1 && info.dilationWidth === 1
	);
}

/**
 * The pointer table of an indirect product over `pixels` rows: for each block of 4 rows, for
 * each tap, the 4 rows' pointers (`source(pixel, tap)`, or `zeros` past the last row).
 */
function fillRowTable(
	pointers: Int32Array,
	at: number,
	pixels: number,
	taps: number,
	zeros: number,
	source: (pixel: number, tap: number) => number
): void {
	const blocks = Math.ceil(pixels / kernelRows);
	for (let block = 0; block < blocks; block++) {
		for (let tap = 0; tap < taps; tap++) {
			for (let r = 0; r < kernelRows; r++) {
				const pixel = block * kernelRows + r;
				pointers[at++] = pixel < pixels ? source(pixel, tap) : zeros;
			}
		}
	}
}

/** Runs `gatherRows` over every block of 4 rows. */
function productOverRows(
	kernels: SimdKernels,
	table: { pointer: number; taps: number; channels: number },
	packed: { pointer: number; depth: number; panels: number },
	out: { pointer: number; rows: number; columns: number }
): void {
	const rowBytes = out.columns * 4;
	for (let first = 0, block = 0; first < out.rows; first += kernelRows, block++) {
		kernels.gatherRows(
			table.pointer + block * table.taps * kernelRows * 4,
			table.taps,
			table.channels,
			packed.pointer,
			packed.depth * kernelColumns * 4,
			packed.panels,
			out.pointer + first * rowBytes,
			rowBytes,
			Math.min(kernelRows, out.rows - first),
			0
		);
	}
}

/** y = conv(x, filter); null when the shape is not for these kernels. */
export function simdConv2D(
	backend: WasmHeapBackend,
	x: TensorInfo,
	filter: TensorInfo,
	info: Conv2DInfo
): TensorInfo | null {
	const heap = backend as SimdBackend;
	const kernels = simdKernelsOf(heap);
	const { inChannels, outChannels } = info;
	// With a few input channels (RGB) a tap's run is too short to pay for reading its pointers.
	if (
		!kernels ||
		!plainConvolution(info) ||
		outChannels % kernelColumns !== 0 ||
		inChannels < kernelColumns
	) {
		return null;
	}
	const { batchSize, inHeight, inWidth, outHeight, outWidth, filterWidth } = info;
	const { strideHeight, strideWidth, padInfo } = info;
	const taps = info.filterHeight * filterWidth;
	const depth = taps * inChannels;
	const pixels = batchSize * outHeight * outWidth;
	const out = backend.makeOutput([batchSize, outHeight, outWidth, outChannels], 'float32');
	const scratch = new Scratch(heap);
	try {
		const packed = scratch.allocate(depth * outChannels * 4);
		const zeros = scratch.allocate(inChannels * 4);
		const table = scratch.allocate(Math.ceil(pixels / kernelRows) * kernelRows * taps * 4);
		const floats = new Float32Array(heap.wasm.asm.memory.buffer);
		// Panels of 8 output channels: packed[(j·depth + k)·8 + n] = filter[k, 8j + n].
		const filterAt = heapOffset(heap, filter) / 4;
		for (let j = 0, to = packed / 4; j < outChannels / kernelColumns; j++) {
			for (let k = 0; k < depth; k++, to += kernelColumns) {
				const from = filterAt + k * outChannels + j * kernelColumns;
				floats.copyWithin(to, from, from + kernelColumns);
			}
		}
		floats.fill(0, zeros / 4, zeros / 4 + inChannels);
		const xAt = heapOffset(heap, x);
		const perImage = outHeight * outWidth;
		fillRowTable(new Int32Array(floats.buffer), table / 4, pixels, taps, zeros, (pixel, tap) => {
			const image = Math.floor(pixel / perImage);
			const outRow = Math.floor((pixel % perImage) / outWidth);
			const row = outRow * strideHeight - padInfo.top + Math.floor(tap / filterWidth);
			const col =
				((pixel % perImage) % outWidth) * strideWidth - padInfo.left + (tap % filterWidth);
			return row < 0 || row >= inHeight || col < 0 || col >= inWidth
				? zeros
				: xAt + ((image * inHeight + row) * inWidth + col) * inChannels * 4;
		});
		productOverRows(
			kernels,
			{ pointer: table, taps, channels: inChannels },
			{ pointer: packed, depth, panels: outChannels / kernelColumns },
			{ pointer: heapOffset(heap, out), rows: pixels, columns: outChannels }
		);
	} catch (error) {
		backend.disposeData(out.dataId);
		throw error;
	} finally {
		scratch.free();
	}
	return out;
}

/** dx of y = conv(x, filter) for stride 1; null when the shape is not for these kernels. */
export function simdConv2DBackpropInput(
	backend: WasmHeapBackend,
	dy: TensorInfo,
	filter: TensorInfo,
	info: Conv2DInfo
): TensorInfo | null {
	const heap = backend as SimdBackend;
	const kernels = simdKernelsOf(heap);
	const { inChannels, outChannels } = info;
	if (
		!kernels ||
		!plainConvolution(info) ||
		info.strideHeight !== 1 ||
		info.strideWidth !== 1 ||
		inChannels % kernelColumns !== 0 ||
		outChannels < 4
	) {
		return null;
	}
	const { batchSize, inHeight, inWidth, outHeight, outWidth, filterWidth, padInfo } = info;
	const taps = info.filterHeight * filterWidth;
	const depth = taps * outChannels;
	const pixels = batchSize * inHeight * inWidth;
	const dx = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
	const scratch = new Scratch(heap);
	try {
		const packed = scratch.allocate(depth * inChannels * 4);
		const zeros = scratch.allocate(outChannels * 4);
		const table = scratch.allocate(Math.ceil(pixels / kernelRows) * kernelRows * taps * 4);
		const floats = new Float32Array(heap.wasm.asm.memory.buffer);
		// packed[(j·depth + tap·O + o)·8 + n] = filter[tap, 8j + n, o]: transposed per tap.
		const filterAt = heapOffset(heap, filter) / 4;
		let to = packed / 4;
		for (let j = 0; j < inChannels / kernelColumns; j++) {
			for (let tap = 0; tap < taps; tap++) {
				for (let o = 0; o < outChannels; o++) {
					const from = filterAt + (tap * inChannels + j * kernelColumns) * outChannels + o;
					for (let n = 0; n < kernelColumns; n++) {
						floats[to++] = floats[from + n * outChannels] as number;
					}
				}
			}
		}
		floats.fill(0, zeros / 4, zeros / 4 + outChannels);
		const dyAt = heapOffset(heap, dy);
		const perImage = inHeight * inWidth;
		fillRowTable(new Int32Array(floats.buffer), table / 4, pixels, taps, zeros, (pixel, tap) => {
			const image = Math.floor(pixel / perImage);
			// The output pixel whose window put this tap on the input pixel.
			const row =
				Math.floor((pixel % perImage) / inWidth) + padInfo.top - Math.floor(tap / filterWidth);
			const col = ((pixel % perImage) % inWidth) + padInfo.left - (tap % filterWidth);
			return row < 0 || row >= outHeight || col < 0 || col >= outWidth
				? zeros
				: dyAt + ((image * outHeight + row) * outWidth + col) * outChannels * 4;
		});
		productOverRows(
			kernels,
			{ pointer: table, taps, channels: outChannels },
			{ pointer: packed, depth, panels: inChannels / kernelColumns },
			{ pointer: heapOffset(heap, dx), rows: pixels, columns: inChannels }
		);
	} catch (error) {
		backend.disposeData(dx.dataId);
		throw error;
	} finally {
		scratch.free();
	}
	return dx;
}

/** dFilter of y = conv(x, filter); null when the shape is not for these kernels. */
export function simdConv2DBackpropFilter(
	backend: WasmHeapBackend,
	x: TensorInfo,
	dy: TensorInfo,
	info: Conv2DInfo
): TensorInfo | null {
	const heap = backend as SimdBackend;
	const kernels = simdKernelsOf(heap);
	const { inChannels, outChannels } = info;
	if (!kernels || !plainConvolution(info) || outChannels % kernelColumns !== 0) return null;
	const { batchSize, inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth } = info;
	const { strideHeight, strideWidth, padInfo } = info;
	const taps = filterHeight * filterWidth;
	const pixels = batchSize * outHeight * outWidth;
	const dFilter = backend.makeOutput(
		[filterHeight, filterWidth, inChannels, outChannels],
		'float32'
	);
	const scratch = new Scratch(heap);
	try {
		// The kernel reads 4 channels at a time: x's pixels are copied to a stride of 4 channels
		// when their count is not a multiple of 4 (e.g. RGB images).
		const stride = Math.ceil(inChannels / kernelRows) * kernelRows;
		const padded =
			stride === inChannels
				? null
				: scratch.allocate((x.shape.reduce((a, b) => a * b, 1) / inChannels) * stride * 4);
		const zeros = scratch.allocate(stride * 4);
		const table = scratch.allocate(taps * pixels * 4);
		const pointers = new Int32Array(heap.wasm.asm.memory.buffer);
		const floats = new Float32Array(pointers.buffer);
		floats.fill(0, zeros / 4, zeros / 4 + stride);
		let xAt = heapOffset(heap, x);
		if (padded !== null) {
			const inputPixels = batchSize * inHeight * inWidth;
			for (let pixel = 0, from = xAt / 4, to = padded / 4; pixel < inputPixels; pixel++) {
				for (let c = 0; c < stride; c++)
					floats[to++] = c < inChannels ? (floats[from++] as number) : 0;
			}
			xAt = padded;
		}
		// table[tap·pixels + pixel] = the input pixel that tap met at that output pixel.
		let at = table / 4;
		for (let tap = 0; tap < taps; tap++) {
			const tapRow = Math.floor(tap / filterWidth) - padInfo.top;
			const tapCol = (tap % filterWidth) - padInfo.left;
			for (let image = 0; image < batchSize; image++) {
				for (let outRow = 0; outRow < outHeight; outRow++) {
					const row = outRow * strideHeight + tapRow;
					for (let outCol = 0; outCol < outWidth; outCol++) {
						const col = outCol * strideWidth + tapCol;
						pointers[at++] =
							row < 0 || row >= inHeight || col < 0 || col >= inWidth
								? zeros
								: xAt + ((image * inHeight + row) * inWidth + col) * stride * 4;
					}
				}
			}
		}
		const dyAt = heapOffset(heap, dy);
		const dFilterAt = heapOffset(heap, dFilter);
		const rowBytes = outChannels * 4;
		for (let first = 0; first < pixels; first += filterGradientTile) {
			const count = Math.min(filterGradientTile, pixels - first);
			for (let tap = 0; tap < taps; tap++) {
				for (let channel = 0; channel < inChannels; channel += kernelRows) {
					kernels.gatherColumns(
						table + (tap * pixels + first) * 4,
						count,
						channel * 4,
						dyAt + first * rowBytes,
						rowBytes,
						outChannels / kernelColumns,
						dFilterAt + (tap * inChannels + channel) * rowBytes,
						rowBytes,
						Math.min(kernelRows, inChannels - channel),
						first > 0 ? 1 : 0
					);
				}
			}
		}
	} catch (error) {
		backend.disposeData(dFilter.dataId);
		throw error;
	} finally {
		scratch.free();
	}
	return dFilter;
}
