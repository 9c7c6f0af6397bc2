/**
 * Two-dimensional FFTs of square power-of-two planes (rows, then columns). Planes are row-major
 * `Float64Array`s of `n * n` values, real and imaginary parts apart.
 *
 * Where the engine has WebAssembly SIMD, the lines are transformed two at a time by
 * {@link ../wasm/fft-kernel} (3–4× faster); elsewhere by fft.js. Both run the same double
 * operations in the same order, so the results are the same bits either way.
 */
import FFT from 'fft.js';
import { webAssembly, type WasmMemory } from '../wasm/bytecode';
import { fftModuleBytes, fftPlanesOffset, fftTables, type FftKernel } from '../wasm/fft-kernel';

/** Whether `n` is a power of two (fft.js handles only those). */
export function isPowerOfTwo(n: number): boolean {
	return Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
}

/** The smallest power of two that is at least `n`. */
export function nextPowerOfTwo(n: number): number {
	let p = 2;
	while (p < n) p *= 2;
	return p;
}

/**
 * Columns are transformed this many at a time, so that gathering and scattering them walks
 * whole cache lines of each row instead of one value per row.
 */
const columnBlock = 8;

/** A reusable 2-D FFT for one size; holds scratch buffers, so use one per thread. */
export class Fft2d {
	private readonly planes: SimdFft2d | ScalarFft2d;

	/**
	 * `n` must be a power of two. `simd: false` forces fft.js (for comparisons; the bytes are the
	 * same either way). `planes` reserves room for that many {@link plane}s.
	 */
	constructor(
		readonly n: number,
		options: { simd?: boolean; planes?: number } = {}
	) {
		if (!isPowerOfTwo(n)) throw new RangeError(`Fft2d needs a power-of-two size, got ${n}`);
		const simd = options.simd !== false ? SimdFft2d.create(n, options.planes ?? 0) : null;
		this.planes = simd ?? new ScalarFft2d(n);
	}

	/**
	 * A new plane of `n * n` zeros, in this transform's WebAssembly memory while the room
	 * reserved at construction lasts (else an ordinary array): {@link mask} and
	 * {@link addMasked} run in SIMD when all their planes are such.
	 */
	plane(): Float64Array {
		return this.planes instanceof SimdFft2d
			? this.planes.plane()
			: new Float64Array(this.n * this.n);
	}

	/**
	 * Fourier-domain mask product: (outRe, outIm) ← k·(fromRe, fromIm), or i·k·from =
	 * (−k·fromIm, k·fromRe) when `oriented`, over `n * n` values.
	 */
	mask(
		k: Float64Array,
		fromRe: Float64Array,
		fromIm: Float64Array,
		outRe: Float64Array,
		outIm: Float64Array,
		oriented: boolean
	): void {
		if (this.planes instanceof SimdFft2d) {
			if (this.planes.mask(k, fromRe, fromIm, outRe, outIm, oriented)) return;
		}
		const count = this.n * this.n;
		if (oriented) {
			for (let i = 0; i < count; i++) {
				const m = k[i] as number;
				outRe[i] = -m * (fromIm[i] as number);
				outIm[i] = m * (fromRe[i] as number);
			}
		} else {
			for (let i = 0; i < count; i++) {
				const m = k[i] as number;
				outRe[i] = m * (fromRe[i] as number);
				outIm[i] = m * (fromIm[i] as number);
			}
		}
	}

