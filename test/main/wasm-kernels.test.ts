import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerAllGradients } from '../../src/main/compute/kernels/register-gradients';
import { registerWasmKernelPack } from '../../src/main/compute/kernels';
import type { WasmHeapBackend } from '../../src/main/compute/kernels/wasm-heap';
import { maxPoolBackprop } from '../../src/main/compute/kernels/wasm-max-pool-grad';
import {
	alignTo16,
	simdConv2D,
	simdConv2DBackpropFilter,
	simdConv2DBackpropInput,
	simdKernelsAvailable
} from '../../src/main/compute/kernels/wasm-simd-conv';
import { shortMatMul, shortMatMulMaxRows } from '../../src/main/compute/kernels/wasm-short-matmul';

type Shape4 = [number, number, number, number];

/** Largest absolute difference, relative to the largest magnitude of the expected values. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
	expect(actual.length).toBe(expected.length);
	let difference = 0;
	let scale = 1e-12;
	for (let i = 0; i < expected.length; i++) {
		difference = Math.max(difference, Math.abs((actual[i] ?? 0) - (expected[i] ?? 0)));
		scale = Math.max(scale, Math.abs(expected[i] ?? 0));
	}
	return difference / scale;
}

function defined<T>(value: T | undefined): T {
	if (value === undefined) throw new Error('missing gradient');
	return value;
}

/** Deterministic values in [-1, 1) that are the same on every backend. */
function values(size: number, seed: number): Float32Array {
	const out = new Float32Array(size);
	let state = seed * 2654435761;
	for (let i = 0; i < size; i++) {
		state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
		out[i] = state / 2 ** 31 - 1;
	}
	return out;
}

function tensor4(shape: Shape4, seed: number): tf.Tensor4D {
	return tf.tensor4d(values(shape[0] * shape[1] * shape[2] * shape[3], seed), shape);
}

beforeAll(async () => {
	registerAllGradients();
	registerWasmKernelPack();
	expect(await tf.setBackend('cpu')).toBe(true);
});

