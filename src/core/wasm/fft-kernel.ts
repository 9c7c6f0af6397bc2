/**
 * fft.js's radix-4 forward transform in WebAssembly SIMD, two lines at a time: lane 0 of every
 * float64x2 holds one line, lane 1 another, and each lane runs exactly fft.js's sequence of
 * IEEE-754 double operations (same twiddle table, same bit-reversed first stage, same butterfly
 * order; SIMD add, subtract and multiply round each lane as the scalar operations do, and there
 * is no fused multiply-add here). So the results equal fft.js's bit for bit on every machine,
 * and the generators' bytes do not depend on whether an engine has SIMD.
 *
 * The one kernel, `lines`, transforms `pairs` pairs of complex lines of `n` points gathered from
 * memory with arbitrary strides (columns of a row-major plane are adjacent lanes; rows are lanes
 * `n` values apart), and scatters the spectra, times `scale`, with other strides: row and column
 * passes and the real-input packings of {@link ../generators/fft2d} are all calls of it.
 *
 * Memory layout for size n (bytes): the twiddles, n complex doubles, at 0; the first stage's
 * bit-reversed input offsets, n/2 or n/4 int32, at 16n; the scratch line pair, n × 32 bytes, at
 * 20n; callers' planes from {@link fftPlanesOffset}.
 */
import { moduleBytes, ValueType, signed, unsigned, type ModuleFunction } from './bytecode';

/** Where planes may start in an FFT instance's memory for size `n` (bytes). */
export function fftPlanesOffset(n: number): number {
	return 52 * n;
}

/** A kernel's parameters, in order (addresses and strides in bytes). */
export type LinesKernel = (
	inRe: number,
	inIm: number,
	inLane: number,
	inElement: number,
	outRe: number,
	outIm: number,
	outLane: number,
	outElement: number,
	pairs: number,
	inPairStride: number,
	outPairStride: number,
	n: number,
	firstStep: number,
	radix4First: number,
	scale: number
) => void;

/** The module's exports; `adjacentLines` requires lane strides of 8 bytes in and out. */
export interface FftKernel {
	lines: LinesKernel;
	adjacentLines: LinesKernel;
	mask: MaskKernel;
	maskOriented: MaskKernel;
	addMasked: MaskKernel;
	addMaskedOriented: MaskKernel;
}

/**
 * fft.js's tables for size `n`: its twiddles (cos, −sin of πi/n for even i, as fft.js computes
 * them), the first stage's input offsets (fft.js's `_bitrev`, in complex points), the first
 * stage's stride in complex points and whether it is radix 4 (else radix 2).
 */
export function fftTables(n: number): {
	twiddles: Float64Array;
	offsets: Int32Array;
	firstStep: number;
	radix4First: boolean;
} {
	const twiddles = new Float64Array(2 * n);
	for (let i = 0; i < twiddles.length; i += 2) {
		const angle = (Math.PI * i) / n;
		twiddles[i] = Math.cos(angle);
		twiddles[i + 1] = -Math.sin(angle);
	}
	const power = Math.log2(n);
	const width = power % 2 === 0 ? power - 1 : power;
	const step = 1 << width; // in interleaved values, as fft.js counts
	const firstLength = (2 * n) / step; // complex points per first-stage transform
	const offsets = new Int32Array(n / firstLength);
	for (let t = 0; t < offsets.length; t++) {
		let reversed = 0;
		for (let shift = 0; shift < width; shift += 2) {
			reversed |= ((t >>> shift) & 3) << (width - shift - 2);
		}
		offsets[t] = reversed >>> 1;
	}
	return { twiddles, offsets, firstStep: step / 2, radix4First: firstLength === 4 };
}

// Parameters.
const inRe = 0,
	inIm = 1,
	inLane = 2,
	inElement = 3,
	outRe = 4,
	outIm = 5,
	outLane = 6,
	outElement = 7,
	pairs = 8,
	inPairStride = 9,
	outPairStride = 10,
	size = 11,
	firstStep = 12,
	radix4First = 13,
	scale = 14;