	/**
	 * (toRe, toIm) += k·(re, im), or conj(i)·k·(re + i·im) = (k·im, −k·re) when `oriented`, over
	 * `n * n` values.
	 */
	addMasked(
		k: Float64Array,
		re: Float64Array,
		im: Float64Array,
		toRe: Float64Array,
		toIm: Float64Array,
		oriented: boolean
	): void {
		if (this.planes instanceof SimdFft2d) {
			if (this.planes.addMasked(k, re, im, toRe, toIm, oriented)) return;
		}
		const count = this.n * this.n;
		if (oriented) {
			for (let i = 0; i < count; i++) {
				const m = k[i] as number;
				toRe[i] = (toRe[i] as number) + m * (im[i] as number);
				toIm[i] = (toIm[i] as number) - m * (re[i] as number);
			}
		} else {
			for (let i = 0; i < count; i++) {
				const m = k[i] as number;
				toRe[i] = (toRe[i] as number) + m * (re[i] as number);
				toIm[i] = (toIm[i] as number) + m * (im[i] as number);
			}
		}
	}

	/**
	 * Work planes of `n * n` values owned by this transform (in WebAssembly memory on the SIMD
	 * path): transforms of exactly these arrays skip copying the planes in and out, so callers
	 * that fill them directly (masked bands, say) save two copies per plane and transform. Any
	 * transform of other arrays may overwrite them.
	 */
	get re(): Float64Array {
		return this.planes.re;
	}

	/** See {@link re}. */
	get im(): Float64Array {
		return this.planes.im;
	}

	/** Whether this transform runs in WebAssembly SIMD (else fft.js). */
	get simd(): boolean {
		return this.planes instanceof SimdFft2d;
	}

	/** In-place forward transform: (re, im) ← DFT(re + i·im). */
	forward(re: Float64Array, im: Float64Array): void {
		this.planes.forward(re, im);
	}

	/** In-place inverse transform, normalised by 1/n², so inverse(forward(x)) = x. */
	inverse(re: Float64Array, im: Float64Array): void {
		this.planes.inverse(re, im);
	}

	/**
	 * In-place forward transform of a real plane `re` (`im` is ignored on the way in): the full
	 * spectrum lands in (re, im). Half the work of {@link forward}: the row pass transforms two
	 * rows at once as one complex line, row a + i·row b, and splits the result by Hermitian
	 * symmetry, A(k) = (Z(k) + Z̄(−k))/2 and B(k) = (Z(k) − Z̄(−k))/2i; the column pass runs only
	 * on columns 0 … n/2, and the other columns are their conjugates.
	 */
	forwardReal(re: Float64Array, im: Float64Array): void {
		this.planes.forwardReal(re, im);
	}

	/**
	 * In-place inverse transform of a Hermitian spectrum (re, im), whose inverse is real: the real
	 * result lands in `re`, and `im` is scratch (its content afterwards is unspecified). Half the
	 * work of {@link inverse}: the column pass runs only on columns 0 … n/2 (the others are their
	 * conjugates), and the row pass transforms two rows at once as one complex line,
	 * row a + i·row b, since both invert to real lines.
	 */
	inverseReal(re: Float64Array, im: Float64Array): void {
		this.planes.inverseReal(re, im);
	}
}

/** X(r, c) = X̄(−r, −c): fills the columns past n/2 of a real plane's spectrum. */
function mirrorColumns(re: Float64Array, im: Float64Array, n: number): void {
	const half = n / 2;
	for (let row = 0; row < n; row++) {
		const mirrorRow = ((n - row) % n) * n;
		for (let col = half + 1; col < n; col++) {
			re[row * n + col] = re[mirrorRow + n - col] as number;
			im[row * n + col] = -(im[mirrorRow + n - col] as number);
		}
	}
}

let fftModule: object | null | undefined;

/** The compiled kernel module, or null where the engine has no WebAssembly SIMD. */
function compiledFftModule(): object | null {
	if (fftModule === undefined) {
		try {
			fftModule =
				webAssembly?.validate(fftModuleBytes) === true
					? new webAssembly.Module(fftModuleBytes)
					: null;
		} catch {
			// A page whose Content-Security-Policy forbids compiling WebAssembly: fft.js it is.
			fftModule = null;
		}
	}
	return fftModule;
}

/** Whether this engine runs {@link Fft2d} in WebAssembly SIMD. */
export function simdFftAvailable(): boolean {
	return compiledFftModule() !== null;
}