describe('registerAllGradients', () => {
	it('gives Conv2D both gradients, matching a direct sum over windows', async () => {
		await tf.setBackend('cpu');
		const xShape: Shape4 = [2, 5, 6, 2];
		const fShape: Shape4 = [3, 3, 2, 3];
		const x = tensor4(xShape, 1);
		const f = tensor4(fShape, 2);
		const g = tensor4([2, 3, 4, 3], 3);
		const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
			tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'), g))
		)([x, f]);
		const xv = x.dataSync();
		const fv = f.dataSync();
		const gv = g.dataSync();
		const expectedDx = new Float64Array(xv.length);
		const expectedDf = new Float64Array(fv.length);
		const xAt = (b: number, y: number, c: number, ch: number) => ((b * 5 + y) * 6 + c) * 2 + ch;
		for (let b = 0; b < 2; b++)
			for (let oy = 0; oy < 3; oy++)
				for (let ox = 0; ox < 4; ox++)
					for (let o = 0; o < 3; o++) {
						const grad = gv[((b * 3 + oy) * 4 + ox) * 3 + o] ?? 0;
						for (let ky = 0; ky < 3; ky++)
							for (let kx = 0; kx < 3; kx++)
								for (let c = 0; c < 2; c++) {
									const fi = ((ky * 3 + kx) * 2 + c) * 3 + o;
									const xi = xAt(b, oy + ky, ox + kx, c);
									expectedDx[xi] = (expectedDx[xi] ?? 0) + grad * (fv[fi] ?? 0);
									expectedDf[fi] = (expectedDf[fi] ?? 0) + grad * (xv[xi] ?? 0);
								}
					}
		expect(relativeError(await defined(dx).data(), expectedDx)).toBeLessThan(1e-5);
		expect(relativeError(await defined(df).data(), expectedDf)).toBeLessThan(1e-5);
	});

	it('routes MaxPool gradients to each window maximum', async () => {
		await tf.setBackend('cpu');
		// Distinct values, so every 2x2 window has one maximum.
		const x = tf.tensor4d(values(16, 4), [1, 4, 4, 1]);
		const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid')))(x);
		const xv = await x.data();
		const expected = new Float32Array(16);
		for (let wy = 0; wy < 2; wy++)
			for (let wx = 0; wx < 2; wx++) {
				let best = -1;
				for (let y = 0; y < 2; y++)
					for (let c = 0; c < 2; c++) {
						const i = (wy * 2 + y) * 4 + wx * 2 + c;
						if (best < 0 || (xv[i] ?? 0) > (xv[best] ?? 0)) best = i;
					}
				expected[best] = 1;
			}
		expect(Array.from(await dx.data())).toEqual(Array.from(expected));
	});

	it('differentiates Relu and MatMul exactly', async () => {
		await tf.setBackend('cpu');
		const x = tf.tensor1d([-2, -0.5, 0.25, 3]);
		expect(
			Array.from(
				await tf
					.grad((a: tf.Tensor) => tf.sum(tf.relu(a)))(x)
					.data()
			)
		).toEqual([0, 0, 1, 1]);
		const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
		const b = tf.tensor2d([1, -1, 2, 0.5, -3, 4], [3, 2]);
		const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
			tf.sum(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D))
		)([a, b]);
		// d sum(AB)/dA = 1·Bᵀ (row sums of B), d/dB = Aᵀ·1 (column sums of A).
		expect(Array.from(await defined(da).data())).toEqual([0, 2.5, 1, 0, 2.5, 1]);
		expect(Array.from(await defined(db).data())).toEqual([5, 5, 7, 7, 9, 9]);
	});

	it('differentiates batch normalisation with batch statistics', async () => {
		await tf.setBackend('cpu');
		const x = tf.tensor2d(values(12, 5), [4, 3]);
		const g = tf.tensor2d(values(12, 6), [4, 3]);
		const loss = (input: tf.Tensor, offset: tf.Tensor, scale: tf.Tensor) => {
			const { mean, variance } = tf.moments(input, 0);
			return tf.sum(tf.mul(tf.batchNorm(input, mean, variance, offset, scale, 1e-3), g));
		};
		const offset = tf.zeros([3]);
		const scale = tf.ones([3]);
		const [dx, dOffset, dScale] = tf.grads(loss)([x, offset, scale]);
		expect(Array.from(await defined(dOffset).data())).toEqual(
			Array.from(await tf.sum(g, 0).data())
		);
		const { mean, variance } = tf.moments(x, 0);
		const normalised = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-3)));
		expect(
			relativeError(await defined(dScale).data(), await tf.sum(tf.mul(g, normalised), 0).data())
		).toBeLessThan(1e-5);
		// Shifting the input along the batch leaves the normalised output unchanged: the input
		// gradient of every channel sums to zero.
		expect(Math.max(...Array.from(await tf.abs(tf.sum(defined(dx), 0)).data()))).toBeLessThan(1e-4);
	});

	it('is idempotent', () => {
		const conv = tf.getGradient(tf.Conv2D);
		registerAllGradients();
		expect(tf.getGradient(tf.Conv2D)).toBe(conv);
	});
});

interface ConvCase {
	x: Shape4;
	filter: Shape4;
	stride: number;
	pad: 'same' | 'valid' | tf.backend_util.ExplicitPadding;
}

const cases: ConvCase[] = [];
for (const stride of [1, 2])
	for (const pad of ['same', 'valid'] as const)
		for (const [size, channels] of [
			[3, 1],
			[3, 3],
			[5, 3],
			[1, 3]
		] as const)
			cases.push({ x: [2, 7, 9, channels], filter: [size, size, channels, 4], stride, pad });
cases.push({
	x: [3, 8, 8, 3],
	filter: [3, 3, 3, 2],
	stride: 2,
	pad: [
		[0, 0],
		[2, 1],
		[0, 3],
		[0, 0]
	]
});

/** Both convolution gradients of one case on one backend. */
async function convGradients(
	backend: string,
	{ x: xShape, filter: fShape, stride, pad }: ConvCase
): Promise<{ dx: Float32Array; dFilter: Float32Array }> {
	expect(await tf.setBackend(backend)).toBe(true);
	return tf.tidy(() => {
		const x = tensor4(xShape, 11);
		const filter = tensor4(fShape, 12);
		const outShape = tf.conv2d(x, filter, stride, pad).shape;
		const dy = tensor4(outShape, 13);
		const dx = tf.conv2dTranspose(dy, filter, xShape, stride, pad);
		const dFilter = tf
			.engine()
			.runKernel(
				tf.Conv2DBackpropFilter,
				{ x, dy },
				{ strides: stride, pad, dataFormat: 'NHWC', filterShape: fShape }
			) as tf.Tensor;
		return { dx: dx.dataSync() as Float32Array, dFilter: dFilter.dataSync() as Float32Array };
	});
}