// i32 locals.
const scratch = 15,
	offsetsAt = 16,
	t = 17,
	tEnd = 18,
	src = 19,
	srcIm = 20,
	stepBytes = 21,
	dst = 22,
	stepC = 23,
	lengthBytes = 24,
	quarterBytes = 25,
	blockAt = 26,
	i = 27,
	limit = 28,
	twiddle = 29,
	twiddleStep = 30,
	scratchEnd = 31,
	outR = 32,
	outI = 33;
const i32Locals = 19;
// v128 locals.
const [ar, ai, br, bi, cr, ci, dr, di, t0r, t0i, t1r, t1i, t2r, t2i, t3r, t3i, scaleV, wr, wi] =
	Array.from({ length: 19 }, (_, k) => 34 + k) as [
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number
	];
const vectorLocals = 19;

const get = (index: number) => [0x20, ...unsigned(index)];
const set = (index: number) => [0x21, ...unsigned(index)];
const i32 = (value: number) => [0x41, ...signed(value)];
const add = [0x6a];
const mul = [0x6c];
const divU = [0x6e];
const shrU = [0x76];
const ltU = [0x49];
const eqz = [0x45];
const loadI32 = [0x28, 2, 0];
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const ifThen = [0x04, 0x40];
const elseThen = [0x05];
const end = [0x0b];
const branch = (depth: number) => [0x0c, ...unsigned(depth)];
const brIf = (depth: number) => [0x0d, ...unsigned(depth)];
const vLoad = (offset: number) => [0xfd, 0x00, 4, ...unsigned(offset)];
const vStore = (offset: number) => [0xfd, 0x0b, 4, ...unsigned(offset)];
const splatLoad = (offset: number) => [0xfd, 0x0a, 3, ...unsigned(offset)];
const laneLoad = [0xfd, 0x57, 3, 0, 1];
const laneStore = (lane: number) => [0xfd, 0x5b, 3, 0, lane];
const splat = [0xfd, 0x14];
const plus = [0xfd, 0xf0, 0x01];
const minus = [0xfd, 0xf1, 0x01];
const times = [0xfd, 0xf2, 0x01];

/** `local = value` */
const assign = (local: number, value: number[]) => [...value, ...set(local)];
/** `local += value` for an i32 local. */
const advance = (local: number, value: number[]) => [
	...get(local),
	...value,
	...add,
	...set(local)
];
/** A vector local from `x op y`. */
const combine = (local: number, x: number, operation: number[], y: number) => [
	...get(x),
	...get(y),
	...operation,
	...set(local)
];

/**
 * The two lanes at `address` and `address + laneStride` (byte addresses); one load where the
 * lanes are `adjacent` (then `laneStride` is 8).
 */
function loadLanes(address: number[], laneStride: number, adjacent: boolean): number[] {
	if (adjacent) return [...address, ...vLoad(0)];
	return [...address, ...get(laneStride), ...add, ...address, ...splatLoad(0), ...laneLoad];
}

/** Stores the vector `value` as lanes at `address` and `address + laneStride`. */
function storeLanes(
	address: number[],
	laneStride: number,
	value: number[],
	adjacent: boolean
): number[] {
	if (adjacent) return [...address, ...value, ...vStore(0)];
	return [
		...address,
		...value,
		...laneStore(0),
		...address,
		...get(laneStride),
		...add,
		...value,
		...laneStore(1)
	];
}

/** The input point `k` strides past `src`/`srcIm` into (re, im). */
function loadPoint(k: number, re: number, im: number, adjacent: boolean): number[] {
	const at = (base: number) =>
		k === 0 ? get(base) : [...get(base), ...get(stepBytes), ...i32(k), ...mul, ...add];
	return [
		...loadLanes(at(src), inLane, adjacent),
		...set(re),
		...loadLanes(at(srcIm), inLane, adjacent),
		...set(im)
	];
}