/**
 * The SIMD transforms: the caller's planes are copied into the instance's memory, transformed
 * there by calls of the `lines` kernel (rows: lanes two rows apart; columns: adjacent lanes),
 * and copied back. Memory: tables, then planes re, im and the packed lines of inverseReal.
 */
class SimdFft2d {
	readonly re: Float64Array;
	readonly im: Float64Array;
	private readonly packedRe: Float64Array;
	private readonly packedIm: Float64Array;
	private readonly firstStep: number;
	private readonly radix4First: number;

	/** Where the next {@link plane} goes (bytes), and where the reserved room ends. */
	private nextPlane: number;
	private readonly planesEnd: number;

	private constructor(
		private readonly n: number,
		private readonly kernel: FftKernel,
		private readonly memory: WasmMemory,
		extraPlanes: number
	) {
		const { twiddles, offsets, firstStep, radix4First } = fftTables(n);
		new Float64Array(memory.buffer, 0, twiddles.length).set(twiddles);
		new Int32Array(memory.buffer, 16 * n, offsets.length).set(offsets);
		const plane = n * n;
		const start = fftPlanesOffset(n);
		this.re = new Float64Array(memory.buffer, start, plane);
		this.im = new Float64Array(memory.buffer, start + 8 * plane, plane);
		this.packedRe = new Float64Array(memory.buffer, start + 16 * plane, plane / 2);
		this.packedIm = new Float64Array(memory.buffer, start + 20 * plane, plane / 2);
		this.firstStep = firstStep;
		this.radix4First = radix4First ? 1 : 0;
		this.nextPlane = start + 24 * plane;
		this.planesEnd = this.nextPlane + 8 * plane * extraPlanes;
	}

	/** See {@link Fft2d.plane}. */
	plane(): Float64Array {
		const count = this.n * this.n;
		if (this.nextPlane >= this.planesEnd) return new Float64Array(count);
		const plane = new Float64Array(this.memory.buffer, this.nextPlane, count);
		this.nextPlane += 8 * count;
		return plane;
	}

	/** Whether all these planes are in this instance's memory. */
	private own(...planes: Float64Array[]): boolean {
		return planes.every((plane) => plane.buffer === this.memory.buffer);
	}

	/** {@link Fft2d.mask} in SIMD; false (nothing done) when a plane is elsewhere. */
	mask(
		k: Float64Array,
		fromRe: Float64Array,
		fromIm: Float64Array,
		outRe: Float64Array,
		outIm: Float64Array,
		oriented: boolean
	): boolean {
		if (!this.own(k, fromRe, fromIm, outRe, outIm)) return false;
		const kernel = oriented ? this.kernel.maskOriented : this.kernel.mask;
		kernel(
			this.at(k),
			this.at(fromRe),
			this.at(fromIm),
			this.at(outRe),
			this.at(outIm),
			this.n * this.n
		);
		return true;
	}

	/** {@link Fft2d.addMasked} in SIMD; false (nothing done) when a plane is elsewhere. */
	addMasked(
		k: Float64Array,
		re: Float64Array,
		im: Float64Array,
		toRe: Float64Array,
		toIm: Float64Array,
		oriented: boolean
	): boolean {
		if (!this.own(k, re, im, toRe, toIm)) return false;
		const kernel = oriented ? this.kernel.addMaskedOriented : this.kernel.addMasked;
		kernel(this.at(k), this.at(re), this.at(im), this.at(toRe), this.at(toIm), this.n * this.n);
		return true;
	}

	/** An instance for size `n`, or null without WebAssembly SIMD or for n < 8. */
	static create(n: number, extraPlanes: number): SimdFft2d | null {
		const module = n >= 8 ? compiledFftModule() : null;
		if (!module || !webAssembly) return null;
		const bytes = fftPlanesOffset(n) + (24 + 8 * extraPlanes) * n * n;
		const memory = new webAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
		const instance = new webAssembly.Instance(module, { env: { memory } });
		return new SimdFft2d(n, instance.exports as FftKernel, memory, extraPlanes);
	}