describe('wasm convolution gradients', () => {
	it.each(cases)(
		'match the cpu backend: x $x, filter $filter, stride $stride, pad $pad',
		async (convCase) => {
			const expected = await convGradients('cpu', convCase);
			const actual = await convGradients('wasm', convCase);
			expect(relativeError(actual.dx, expected.dx)).toBeLessThan(1e-4);
			expect(relativeError(actual.dFilter, expected.dFilter)).toBeLessThan(1e-4);
		}
	);

	it('free every intermediate buffer', async () => {
		await tf.setBackend('wasm');
		const backend = tf.backend();
		const before = backend.numDataIds();
		await convGradients('wasm', cases[cases.length - 1] as ConvCase);
		await convGradients('wasm', { x: [2, 7, 9, 3], filter: [1, 1, 3, 4], stride: 2, pad: 'same' });
		expect(backend.numDataIds()).toBe(before);
	});

	it('train a conv → relu → mean step on wasm as on cpu', async () => {
		const step = async (backend: string) => {
			await tf.setBackend(backend);
			const filter = tf.variable(tensor4([3, 3, 3, 5], 21), true, `filter-${backend}`);
			const images = tensor4([2, 9, 7, 3], 22);
			const optimizer = tf.train.sgd(0.5);
			const { value, grads } = tf.variableGrads(() =>
				tf.mean(tf.relu(tf.conv2d(images, filter, 2, 'same')))
			);
			const filterGradient = grads[filter.name];
			if (!filterGradient) throw new Error('no gradient for the filter');
			const gradient = await filterGradient.data();
			optimizer.applyGradients(grads);
			const updated = await filter.data();
			const loss = (await value.data())[0] ?? Number.NaN;
			optimizer.dispose();
			tf.dispose([value, images, filter, ...Object.values(grads)]);
			return { loss, gradient, updated };
		};
		const cpu = await step('cpu');
		const wasm = await step('wasm');
		expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5);
		expect(Math.max(...Array.from(cpu.gradient, Math.abs))).toBeGreaterThan(0);
		expect(relativeError(wasm.gradient, cpu.gradient)).toBeLessThan(1e-4);
		expect(relativeError(wasm.updated, cpu.updated)).toBeLessThan(1e-4);
	});
});

/**
 * Shapes the SIMD convolution kernels take (output channels in multiples of 8; for the forward
 * pass 8 input channels or more; for the input gradient stride 1 and input channels in
 * multiples of 8), with pixel counts that leave partial blocks of 4 rows.
 */
const simdCases: ConvCase[] = [
	{ x: [2, 7, 9, 8], filter: [3, 3, 8, 16], stride: 1, pad: 'same' },
	{ x: [3, 5, 6, 16], filter: [3, 3, 16, 8], stride: 2, pad: 'valid' },
	{ x: [1, 9, 9, 8], filter: [5, 5, 8, 8], stride: 1, pad: 'valid' },
	{ x: [2, 6, 7, 24], filter: [1, 1, 24, 24], stride: 1, pad: 'same' },
	{ x: [2, 7, 7, 8], filter: [3, 3, 8, 16], stride: 2, pad: 'same' },
	// RGB input: the filter gradient copies pixels to 4 channels; the forward pass falls back.
	{ x: [3, 8, 8, 3], filter: [3, 3, 3, 8], stride: 1, pad: 'same' },
	{ x: [2, 11, 11, 3], filter: [5, 5, 3, 16], stride: 2, pad: 'same' },
	{
		x: [2, 8, 8, 8],
		filter: [3, 3, 8, 8],
		stride: 1,
		pad: [
			[0, 0],
			[2, 0],
			[1, 1],
			[0, 0]
		]
	}
];

