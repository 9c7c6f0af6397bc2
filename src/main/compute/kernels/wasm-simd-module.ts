/**
 * A small WebAssembly module of matrix-product micro-kernels that run on tfjs-backend-wasm's own
 * memory (it imports the backend's `WebAssembly.Memory`, so tensors are read and written where
 * they are, without copies).
 *
 * Why: tfjs-backend-wasm 4.22's XNNPACK build runs its float GEMMs at about 29 GFLOP/s per core
 * here. These kernels keep a 4 × 8 block of the output in 8 float32x4 registers, broadcast the
 * left operand straight from memory (`v128.load32_splat`, a load rather than a shuffle) and use
 * relaxed SIMD's fused multiply-add (`f32x4.relaxed_madd`, in V8 since 11.4): about 45 GFLOP/s
 * on the same core (38 with a separate multiply and add, the fallback for engines without
 * relaxed SIMD). `relaxed_madd` is fused where the CPU has FMA (x86-64 since 2013, arm64) and
 * not elsewhere, so the last bits of a product depend on the CPU; V8 emits the same instruction
 * in its baseline and optimising compilers (checked: the same bits with `--liftoff
 * --no-wasm-tier-up` and with `--no-liftoff`), so on one machine they never depend on timing,
 * and a resumed run repeats an uninterrupted one bit for bit. Fused, a sum of products is
 * rounded as the cpu backend rounds it (a float64 product added to a float32 sum).
 *
 * Both kernels compute a 4 × 8 block of an output:
 * - `gatherRows`: C[4 rows, 8 columns] = Σ_k A[row, k] · B[k, columns], where each row of A is
 *   read through pointers, one per (row, tap), each followed by `channels` contiguous floats
 *   (an indirect GEMM: the rows are a convolution's output pixels, the taps its filter taps,
 *   and padding points at a zero buffer), and B is packed in panels of 8 columns.
 * - `gatherColumns`: C[4 rows, 8 columns] (+)= Σ_p A[p, 4 rows] ⊗ B[p, 8 columns], where A's
 *   4 values of step p are contiguous at a pointer read from a table (per pixel: a tap's input,
 *   4 channels at a time) and B is strided (per pixel: 8 output channels of dy): the filter
 *   gradient, im2colᵀ · dy, without an im2col matrix.
 * Rows beyond `rows` are computed from whatever the pointers address but never stored.
 */

import {
	moduleBytes,
	signed,
	unsigned,
	ValueType,
	webAssembly,
	type WasmMemory
} from '../../../core/wasm/bytecode';

/** tfjs-backend-wasm's memory object (a `WebAssembly.Memory`). */
export type { WasmMemory };

/** The instructions the kernels use (WebAssembly core, SIMD and relaxed SIMD opcodes). */
export const op = {
	doubleSplatLoad: (offset: number) => [0xfd, 0x0a, 3, ...unsigned(offset)],
	get: (index: number) => [0x20, ...unsigned(index)],
	set: (index: number) => [0x21, ...unsigned(index)],
	tee: (index: number) => [0x22, ...unsigned(index)],
	i32: (value: number) => [0x41, ...signed(value)],
	add: [0x6a],
	sub: [0x6b],
	mul: [0x6c],
	greaterUnsigned: [0x4b],
	load32: (offset: number) => [0x28, 2, ...unsigned(offset)],
	block: [0x02, 0x40],
	loop: [0x03, 0x40],
	if: [0x04, 0x40],
	end: [0x0b],
	branchIf: (depth: number) => [0x0d, ...unsigned(depth)],
	vectorLoad: (offset: number) => [0xfd, 0x00, 4, ...unsigned(offset)],
	splatLoad: (offset: number) => [0xfd, 0x09, 2, ...unsigned(offset)],
	vectorStore: (offset: number) => [0xfd, 0x0b, 4, ...unsigned(offset)],
	vectorZero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
	multiply: [0xfd, 0xe6, 0x01],
	plus: [0xfd, 0xe4, 0x01],
	fusedMultiplyAdd: [0xfd, 0x85, 0x02],
	// float64 pairs, for the short product's exact sums
	loadFloat: (offset: number) => [0x2a, 2, ...unsigned(offset)],
	promote: [0xbb],
	doubleSplat: [0xfd, 0x14],
	loadPairZero: (offset: number) => [0xfd, 0x5d, 3, ...unsigned(offset)],
	promotePair: [0xfd, 0x5f],
	demotePair: [0xfd, 0x5e],
	storePair: (offset: number) => [0xfd, 0x5b, 3, ...unsigned(offset), 0],
	doublePlus: [0xfd, 0xf0, 0x01],
	doubleMultiply: [0xfd, 0xf2, 0x01],
	// max pool's gradient
	greater: [0xfd, 0x44],
	select: [0xfd, 0x52],
	intSplat: [0xfd, 0x11],
	intPlus: [0xfd, 0xae, 0x01],
	lane: (index: number) => [0xfd, 0x1b, index],
	vectorConstant: (bytes: number[]) => [0xfd, 0x0c, ...bytes],
	storeFloat: (offset: number) => [0x38, 2, ...unsigned(offset)],
	floatPlus: [0x92],
	notEqual: [0x47]
};

