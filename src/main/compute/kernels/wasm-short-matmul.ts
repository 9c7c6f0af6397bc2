/**
 * `BatchMatMul` for the tfjs `wasm` backend when the left matrix has only a few rows: a
 * JavaScript loop over the wasm heap, used for products like batch norm's per-group sums
 * (`[groups, rows] @ [rows, channels]`, with rows = batch · height · width).
 *
 * The stock kernel hands every product to XNNPACK's fully-connected operator with the right
 * matrix as its "weights", which it repacks whenever that tensor is new: for a `[2, 262144] @
 * [262144, 24]` product the repacking costs several times the arithmetic. A loop that reads the
 * right matrix row by row needs no packing. Sums are accumulated in float64 (more exact than
 * XNNPACK's float32) and rounded once: on the SIMD module's `shortRow` kernels (float64 pairs,
 * about 20× faster) or, for an odd number of columns, the same loop in JavaScript, which gives
 * the same bits.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapFloats, heapOffset, type WasmHeapBackend } from './wasm-heap';
import { simdKernelsOf } from './wasm-simd-conv';
import { shortRowPairs } from './wasm-simd-module';

/** Left matrices with at most this many rows take the loop. */
export const shortMatMulMaxRows = 8;

/** Below this many right-matrix entries XNNPACK's packing is cheap and the stock kernel wins. */
const shortMatMulMinRightSize = 1 << 16;

/** `out[M, N] = a[M, K] @ b[K, N]`, all row-major. */
export function shortMatMul(
	a: Float32Array,
	b: Float32Array,
	out: Float32Array,
	rows: number,
	inner: number,
	columns: number
): void {
	const sums = new Float64Array(rows * columns);
	for (let k = 0; k < inner; k++) {
		const bRow = k * columns;
		for (let m = 0; m < rows; m++) {
			const weight = a[m * inner + k] as number;
			const sumRow = m * columns;
			for (let n = 0; n < columns; n++) {
				sums[sumRow + n] = (sums[sumRow + n] as number) + weight * (b[bRow + n] as number);
			}
		}
	}
	out.set(sums);
}

function makeBatchMatMul(stock: KernelConfig): tf.KernelFunc {
	return (args) => {
		const backend = args.backend as WasmHeapBackend;
		const attrs = (args.attrs ?? {}) as NamedAttrMap;
		const a = args.inputs.a as TensorInfo;
		const b = args.inputs.b as TensorInfo;
		const aBatch = a.shape.slice(0, -2).reduce((product, size) => product * size, 1);
		const bBatch = b.shape.slice(0, -2).reduce((product, size) => product * size, 1);
		const rows = a.shape[a.shape.length - 2] ?? 0;
		const inner = a.shape[a.shape.length - 1] ?? 0;
		const columns = b.shape[b.shape.length - 1] ?? 0;
		const eligible =
			a.dtype === 'float32' &&
			b.dtype === 'float32' &&
			attrs.transposeA !== true &&
			attrs.transposeB !== true &&
			a.shape.length >= 2 &&
			b.shape.length >= 2 &&
			aBatch === 1 &&
			bBatch === 1 &&
			rows <= shortMatMulMaxRows &&
			b.shape[b.shape.length - 2] === inner &&
			inner * columns >= shortMatMulMinRightSize;
		if (!eligible) return stock.kernelFunc(args);
		// The stock kernel's output shape: broadcast batch dimensions, then [rows, columns].
		const batchShape = a.shape.length >= b.shape.length ? a.shape : b.shape;
		const outShape = [...batchShape.slice(0, -2), rows, columns];
		const out = backend.makeOutput(outShape, 'float32');
		const kernels = simdKernelsOf(backend);
		if (kernels && columns % 2 === 0) {
			const [aAt, bAt, outAt] = [a, b, out].map((info) => heapOffset(backend, info)) as [
				number,
				number,
				number
			];
			for (let row = 0; row < rows; row++) {
				for (let first = 0; first < columns; first += 2 * shortRowPairs) {
					const pairs = Math.min(shortRowPairs, (columns - first) / 2);
					kernels[`shortRow${pairs}`]?.(
						aAt + row * inner * 4,
						inner,
						bAt + first * 4,
						columns * 4,
						outAt + (row * columns + first) * 4
					);
				}
			}
			return out;
		}
		shortMatMul(
			heapFloats(backend, a),
			heapFloats(backend, b),
			heapFloats(backend, out),
			rows,
			inner,
			columns
		);
		return out;
	};
}

let installed = false;

/**
 * Routes `BatchMatMul` products with a short left matrix (≤ {@link shortMatMulMaxRows} rows,
 * no transposes, no batch) to the JavaScript loop on the wasm backend; everything else keeps
 * the stock kernel. Idempotent.
 */
export function registerWasmShortMatMul(): void {
	if (installed) return;
	const stock = tf.getKernel(tf.BatchMatMul, 'wasm');
	if (!stock) return;
	tf.unregisterKernel(tf.BatchMatMul, 'wasm');
	tf.registerKernel({
		kernelName: tf.BatchMatMul,
		backendName: 'wasm',
		kernelFunc: makeBatchMatMul(stock),
		...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {})
	});
	installed = true;
}