/** y, dx and dFilter of one case on one backend, and which of them the SIMD kernels computed. */
async function convolutionPasses(
	backend: string,
	{ x: xShape, filter: fShape, stride, pad }: ConvCase
): Promise<{ y: Float32Array; dx: Float32Array; dFilter: Float32Array; simd: boolean[] }> {
	expect(await tf.setBackend(backend)).toBe(true);
	return tf.tidy(() => {
		const x = tensor4(xShape, 41);
		const filter = tensor4(fShape, 42);
		const y = tf.conv2d(x, filter, stride, pad);
		const dy = tensor4(y.shape, 43);
		const attrs = { strides: stride, pad, dataFormat: 'NHWC' as const };
		const dx = tf
			.engine()
			.runKernel(
				tf.Conv2DBackpropInput,
				{ dy, filter },
				{ ...attrs, inputShape: xShape }
			) as tf.Tensor;
		const dFilter = tf
			.engine()
			.runKernel(
				tf.Conv2DBackpropFilter,
				{ x, dy },
				{ ...attrs, filterShape: fShape }
			) as tf.Tensor;
		let simd: boolean[] = [];
		if (backend === 'wasm') {
			const wasm = tf.backend() as unknown as WasmHeapBackend;
			const info = tf.backend_util.computeConv2DInfo(xShape, fShape, stride, 1, pad);
			const direct = [
				simdConv2D(wasm, x, filter, info),
				simdConv2DBackpropInput(wasm, dy, filter, info),
				simdConv2DBackpropFilter(wasm, x, dy, info)
			];
			simd = direct.map((result) => result !== null);
			for (const result of direct) if (result) wasm.disposeData(result.dataId);
		}
		return {
			y: y.dataSync() as Float32Array,
			dx: dx.dataSync() as Float32Array,
			dFilter: dFilter.dataSync() as Float32Array,
			simd
		};
	});
}

describe('wasm SIMD convolution kernels', () => {
	it('run on this engine', async () => {
		await tf.setBackend('wasm');
		expect(simdKernelsAvailable(tf.backend())).toBe(true);
	});

	it.each(simdCases)(
		'match the cpu backend forward and backward: x $x, filter $filter, stride $stride, pad $pad',
		async (convCase) => {
			const expected = await convolutionPasses('cpu', convCase);
			const actual = await convolutionPasses('wasm', convCase);
			const [inChannels, outChannels] = [convCase.filter[2], convCase.filter[3]];
			expect(actual.simd).toEqual([
				inChannels >= 8,
				convCase.stride === 1 && inChannels % 8 === 0,
				outChannels % 8 === 0
			]);
			expect(relativeError(actual.y, expected.y)).toBeLessThan(1e-5);
			expect(relativeError(actual.dx, expected.dx)).toBeLessThan(1e-5);
			expect(relativeError(actual.dFilter, expected.dFilter)).toBeLessThan(1e-5);
		}
	);

	it('align scratch memory anywhere in a 4 GiB heap, past the int32 range too', () => {
		expect([0, 1, 16, 17, 2 ** 31 - 1, 2 ** 31 + 1, 2 ** 32 - 32].map(alignTo16)).toEqual([
			0,
			16,
			16,
			32,
			2 ** 31,
			2 ** 31 + 16,
			2 ** 32 - 32
		]);
	});

	it('leave no tensor behind and give the same bits every time', async () => {
		await tf.setBackend('wasm');
		const backend = tf.backend();
		const first = await convolutionPasses('wasm', simdCases[0] as ConvCase);
		const before = backend.numDataIds();
		const second = await convolutionPasses('wasm', simdCases[0] as ConvCase);
		expect(backend.numDataIds()).toBe(before);
		for (const key of ['y', 'dx', 'dFilter'] as const) {
			expect(Buffer.from(second[key].buffer).equals(Buffer.from(first[key].buffer))).toBe(true);
		}
	});
});

interface PoolCase {
	x: Shape4;
	filter: number | [number, number];
	stride: number | [number, number];
	pad: 'same' | 'valid' | number;
	/** Values drawn from {0, 1, 2}: most windows have tied maxima. */
	ties: boolean;
}