	/** Byte address of element `index` of a plane view. */
	private at(plane: Float64Array, index = 0): number {
		return plane.byteOffset + 8 * index;
	}

	/** Transforms `pairs` row pairs: rows r and r+1 of (re, im) as lanes, in place. */
	private rows(re: Float64Array, im: Float64Array, scale: number): void {
		const { n } = this;
		const row = 8 * n;
		this.lines(
			this.at(re),
			this.at(im),
			row,
			8,
			this.at(re),
			this.at(im),
			row,
			8,
			n / 2,
			2 * row,
			2 * row,
			scale
		);
	}

	/** Transforms columns 0 … 2·pairs − 1 of (re, im), two adjacent ones at a time, in place. */
	private columns(re: Float64Array, im: Float64Array, pairs: number, scale: number): void {
		const row = 8 * this.n;
		this.lines(
			this.at(re),
			this.at(im),
			8,
			row,
			this.at(re),
			this.at(im),
			8,
			row,
			pairs,
			16,
			16,
			scale
		);
	}

	private lines(
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
		scale: number
	): void {
		const kernel = inLane === 8 && outLane === 8 ? this.kernel.adjacentLines : this.kernel.lines;
		kernel(
			inRe,
			inIm,
			inLane,
			inElement,
			outRe,
			outIm,
			outLane,
			outElement,
			pairs,
			inPairStride,
			outPairStride,
			this.n,
			this.firstStep,
			this.radix4First,
			scale
		);
	}

	/** Copies a caller's plane into a work plane, unless it is that plane. */
	private static load(work: Float64Array, plane: Float64Array): void {
		if (plane !== work) work.set(plane);
	}

	/** Copies a work plane back into a caller's plane, unless it is that plane. */
	private static store(work: Float64Array, plane: Float64Array): void {
		if (plane !== work) plane.set(work);
	}

	forward(re: Float64Array, im: Float64Array): void {
		SimdFft2d.load(this.re, re);
		SimdFft2d.load(this.im, im);
		this.rows(this.re, this.im, 1);
		this.columns(this.re, this.im, this.n / 2, 1);
		SimdFft2d.store(this.re, re);
		SimdFft2d.store(this.im, im);
	}

	/** DFT⁻¹(x) = swap(DFT(swap(x)))/n, as the fft.js path does it. */
	inverse(re: Float64Array, im: Float64Array): void {
		SimdFft2d.load(this.re, re);
		SimdFft2d.load(this.im, im);
		this.rows(this.im, this.re, 1);
		this.columns(this.im, this.re, this.n / 2, 1 / (this.n * this.n));
		SimdFft2d.store(this.re, re);
		SimdFft2d.store(this.im, im);
	}

	forwardReal(source: Float64Array, target: Float64Array): void {
		const { n } = this;
		const { re, im } = this;
		const row = 8 * n;
		const half = n / 2;
		SimdFft2d.load(re, source);
		// Rows a and a + 1 as one complex line; its spectrum Z lands in row a of (re, im).
		this.lines(
			this.at(re),
			this.at(re, n),
			2 * row,
			8,
			this.at(re),
			this.at(im),
			2 * row,
			8,
			n / 4,
			4 * row,
			4 * row,
			1
		);
		for (let a = 0; a < n * n; a += 2 * n) {
			const b = a + n;
			for (let k = 0; k <= half; k++) {
				const m = (n - k) % n;
				const zr = re[a + k] as number;
				const zi = im[a + k] as number;
				const wr = re[a + m] as number;
				const wi = im[a + m] as number;
				re[a + k] = (zr + wr) / 2;
				im[a + k] = (zi - wi) / 2;
				re[b + k] = (zi + wi) / 2;
				im[b + k] = (wr - zr) / 2;
			}
		}
		// Columns 0 … n/2 (and n/2 + 1, overwritten below).
		this.columns(re, im, n / 4 + 1, 1);
		mirrorColumns(re, im, n);
		SimdFft2d.store(re, source);
		SimdFft2d.store(im, target);
	}