/** Stores (re, im) vectors as scratch point `dst + offset`. */
function storePoint(offset: number, re: number[], im: number[]): number[] {
	return [...get(dst), ...re, ...vStore(offset), ...get(dst), ...im, ...vStore(offset + 16)];
}

const v = (x: number, operation: number[], y: number) => [...get(x), ...get(y), ...operation];

/** `src`/`srcIm` ← the input point of the first-stage offset at `t`. */
/** The radix-4 butterfly's sums and differences of a, b, c, d, in fft.js's order. */
const radix4Sums = [
	...combine(t0r, ar, plus, cr),
	...combine(t0i, ai, plus, ci),
	...combine(t1r, ar, minus, cr),
	...combine(t1i, ai, minus, ci),
	...combine(t2r, br, plus, dr),
	...combine(t2i, bi, plus, di),
	...combine(t3r, br, minus, dr),
	...combine(t3i, bi, minus, di)
];

const firstStageSource = [
	...get(inRe),
	...get(t),
	...loadI32,
	...get(inElement),
	...mul,
	...add,
	...set(src),
	...get(inIm),
	...get(t),
	...loadI32,
	...get(inElement),
	...mul,
	...add,
	...set(srcIm)
];

/** fft.js `_singleTransform4`: four points a stride apart → 4 consecutive scratch points. */
function radix4Stage(adjacent: boolean): number[] {
	return [
		...assign(tEnd, [...get(offsetsAt), ...get(size), ...add]),
		...loop,
		...firstStageSource,
		...loadPoint(0, ar, ai, adjacent),
		...loadPoint(1, br, bi, adjacent),
		...loadPoint(2, cr, ci, adjacent),
		...loadPoint(3, dr, di, adjacent),
		...radix4Sums,
		...storePoint(0, v(t0r, plus, t2r), v(t0i, plus, t2i)),
		...storePoint(32, v(t1r, plus, t3i), v(t1i, minus, t3r)),
		...storePoint(64, v(t0r, minus, t2r), v(t0i, minus, t2i)),
		...storePoint(96, v(t1r, minus, t3i), v(t1i, plus, t3r)),
		...advance(dst, i32(128)),
		...advance(t, i32(4)),
		...get(t),
		...get(tEnd),
		...ltU,
		...brIf(0),
		...end
	];
}

/** fft.js `_singleTransform2`: two points a stride apart → 2 consecutive scratch points. */
function radix2Stage(adjacent: boolean): number[] {
	return [
		...assign(tEnd, [...get(offsetsAt), ...get(size), ...i32(2), ...mul, ...add]),
		...loop,
		...firstStageSource,
		...loadPoint(0, ar, ai, adjacent),
		...loadPoint(1, br, bi, adjacent),
		...storePoint(0, v(ar, plus, br), v(ai, plus, bi)),
		...storePoint(32, v(ar, minus, br), v(ai, minus, bi)),
		...advance(dst, i32(64)),
		...advance(t, i32(4)),
		...get(t),
		...get(tEnd),
		...ltU,
		...brIf(0),
		...end
	];
}

/** Scratch point `i + k·quarter` (k = 0…3) into (re, im). */
function loadQuarter(k: number, re: number, im: number): number[] {
	const at = k === 0 ? get(i) : [...get(i), ...get(quarterBytes), ...i32(k), ...mul, ...add];
	return [...at, ...vLoad(0), ...set(re), ...at, ...vLoad(16), ...set(im)];
}

function storeQuarter(k: number, re: number[], im: number[]): number[] {
	const at = k === 0 ? get(i) : [...get(i), ...get(quarterBytes), ...i32(k), ...mul, ...add];
	return [...at, ...re, ...vStore(0), ...at, ...im, ...vStore(16)];
}