/** Rows (output pixels or input channels) and columns (output channels) per micro-kernel call. */
export const kernelRows = 4;
export const kernelColumns = 8;

/** `acc += a · b`, fused (one rounding) or not. */
function multiplyAdd(fused: boolean, a: number, b: number, acc: number): number[] {
	return fused
		? [...op.get(a), ...op.get(b), ...op.get(acc), ...op.fusedMultiplyAdd, ...op.set(acc)]
		: [...op.get(a), ...op.get(b), ...op.multiply, ...op.get(acc), ...op.plus, ...op.set(acc)];
}

/** `local += value` for an i32 local. */
export function advance(local: number, value: number[]): number[] {
	return [...op.get(local), ...value, ...op.add, ...op.set(local)];
}

/** The address of row r of C: `c + r · ldc`. */
function rowAddress(c: number, ldc: number, r: number): number[] {
	return r === 0 ? op.get(c) : [...op.get(c), ...op.get(ldc), ...op.i32(r), ...op.mul, ...op.add];
}

/** Runs `body` for each row r < rows (rows is a local). */
function forValidRows(rows: number, body: (r: number) => number[]): number[] {
	const code: number[] = [];
	for (let r = 0; r < kernelRows; r++) {
		code.push(
			...op.get(rows),
			...op.i32(r),
			...op.greaterUnsigned,
			...op.if,
			...body(r),
			...op.end
		);
	}
	return code;
}

/** Sets the accumulators to zero, or with `accumulate` ≠ 0 to the valid rows of C. */
function initialise(
	acc: number,
	c: number,
	ldc: number,
	rows: number,
	accumulate: number
): number[] {
	const code: number[] = [];
	for (let i = 0; i < 2 * kernelRows; i++) code.push(...op.vectorZero, ...op.set(acc + i));
	code.push(...op.get(accumulate), ...op.if);
	code.push(
		...forValidRows(rows, (r) => [
			...rowAddress(c, ldc, r),
			...op.vectorLoad(0),
			...op.set(acc + 2 * r),
			...rowAddress(c, ldc, r),
			...op.vectorLoad(16),
			...op.set(acc + 2 * r + 1)
		])
	);
	code.push(...op.end);
	return code;
}

/** Stores the valid rows of the accumulators into C. */
function store(acc: number, c: number, ldc: number, rows: number): number[] {
	return forValidRows(rows, (r) => [
		...rowAddress(c, ldc, r),
		...op.get(acc + 2 * r),
		...op.vectorStore(0),
		...rowAddress(c, ldc, r),
		...op.get(acc + 2 * r + 1),
		...op.vectorStore(16)
	]);
}

/** One function's locals (after its parameters) and code. */
export interface Body {
	i32Locals: number;
	vectorLocals: number;
	code: number[];
}

/**
 * gatherRows(pointers, taps, channels, b, panelStride, panels, c, ldc, rows, accumulate): for
 * each of `panels` panels of 8 columns (B's panel at `b + j · panelStride`, C's columns at
 * `c + 32 j`), C[rows, 8] (+)= Σ over taps and channels. `pointers` holds, per tap, 4 row
 * pointers; each is followed by `channels` floats of A.
 */