	inverseReal(source: Float64Array, spectrumIm: Float64Array): void {
		const { n, re, im, packedRe, packedIm } = this;
		const row = 8 * n;
		const half = n / 2;
		SimdFft2d.load(re, source);
		SimdFft2d.load(im, spectrumIm);
		// Columns 0 … n/2 through the swap (n/2 + 1 too, never read).
		this.columns(im, re, n / 4 + 1, 1);
		// Z = A + i·B for rows a, b = a + 1, with A(−k) = conj A(k); swapped for the inverse.
		for (let a = 0, line = 0; a < n * n; a += 2 * n, line += n) {
			const b = a + n;
			for (let k = 0; k < n; k++) {
				const mirror = k <= half ? k : n - k;
				const sign = k <= half ? 1 : -1;
				const ar = re[a + mirror] as number;
				const ai = sign * (im[a + mirror] as number);
				const br = re[b + mirror] as number;
				const bi = sign * (im[b + mirror] as number);
				packedRe[line + k] = ai + br;
				packedIm[line + k] = ar - bi;
			}
		}
		// Line j → rows 2j (its imaginary part) and 2j + 1 (its real part), times 1/n².
		this.lines(
			this.at(packedRe),
			this.at(packedIm),
			row,
			8,
			this.at(re, n),
			this.at(re),
			2 * row,
			8,
			n / 4,
			2 * row,
			4 * row,
			1 / (n * n)
		);
		SimdFft2d.store(re, source);
	}
}

/** The fft.js transforms (the reference, and the fallback without WebAssembly SIMD). */
class ScalarFft2d {
	readonly re: Float64Array;
	readonly im: Float64Array;
	private readonly fft: FFT;
	// Plain arrays: fft.js runs about twice as fast on them as on Float64Arrays (V8 elements kinds).
	private readonly lines: number[][];
	private readonly spectra: number[][];
	/** The row pass's outputs, which the column pass reads without a copy back into the planes. */
	private readonly rowSpectra: number[][];
	private readonly block: number;

	/** `n` must be a power of two. */
	constructor(readonly n: number) {
		this.re = new Float64Array(n * n);
		this.im = new Float64Array(n * n);
		this.fft = new FFT(n);
		this.block = Math.min(columnBlock, n);
		// Packed double arrays throughout, so fft.js sees one elements kind.
		const complexLine = () => Array.from({ length: 2 * n }, () => 0.5);
		this.lines = Array.from({ length: this.block }, complexLine);
		this.spectra = Array.from({ length: this.block }, complexLine);
		this.rowSpectra = Array.from({ length: n }, complexLine);
	}

	forward(re: Float64Array, im: Float64Array): void {
		this.pass(re, im, false);
	}

	inverse(re: Float64Array, im: Float64Array): void {
		this.pass(re, im, true);
	}

	forwardReal(re: Float64Array, im: Float64Array): void {
		const { n, lines, spectra, fft } = this;
		const half = n / 2;
		const line = lines[0] as number[];
		const out = spectra[0] as number[];
		for (let row = 0; row < n; row += 2) {
			const a = row * n;
			const b = a + n;
			for (let k = 0; k < n; k++) {
				line[2 * k] = re[a + k] as number;
				line[2 * k + 1] = re[b + k] as number;
			}
			fft.transform(out, line);
			for (let k = 0; k <= half; k++) {
				const m = (n - k) % n;
				const zr = out[2 * k] as number;
				const zi = out[2 * k + 1] as number;
				const wr = out[2 * m] as number;
				const wi = out[2 * m + 1] as number;
				re[a + k] = (zr + wr) / 2;
				im[a + k] = (zi - wi) / 2;
				re[b + k] = (zi + wi) / 2;
				im[b + k] = (wr - zr) / 2;
			}
		}
		for (let col = 0; col <= half; col++) {
			for (let row = 0, at = col; row < n; row++, at += n) {
				line[2 * row] = re[at] as number;
				line[2 * row + 1] = im[at] as number;
			}
			fft.transform(out, line);
			for (let row = 0, at = col; row < n; row++, at += n) {
				re[at] = out[2 * row] as number;
				im[at] = out[2 * row + 1] as number;
			}
		}
		mirrorColumns(re, im, n);
	}