/** (re, im) ← (re, im) · twiddle at `twiddle · k` (fft.js: `Br·tr − Bi·ti`, `Br·ti + Bi·tr`). */
function rotate(k: number, re: number, im: number): number[] {
	const at = k === 1 ? get(twiddle) : [...get(twiddle), ...i32(k), ...mul];
	return [
		...at,
		...splatLoad(0),
		...set(wr),
		...at,
		...splatLoad(8),
		...set(wi),
		...v(re, times, wr),
		...v(im, times, wi),
		...minus,
		...v(re, times, wi),
		...v(im, times, wr),
		...plus,
		...set(im),
		...set(re)
	];
}

/** fft.js's radix-4 butterfly passes, in place on the scratch line pair. */
const butterflies = [
	...assign(stepC, [...get(firstStep), ...i32(2), ...shrU]),
	...block,
	...loop,
	...get(stepC),
	...eqz,
	...brIf(1),
	...assign(lengthBytes, [...get(size), ...get(stepC), ...divU, ...i32(32), ...mul]),
	...assign(quarterBytes, [...get(lengthBytes), ...i32(2), ...shrU]),
	...assign(twiddleStep, [...get(stepC), ...i32(16), ...mul]),
	...assign(blockAt, get(scratch)),
	...loop,
	...assign(i, get(blockAt)),
	...assign(limit, [...get(blockAt), ...get(quarterBytes), ...add]),
	...assign(twiddle, i32(0)),
	...loop,
	...loadQuarter(0, ar, ai),
	...loadQuarter(1, br, bi),
	...loadQuarter(2, cr, ci),
	...loadQuarter(3, dr, di),
	...rotate(1, br, bi),
	...rotate(2, cr, ci),
	...rotate(3, dr, di),
	...radix4Sums,
	...storeQuarter(0, v(t0r, plus, t2r), v(t0i, plus, t2i)),
	...storeQuarter(1, v(t1r, plus, t3i), v(t1i, minus, t3r)),
	...storeQuarter(2, v(t0r, minus, t2r), v(t0i, minus, t2i)),
	...storeQuarter(3, v(t1r, minus, t3i), v(t1i, plus, t3r)),
	...advance(i, i32(32)),
	...advance(twiddle, get(twiddleStep)),
	...get(i),
	...get(limit),
	...ltU,
	...brIf(0),
	...end,
	...advance(blockAt, get(lengthBytes)),
	...get(blockAt),
	...get(scratchEnd),
	...ltU,
	...brIf(0),
	...end,
	...assign(stepC, [...get(stepC), ...i32(2), ...shrU]),
	...branch(0),
	...end,
	...end
];

/** The scratch line pair, times `scale`, out to (outRe, outIm). */
function scatter(adjacent: boolean): number[] {
	return [
		...assign(dst, get(scratch)),
		...assign(outR, get(outRe)),
		...assign(outI, get(outIm)),
		...loop,
		...storeLanes(
			get(outR),
			outLane,
			[...get(dst), ...vLoad(0), ...get(scaleV), ...times],
			adjacent
		),
		...storeLanes(
			get(outI),
			outLane,
			[...get(dst), ...vLoad(16), ...get(scaleV), ...times],
			adjacent
		),
		...advance(dst, i32(32)),
		...advance(outR, get(outElement)),
		...advance(outI, get(outElement)),
		...get(dst),
		...get(scratchEnd),
		...ltU,
		...brIf(0),
		...end
	];
}

/** The kernel; `adjacent` builds the variant for lanes 8 bytes apart on the way in and out. */
function linesFunction(name: string, adjacent: boolean): ModuleFunction {
	const code = [
		...assign(offsetsAt, [...get(size), ...i32(16), ...mul]),
		...assign(scratch, [...get(size), ...i32(20), ...mul]),
		...assign(scratchEnd, [...get(scratch), ...get(size), ...i32(32), ...mul, ...add]),
		...assign(stepBytes, [...get(firstStep), ...get(inElement), ...mul]),
		...assign(scaleV, [...get(scale), ...splat]),
		...loop,
		...assign(t, get(offsetsAt)),
		...assign(dst, get(scratch)),
		...get(radix4First),
		...ifThen,
		...radix4Stage(adjacent),
		...elseThen,
		...radix2Stage(adjacent),
		...end,
		...butterflies,
		...scatter(adjacent),
		...advance(inRe, get(inPairStride)),
		...advance(inIm, get(inPairStride)),
		...advance(outRe, get(outPairStride)),
		...advance(outIm, get(outPairStride)),
		...assign(pairs, [...get(pairs), ...i32(-1), ...add]),
		...get(pairs),
		...brIf(0),
		...end
	];
	return {
		name,
		params: [...new Array<ValueType>(14).fill(ValueType.I32), ValueType.F64],
		locals: [
			{ count: i32Locals, type: ValueType.I32 },
			{ count: vectorLocals, type: ValueType.V128 }
		],
		code
	};
}