function gatherRowsBody(fused: boolean): Body {
	const [pointers, taps, channels, b, panelStride, panels, c, ldc, rows, accumulate] = [
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9
	];
	const [panelsLeft, tapsLeft, channelsLeft, tapPointers, panelB] = [10, 11, 12, 13, 14];
	const row = 15;
	const acc = row + kernelRows;
	const [b0, b1, a] = [acc + 2 * kernelRows, acc + 2 * kernelRows + 1, acc + 2 * kernelRows + 2];
	const code: number[] = [...op.get(panels), ...op.set(panelsLeft)];
	code.push(...op.block, ...op.loop);
	code.push(...initialise(acc, c, ldc, rows, accumulate));
	code.push(...op.get(pointers), ...op.set(tapPointers), ...op.get(b), ...op.set(panelB));
	code.push(...op.get(taps), ...op.set(tapsLeft));
	code.push(...op.block, ...op.loop);
	for (let r = 0; r < kernelRows; r++) {
		code.push(...op.get(tapPointers), ...op.load32(4 * r), ...op.set(row + r));
	}
	code.push(...advance(tapPointers, op.i32(4 * kernelRows)));
	code.push(...op.get(channels), ...op.set(channelsLeft));
	code.push(...op.block, ...op.loop);
	code.push(...op.get(panelB), ...op.vectorLoad(0), ...op.set(b0));
	code.push(...op.get(panelB), ...op.vectorLoad(16), ...op.set(b1));
	code.push(...advance(panelB, op.i32(32)));
	for (let r = 0; r < kernelRows; r++) {
		code.push(...op.get(row + r), ...op.splatLoad(0), ...op.set(a));
		code.push(...multiplyAdd(fused, a, b0, acc + 2 * r));
		code.push(...multiplyAdd(fused, a, b1, acc + 2 * r + 1));
		code.push(...advance(row + r, op.i32(4)));
	}
	code.push(...op.get(channelsLeft), ...op.i32(1), ...op.sub, ...op.tee(channelsLeft));
	code.push(...op.branchIf(0), ...op.end, ...op.end);
	code.push(...op.get(tapsLeft), ...op.i32(1), ...op.sub, ...op.tee(tapsLeft));
	code.push(...op.branchIf(0), ...op.end, ...op.end);
	code.push(...store(acc, c, ldc, rows));
	code.push(...advance(b, op.get(panelStride)), ...advance(c, op.i32(32)));
	code.push(...op.get(panelsLeft), ...op.i32(1), ...op.sub, ...op.tee(panelsLeft));
	code.push(...op.branchIf(0), ...op.end, ...op.end, ...op.end);
	return { i32Locals: 5 + kernelRows, vectorLocals: 2 * kernelRows + 3, code };
}

/**
 * gatherColumns(pointers, count, offset, b, ldb, panels, c, ldc, rows, accumulate): for each of
 * `panels` panels (B's and C's columns advance by 8 floats each), C[rows, 8] (+)=
 * Σ_{p < count} A(p) ⊗ B[p, 8], where A(p)'s 4 values are at `pointers[p] + offset` and
 * B's row p at `b + p · ldb`.
 */
function gatherColumnsBody(fused: boolean): Body {
	const [pointers, count, offset, b, ldb, panels, c, ldc, rows, accumulate] = [
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9
	];
	const [panelsLeft, left, address, stepPointers, stepB] = [10, 11, 12, 13, 14];
	const acc = 15;
	const [b0, b1, a] = [acc + 2 * kernelRows, acc + 2 * kernelRows + 1, acc + 2 * kernelRows + 2];
	const code: number[] = [...op.get(panels), ...op.set(panelsLeft)];
	code.push(...op.block, ...op.loop);
	code.push(...initialise(acc, c, ldc, rows, accumulate));
	code.push(...op.get(pointers), ...op.set(stepPointers), ...op.get(b), ...op.set(stepB));
	code.push(...op.get(count), ...op.set(left));
	code.push(...op.block, ...op.loop);
	code.push(...op.get(stepPointers), ...op.load32(0), ...op.get(offset), ...op.add);
	code.push(...op.set(address), ...advance(stepPointers, op.i32(4)));
	code.push(...op.get(stepB), ...op.vectorLoad(0), ...op.set(b0));
	code.push(...op.get(stepB), ...op.vectorLoad(16), ...op.set(b1));
	code.push(...advance(stepB, op.get(ldb)));
	for (let r = 0; r < kernelRows; r++) {
		code.push(...op.get(address), ...op.splatLoad(4 * r), ...op.set(a));
		code.push(...multiplyAdd(fused, a, b0, acc + 2 * r));
		code.push(...multiplyAdd(fused, a, b1, acc + 2 * r + 1));
	}
	code.push(...op.get(left), ...op.i32(1), ...op.sub, ...op.tee(left));
	code.push(...op.branchIf(0), ...op.end, ...op.end);
	code.push(...store(acc, c, ldc, rows));
	code.push(...advance(b, op.i32(32)), ...advance(c, op.i32(32)));
	code.push(...op.get(panelsLeft), ...op.i32(1), ...op.sub, ...op.tee(panelsLeft));
	code.push(...op.branchIf(0), ...op.end, ...op.end, ...op.end);
	return { i32Locals: 5, vectorLocals: 2 * kernelRows + 3, code };
}