	inverseReal(re: Float64Array, im: Float64Array): void {
		const { n, lines, spectra, fft } = this;
		const half = n / 2;
		const line = lines[0] as number[];
		const out = spectra[0] as number[];
		// Columns, inverted through the swap: the line holds (im, re) and comes back as (im, re).
		for (let col = 0; col <= half; col++) {
			for (let row = 0, at = col; row < n; row++, at += n) {
				line[2 * row] = im[at] as number;
				line[2 * row + 1] = re[at] as number;
			}
			fft.transform(out, line);
			for (let row = 0, at = col; row < n; row++, at += n) {
				im[at] = out[2 * row] as number;
				re[at] = out[2 * row + 1] as number;
			}
		}
		const scale = 1 / (n * n);
		for (let row = 0; row < n; row += 2) {
			const a = row * n;
			const b = a + n;
			// Z = A + i·B on the full line, with A(−k) = conj A(k); swapped for the inverse.
			for (let k = 0; k < n; k++) {
				const mirror = k <= half ? k : n - k;
				const sign = k <= half ? 1 : -1;
				const ar = re[a + mirror] as number;
				const ai = sign * (im[a + mirror] as number);
				const br = re[b + mirror] as number;
				const bi = sign * (im[b + mirror] as number);
				line[2 * k] = ai + br;
				line[2 * k + 1] = ar - bi;
			}
			fft.transform(out, line);
			for (let k = 0; k < n; k++) {
				re[a + k] = (out[2 * k + 1] as number) * scale;
				re[b + k] = (out[2 * k] as number) * scale;
			}
		}
	}

	/**
	 * Both passes use fft.js's forward transform; the inverse swaps real and imaginary parts on
	 * the way in and out (DFT⁻¹(x) = swap(DFT(swap(x)))/n), with 1/n² applied on the last
	 * scatter, which spares fft.js's separate division loop.
	 */
	private pass(re: Float64Array, im: Float64Array, inverse: boolean): void {
		const { n, lines, spectra, rowSpectra, fft, block } = this;
		// Swapping: the line holds (im, re) and comes back as (im, re).
		const first = inverse ? im : re;
		const second = inverse ? re : im;
		const line = lines[0] as number[];
		for (let row = 0; row < n; row++) {
			const offset = row * n;
			for (let j = 0; j < n; j++) {
				line[2 * j] = first[offset + j] as number;
				line[2 * j + 1] = second[offset + j] as number;
			}
			fft.transform(rowSpectra[row] as number[], line);
		}
		const scale = inverse ? 1 / (n * n) : 1;
		for (let col = 0; col < n; col += block) {
			for (let row = 0; row < n; row++) {
				const source = rowSpectra[row] as number[];
				for (let c = 0; c < block; c++) {
					const target = lines[c] as number[];
					target[2 * row] = source[2 * (col + c)] as number;
					target[2 * row + 1] = source[2 * (col + c) + 1] as number;
				}
			}
			for (let c = 0; c < block; c++) {
				const source = spectra[c] as number[];
				fft.transform(source, lines[c] as number[]);
				for (let row = 0, at = col + c; row < n; row++, at += n) {
					first[at] = (source[2 * row] as number) * scale;
					second[at] = (source[2 * row + 1] as number) * scale;
				}
			}
		}
	}
}