/**
 * Fourier-mask products on `count` values (even), two at a time, each lane as the scalar code
 * computes it. `mask` (k, f → out): out = (k·f.re, k·f.im), or for `oriented`
 * i·k·f = ((−k)·f.im, k·f.re). `addMasked` (k, b → to): to += k·b, or for `oriented`
 * to += conj(i)·k·b = (to.re + k·b.im, to.im − k·b.re).
 */
function maskFunction(name: string, kind: 'mask' | 'addMasked', oriented: boolean): ModuleFunction {
	// Params: mask, fromRe, fromIm, toRe, toIm, count; locals: i (byte offset), end, k.
	const [maskAt, fromRe, fromIm, toRe, toIm, count, i, endAt, k] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
	const load = (base: number) => [...get(base), ...get(i), ...add, ...vLoad(0)];
	const store = (base: number, value: number[]) => [
		...get(base),
		...get(i),
		...add,
		...value,
		...vStore(0)
	];
	const negate = [0xfd, 0xed, 0x01];
	const product = (factor: number[], base: number) => [...factor, ...load(base), ...times];
	const body =
		kind === 'mask'
			? oriented
				? [
						...store(toRe, product([...get(k), ...negate], fromIm)),
						...store(toIm, product(get(k), fromRe))
					]
				: [...store(toRe, product(get(k), fromRe)), ...store(toIm, product(get(k), fromIm))]
			: oriented
				? [
						...store(toRe, [...load(toRe), ...product(get(k), fromIm), ...plus]),
						...store(toIm, [...load(toIm), ...product(get(k), fromRe), ...minus])
					]
				: [
						...store(toRe, [...load(toRe), ...product(get(k), fromRe), ...plus]),
						...store(toIm, [...load(toIm), ...product(get(k), fromIm), ...plus])
					];
	const code = [
		...assign(endAt, [...get(count), ...i32(8), ...mul]),
		...get(count),
		...eqz,
		...ifThen,
		...[0x0f], // return
		...end,
		...loop,
		...assign(k, load(maskAt)),
		...body,
		...advance(i, i32(16)),
		...get(i),
		...get(endAt),
		...ltU,
		...brIf(0),
		...end
	];
	return {
		name,
		params: new Array<ValueType>(6).fill(ValueType.I32),
		locals: [
			{ count: 2, type: ValueType.I32 },
			{ count: 1, type: ValueType.V128 }
		],
		code
	};
}

/** The mask kernels' parameters: byte addresses of the mask and planes, and the count. */
export type MaskKernel = (
	mask: number,
	fromRe: number,
	fromIm: number,
	toRe: number,
	toIm: number,
	count: number
) => void;

/**
 * The module's bytes: `lines` (lanes anywhere), `adjacentLines` (the same with lanes 8 bytes
 * apart both ways, as adjacent columns are, loaded and stored whole) and the mask products.
 */
export const fftModuleBytes: Uint8Array = moduleBytes([
	linesFunction('lines', false),
	linesFunction('adjacentLines', true),
	maskFunction('mask', 'mask', false),
	maskFunction('maskOriented', 'mask', true),
	maskFunction('addMasked', 'addMasked', false),
	maskFunction('addMaskedOriented', 'addMasked', true)
]);
