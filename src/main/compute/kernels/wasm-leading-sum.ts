/**
 * `Sum` over every axis but the last for the tfjs `wasm` backend: the gradient of a bias added
 * to NHWC activations (and any per-channel total), as column sums in one pass.
 *
 * tfjs-backend-wasm 4.22 sums only innermost axes, so it first transposes the whole tensor to
 * put the channels outermost: for a [32, 32, 32, 64] gradient the transpose costs far more
 * than the sums (about 45 ms against 2 here). Sums are accumulated in float64 and rounded once,
 * as the cpu backend's are.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapFloats, type WasmHeapBackend } from './wasm-heap';

/** Column sums of a row-major [rows, columns] matrix. */
export function columnSums(
	x: Float32Array,
	out: Float32Array,
	rows: number,
	columns: number
): void {
	const sums = new Float64Array(columns);
	for (let row = 0, at = 0; row < rows; row++) {
		for (let column = 0; column < columns; column++, at++) {
			sums[column] = (sums[column] as number) + (x[at] as number);
		}
	}
	out.set(sums);
}

function makeSum(stock: KernelConfig): tf.KernelFunc {
	return (args) => {
		const backend = args.backend as WasmHeapBackend;
		const attrs = (args.attrs ?? {}) as NamedAttrMap;
		const x = args.inputs.x as TensorInfo;
		const rank = x.shape.length;
		const axes = tf.util
			.parseAxisParam(attrs.axis as number | number[], x.shape)
			.sort((a, b) => a - b);
		const leading = rank >= 2 && axes.length === rank - 1 && axes.every((axis, i) => axis === i);
		if (x.dtype !== 'float32' || !leading) return stock.kernelFunc(args);
		const columns = x.shape[rank - 1] as number;
		const rows = tf.util.sizeFromShape(x.shape) / Math.max(columns, 1);
		const shape =
			attrs.keepDims === true ? [...new Array<number>(rank - 1).fill(1), columns] : [columns];
		const out = backend.makeOutput(shape, 'float32');
		columnSums(heapFloats(backend, x), heapFloats(backend, out), rows, columns);
		return out;
	};
}

let installed = false;

/**
 * Routes `Sum` over all axes but the last (float32) to the column-sum loop on the wasm
 * backend; every other sum keeps the stock kernel. Idempotent.
 */
export function registerWasmLeadingSum(): void {
	if (installed) return;
	const stock = tf.getKernel(tf.Sum, 'wasm');
	if (!stock) return;
	tf.unregisterKernel(tf.Sum, 'wasm');
	tf.registerKernel({
		kernelName: tf.Sum,
		backendName: 'wasm',
		kernelFunc: makeSum(stock),
		...(stock.setupFunc ? { setupFunc: stock.setupFunc } : {})
	});
	installed = true;
}