const poolCases: PoolCase[] = [
	// The encoders' pools (3/2 'valid' after ReLU), at a small batch.
	{ x: [2, 32, 32, 24], filter: 3, stride: 2, pad: 'valid', ties: false },
	{ x: [2, 15, 15, 48], filter: 3, stride: 2, pad: 'valid', ties: true },
	{ x: [3, 7, 9, 5], filter: 3, stride: 2, pad: 'same', ties: false },
	{ x: [3, 7, 9, 5], filter: 3, stride: 2, pad: 'same', ties: true },
	{ x: [1, 8, 8, 3], filter: 2, stride: 2, pad: 'valid', ties: true },
	{ x: [2, 9, 6, 4], filter: 3, stride: 1, pad: 'same', ties: true },
	{ x: [2, 11, 10, 1], filter: [3, 2], stride: [3, 1], pad: 'valid', ties: false },
	{ x: [1, 10, 13, 2], filter: 4, stride: 3, pad: 'same', ties: true },
	{ x: [2, 6, 7, 3], filter: 3, stride: 2, pad: 1, ties: true },
	{ x: [1, 5, 5, 2], filter: 1, stride: 1, pad: 'valid', ties: false },
	{ x: [1, 5, 5, 2], filter: 5, stride: 1, pad: 'valid', ties: true }
];

/** x for a pool case: distinct-ish values in [-1, 1), or small integers with many ties. */
function poolInput({ x: shape, ties }: PoolCase): tf.Tensor4D {
	const data = values(shape[0] * shape[1] * shape[2] * shape[3], 31);
	if (ties) for (let i = 0; i < data.length; i++) data[i] = Math.floor(((data[i] ?? 0) + 1) * 1.5);
	return tf.tensor4d(data, shape);
}

/** MaxPoolGrad of one case on one backend, with an arbitrary dy. */
async function maxPoolGradient(backend: string, poolCase: PoolCase): Promise<Float32Array> {
	expect(await tf.setBackend(backend)).toBe(true);
	return tf.tidy(() => {
		const x = poolInput(poolCase);
		const y = tf.maxPool(x, poolCase.filter, poolCase.stride, poolCase.pad);
		const dy = tensor4(y.shape, 32);
		const dx = tf
			.engine()
			.runKernel(
				tf.MaxPoolGrad,
				{ dy, input: x, output: y },
				{ filterSize: poolCase.filter, strides: poolCase.stride, pad: poolCase.pad }
			) as tf.Tensor;
		return dx.dataSync() as Float32Array;
	});
}