/** The most column pairs one `shortRow` call sums (16 columns: 8 float64x2 accumulators). */
export const shortRowPairs = 8;

/**
 * shortRow{n}(a, inner, b, ldb, c): one row of a short product, `2n` columns of it: c[j] =
 * Σ_k a[k] · b[k, j] for j < 2n, with a's row contiguous (`inner` floats), b's rows `ldb` bytes
 * apart. Every product and sum is in float64 (a float32 product is exact in float64) and each
 * sum is rounded to float32 once, at the end, exactly as a JavaScript loop over the same order.
 */
function shortRowBody(pairs: number): Body {
	const [a, inner, b, ldb, c] = [0, 1, 2, 3, 4];
	const left = 5;
	const weight = 6;
	const acc = 7;
	const pair = acc + pairs;
	const code: number[] = [];
	for (let j = 0; j < pairs; j++) code.push(...op.vectorZero, ...op.set(acc + j));
	code.push(...op.get(inner), ...op.set(left));
	code.push(...op.block, ...op.loop);
	code.push(...op.get(a), ...op.loadFloat(0), ...op.promote, ...op.doubleSplat, ...op.set(weight));
	code.push(...advance(a, op.i32(4)));
	for (let j = 0; j < pairs; j++) {
		code.push(...op.get(b), ...op.loadPairZero(8 * j), ...op.promotePair, ...op.set(pair));
		code.push(...op.get(acc + j), ...op.get(weight), ...op.get(pair), ...op.doubleMultiply);
		code.push(...op.doublePlus, ...op.set(acc + j));
	}
	code.push(...advance(b, op.get(ldb)));
	code.push(...op.get(left), ...op.i32(1), ...op.sub, ...op.tee(left));
	code.push(...op.branchIf(0), ...op.end, ...op.end);
	for (let j = 0; j < pairs; j++) {
		code.push(...op.get(c), ...op.get(acc + j), ...op.demotePair, ...op.storePair(8 * j));
	}
	code.push(...op.end);
	return { i32Locals: 1, vectorLocals: 2 + pairs, code };
}

/** Four int32 lanes as bytes (little-endian), for `v128.const`. */
function intLanes(values: number[]): number[] {
	return values.flatMap((value) => [
		value & 0xff,
		(value >>> 8) & 0xff,
		(value >>> 16) & 0xff,
		value >>> 24
	]);
}

/**
 * maxPoolWindow(first, rows, columns, pixelBytes, rowBytes, groups, dy, delta): the gradient of
 * one max-pool window, 4 channels at a time (`groups` of them). The window's top-left pixel is at
 * `first`, its pixels `pixelBytes` apart in a row and its rows `rowBytes` apart. For each
 * channel, the first strict maximum in row-major order (from −∞, so a window of NaN or −∞ passes
 * nothing) receives its dy: `dx[at + delta] += dy`, added channel by channel in order, so the
 * result has the bits of the JavaScript loop it replaces.
 */
function maxPoolWindowBody(): Body {
	const [first, rows, columns, pixelBytes, rowBytes, groups, dy, delta] = [0, 1, 2, 3, 4, 5, 6, 7];
	const [groupsLeft, rowAt, columnAt, rowsLeft, columnsLeft, target] = [8, 9, 10, 11, 12, 13];
	const [best, at, value, greater, offsets] = [14, 15, 16, 17, 18];
	const negativeInfinity = intLanes([0xff800000, 0xff800000, 0xff800000, 0xff800000]);
	const code: number[] = [...op.vectorConstant(intLanes([0, 4, 8, 12])), ...op.set(offsets)];
	code.push(...op.get(groups), ...op.set(groupsLeft));
	code.push(...op.block, ...op.loop);
	code.push(...op.vectorConstant(negativeInfinity), ...op.set(best));
	code.push(...op.i32(-1), ...op.intSplat, ...op.set(at));
	code.push(...op.get(first), ...op.set(rowAt), ...op.get(rows), ...op.set(rowsLeft));
	code.push(...op.block, ...op.loop);
	code.push(...op.get(rowAt), ...op.set(columnAt), ...op.get(columns), ...op.set(columnsLeft));
	code.push(...op.block, ...op.loop);
	code.push(...op.get(columnAt), ...op.vectorLoad(0), ...op.set(value));
	code.push(...op.get(value), ...op.get(best), ...op.greater, ...op.set(greater));
	code.push(...op.get(value), ...op.get(best), ...op.get(greater), ...op.select, ...op.set(best));
	code.push(...op.get(columnAt), ...op.intSplat, ...op.get(offsets), ...op.intPlus);
	code.push(...op.get(at), ...op.get(greater), ...op.select, ...op.set(at));
	code.push(...advance(columnAt, op.get(pixelBytes)));
	code.push(...op.get(columnsLeft), ...op.i32(1), ...op.sub, ...op.tee(columnsLeft));
	code.push(...op.branchIf(0), ...op.end, ...op.end);
	code.push(...advance(rowAt, op.get(rowBytes)));
	code.push(...op.get(rowsLeft), ...op.i32(1), ...op.sub, ...op.tee(rowsLeft));
	code.push(...op.branchIf(0), ...op.end, ...op.end);
	for (let lane = 0; lane < 4; lane++) {
		code.push(...op.get(at), ...op.lane(lane), ...op.tee(target), ...op.i32(-1), ...op.notEqual);
		code.push(...op.if);
		code.push(...op.get(target), ...op.get(delta), ...op.add, ...op.set(target));
		code.push(...op.get(target), ...op.get(target), ...op.loadFloat(0));
		code.push(...op.get(dy), ...op.loadFloat(4 * lane), ...op.floatPlus, ...op.storeFloat(0));
		code.push(...op.end);
	}
	code.push(...advance(first, op.i32(16)), ...advance(dy, op.i32(16)));
	code.push(...op.get(groupsLeft), ...op.i32(1), ...op.sub, ...op.tee(groupsLeft));
	code.push(...op.branchIf(0), ...op.end, ...op.end, ...op.end);
	return { i32Locals: 6, vectorLocals: 5, code };
}

/** One exported function of a kernel module: every parameter is an i32. */
export interface KernelFunction {
	name: string;
	params: number;
	body: Body;
}

/** A module of `functions`, exported under their names, importing `env.memory`. */
export function assembleModule(functions: readonly KernelFunction[]): Uint8Array {
	return moduleBytes(
		functions.map(({ name, params, body }) => ({
			name,
			params: new Array<ValueType>(params).fill(ValueType.I32),
			locals: [
				{ count: body.i32Locals, type: ValueType.I32 },
				{ count: body.vectorLocals, type: ValueType.V128 }
			],
			// A body ends with its own `end`; moduleBytes adds the function's.
			code: body.code.slice(0, -1)
		}))
	);
}

/** The module's bytes: both kernels, importing `env.memory`. */
export function simdModuleBytes(fused: boolean): Uint8Array {
	return assembleModule([
		{ name: 'gatherRows', params: 10, body: gatherRowsBody(fused) },
		{ name: 'gatherColumns', params: 10, body: gatherColumnsBody(fused) },
		...Array.from({ length: shortRowPairs }, (_, i) => ({
			name: `shortRow${i + 1}`,
			params: 5,
			body: shortRowBody(i + 1)
		})),
		{ name: 'maxPoolWindow', params: 8, body: maxPoolWindowBody() }
	]);
}

/** The kernels, bound to one memory. Addresses and strides are in bytes. */
export interface SimdKernels {
	gatherRows(
		pointers: number,
		taps: number,
		channels: number,
		b: number,
		panelStride: number,
		panels: number,
		c: number,
		ldc: number,
		rows: number,
		accumulate: number
	): void;
	gatherColumns(
		pointers: number,
		count: number,
		offset: number,
		b: number,
		ldb: number,
		panels: number,
		c: number,
		ldc: number,
		rows: number,
		accumulate: number
	): void;
	/** See {@link maxPoolWindowBody}. */
	maxPoolWindow(
		first: number,
		rows: number,
		columns: number,
		pixelBytes: number,
		rowBytes: number,
		groups: number,
		dy: number,
		delta: number
	): void;
	/** `shortRow1` … `shortRow8`: see {@link shortRowBody}. */
	[shortRow: `shortRow${number}`]: (
		a: number,
		inner: number,
		b: number,
		ldb: number,
		c: number
	) => void;
}

/**
 * Instantiates the kernels on `memory`, with fused multiply-adds where the engine has relaxed
 * SIMD; null where it has no SIMD at all.
 */
export function instantiateSimdKernels(memory: WasmMemory): SimdKernels | null {
	for (const fused of [true, false]) {
		const bytes = simdModuleBytes(fused);
		if (!webAssembly?.validate(bytes)) continue;
		const instance = new webAssembly.Instance(new webAssembly.Module(bytes), { env: { memory } });
		return instance.exports as SimdKernels;
	}
	return null;
}