describe('wasm MaxPoolGrad', () => {
	it.each(poolCases)(
		'matches the cpu backend: x $x, filter $filter, stride $stride, pad $pad, ties $ties',
		async (poolCase) => {
			const expected = await maxPoolGradient('cpu', poolCase);
			const actual = await maxPoolGradient('wasm', poolCase);
			// A gradient routed to the wrong element of a window is off by a whole dy value; only
			// the rounding of sums over overlapping windows may differ.
			expect(relativeError(actual, expected)).toBeLessThan(1e-6);
			expect(Math.max(...Array.from(expected, Math.abs))).toBeGreaterThan(0);
		}
	);

	it('gives the bits of the JavaScript loop on the SIMD kernel (channels in fours), ties, NaN and -Infinity included', async () => {
		expect(await tf.setBackend('wasm')).toBe(true);
		for (const poolCase of poolCases.filter((each) => each.x[3] % 4 === 0)) {
			const x = poolInput(poolCase);
			const data = x.dataSync() as Float32Array;
			// A few NaN and -Infinity inputs, which no window may pick.
			const marked = new Float32Array(data);
			for (let i = 0; i < marked.length; i += 97) marked[i] = i % 2 === 0 ? Number.NaN : -Infinity;
			const input = tf.tensor4d(marked, poolCase.x);
			const y = tf.maxPool(input, poolCase.filter, poolCase.stride, poolCase.pad);
			const dy = tensor4(y.shape, 33);
			const dx = tf
				.engine()
				.runKernel(
					tf.MaxPoolGrad,
					{ dy, input, output: y },
					{ filterSize: poolCase.filter, strides: poolCase.stride, pad: poolCase.pad }
				) as tf.Tensor;
			const info = tf.backend_util.computePool2DInfo(
				poolCase.x,
				poolCase.filter,
				poolCase.stride,
				1,
				poolCase.pad
			);
			const expected = new Float32Array(marked.length);
			maxPoolBackprop(marked, dy.dataSync() as Float32Array, expected, info);
			const actual = dx.dataSync() as Float32Array;
			expect(
				Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer)),
				JSON.stringify(poolCase)
			).toBe(true);
			tf.dispose([x, input, y, dy, dx]);
		}
	});

	it('sends a tie to the first maximum in row-major order and skips all--Infinity windows', async () => {
		await tf.setBackend('wasm');
		const inf = Number.NEGATIVE_INFINITY;
		// Two 2×2 windows: [[1, 5], [5, 5]] and [[-inf, -inf], [-inf, NaN]].
		const x = tf.tensor4d([1, 5, inf, inf, 5, 5, inf, Number.NaN], [1, 2, 4, 1]);
		const dy = tf.tensor4d([10, 20], [1, 1, 2, 1]);
		const y = tf.maxPool(x, 2, 2, 'valid');
		const dx = tf
			.engine()
			.runKernel(
				tf.MaxPoolGrad,
				{ dy, input: x, output: y },
				{ filterSize: 2, strides: 2, pad: 'valid' }
			) as tf.Tensor;
		expect(Array.from(await dx.data())).toEqual([0, 10, 0, 0, 0, 0, 0, 0]);
		await tf.setBackend('cpu');
		const cpuDx = tf.engine().runKernel(
			tf.MaxPoolGrad,
			{
				dy: tf.tensor4d([10, 20], [1, 1, 2, 1]),
				input: tf.tensor4d([1, 5, inf, inf, 5, 5, inf, Number.NaN], [1, 2, 4, 1]),
				output: tf.tensor4d([5, inf], [1, 1, 2, 1])
			},
			{ filterSize: 2, strides: 2, pad: 'valid' }
		) as tf.Tensor;
		expect(Array.from(await cpuDx.data())).toEqual([0, 10, 0, 0, 0, 0, 0, 0]);
	});

	it('gives the encoder pool the same gradient through tf.grad as cpu, and frees its buffers', async () => {
		const gradient = async (backend: string) => {
			await tf.setBackend(backend);
			return tf.tidy(() => {
				const x = tf.relu(tensor4([4, 15, 15, 8], 41));
				const weights = tensor4([4, 7, 7, 8], 42);
				return tf
					.grad((a: tf.Tensor) =>
						tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 3, 2, 'valid'), weights))
					)(x)
					.dataSync() as Float32Array;
			});
		};
		await tf.setBackend('wasm');
		const before = tf.backend().numDataIds();
		const actual = await gradient('wasm');
		expect(tf.backend().numDataIds()).toBe(before);
		expect(relativeError(actual, await gradient('cpu'))).toBeLessThan(1e-6);
	});
});

describe('wasm BatchMatMul with a short left matrix', () => {
	const products: { a: number[]; b: number[]; transposeA?: boolean }[] = [
		// Batch norm's group sums: [groups, rows] @ [rows, channels].
		{ a: [2, 9000], b: [9000, 24] },
		{ a: [1, 70000], b: [70000, 1] },
		{ a: [shortMatMulMaxRows, 4096], b: [4096, 17] },
		{ a: [1, 3, 5000], b: [1, 5000, 20] },
		{ a: [3, 2, 9000], b: [3, 9000, 8] },
		{ a: [9000, 2], b: [9000, 24], transposeA: true },
		{ a: [shortMatMulMaxRows + 1, 4096], b: [4096, 17] }
	];

	it.each(products)(
		'matches the cpu backend: a $a, b $b, transposeA $transposeA',
		async (product) => {
			const run = async (backend: string) => {
				expect(await tf.setBackend(backend)).toBe(true);
				return tf.tidy(() => {
					const size = (shape: number[]) => shape.reduce((p, s) => p * s, 1);
					const a = tf.tensor(values(size(product.a), 51), product.a);
					const b = tf.tensor(values(size(product.b), 52), product.b);
					const out = tf.matMul(a, b, product.transposeA ?? false);
					return { shape: out.shape, data: out.dataSync() as Float32Array };
				});
			};
			const expected = await run('cpu');
			const actual = await run('wasm');
			expect(actual.shape).toEqual(expected.shape);
			expect(relativeError(actual.data, expected.data)).toBeLessThan(1e-5);
		}
	);
});

describe('wasm BatchMatMul with a short left matrix on the SIMD kernels', () => {
	it('gives the bits of the float64 JavaScript loop, for every column count up to 40', async () => {
		expect(await tf.setBackend('wasm')).toBe(true);
		for (let columns = 2; columns <= 40; columns += 2) {
			const rows = 1 + (columns % 3);
			const inner = 70_000 / columns;
			const aValues = values(rows * Math.round(inner), 61);
			const bValues = values(Math.round(inner) * columns, 62);
			const k = Math.round(inner);
			const product = tf.tidy(() =>
				tf.matMul(tf.tensor2d(aValues, [rows, k]), tf.tensor2d(bValues, [k, columns])).dataSync()
			);
			const expected = new Float32Array(rows * columns);
			shortMatMul(aValues, bValues, expected, rows, k, columns);
			expect(
				Buffer.from(product.buffer).equals(Buffer.from(expected.buffer)),
				`${columns} columns`
			).toBe(true);
		}
	});
});

describe('wasm Sum over every axis but the last', () => {
	it.each([
		{ shape: [32, 16, 16, 8], keepDims: false },
		{ shape: [5, 7, 3], keepDims: true },
		{ shape: [1000, 1], keepDims: false }
	])('matches the cpu backend: $shape, keepDims $keepDims', async ({ shape, keepDims }) => {
		const run = async (backend: string) => {
			expect(await tf.setBackend(backend)).toBe(true);
			return tf.tidy(() => {
				const x = tf.tensor(
					values(
						shape.reduce((a, b) => a * b, 1),
						81
					),
					shape
				);
				const sum = tf.sum(
					x,
					shape.slice(0, -1).map((_, i) => i),
					keepDims
				);
				return { shape: sum.shape, data: sum.dataSync() as Float32Array };
			});
		};
		const expected = await run('cpu');
		const actual = await run('wasm');
		expect(actual.shape).toEqual(expected.shape);
		expect(relativeError(actual.data, expected.data)).toBeLessThan(1e-6);
	});
});

describe('the wasm kernel pack in a training step', () => {
	it('differentiates conv → relu → (group sums, max pool) on wasm as on cpu', async () => {
		// The encoder's pattern at a small size: batch norm's group sums are a short product over
		// all 8192 rows of the conv output, whose pool feeds the next block.
		const gradients = async (backend: string) => {
			expect(await tf.setBackend(backend)).toBe(true);
			const before = tf.backend().numDataIds();
			const result = tf.tidy(() => {
				const images = tensor4([8, 32, 32, 3], 71);
				const filter = tensor4([3, 3, 3, 8], 72);
				const indicator = tf.tensor2d(
					Array.from({ length: 2 * 8192 }, (_, i) => (Math.floor(i / 4096) % 3 === 0 ? 1 : 0)),
					[2, 8192]
				);
				const sumWeights = tf.tensor2d(values(16, 73), [2, 8]);
				const poolWeights = tensor4([8, 15, 15, 8], 74);
				const [dImages, dFilter] = tf.grads((x: tf.Tensor, f: tf.Tensor) => {
					const activated = tf.relu(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'));
					const sums = tf.matMul(indicator, tf.reshape(activated, [8192, 8]));
					const pooled = tf.maxPool(activated, 3, 2, 'valid');
					return tf.add(tf.sum(tf.mul(sums, sumWeights)), tf.sum(tf.mul(pooled, poolWeights)));
				})([images, filter]);
				return {
					dImages: defined(dImages).dataSync() as Float32Array,
					dFilter: defined(dFilter).dataSync() as Float32Array
				};
			});
			expect(tf.backend().numDataIds()).toBe(before);
			return result;
		};
		const cpu = await gradients('cpu');
		const wasm = await gradients('wasm');
		expect(relativeError(wasm.dImages, cpu.dImages)).toBeLessThan(1e-4);
		expect(relativeError(wasm.dFilter, cpu.dFilter)).toBeLessThan(1e-4);
	});
});
