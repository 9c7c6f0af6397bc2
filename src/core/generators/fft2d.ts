/**
 * Two-dimensional FFTs of square power-of-two planes, built on fft.js (rows, then columns).
 * Planes are row-major `Float64Array`s of `n * n` values, real and imaginary parts apart.
 */
import FFT from 'fft.js';

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
	private readonly fft: FFT;
	// Plain arrays: fft.js runs about twice as fast on them as on Float64Arrays (V8 elements kinds).
	private readonly lines: number[][];
	private readonly spectra: number[][];
	/** The row pass's outputs, which the column pass reads without a copy back into the planes. */
	private readonly rowSpectra: number[][];
	private readonly block: number;

	/** `n` must be a power of two. */
	constructor(readonly n: number) {
		if (!isPowerOfTwo(n)) throw new RangeError(`Fft2d needs a power-of-two size, got ${n}`);
		this.fft = new FFT(n);
		this.block = Math.min(columnBlock, n);
		// Packed double arrays throughout, so fft.js sees one elements kind.
		const complexLine = () => Array.from({ length: 2 * n }, () => 0.5);
		this.lines = Array.from({ length: this.block }, complexLine);
		this.spectra = Array.from({ length: this.block }, complexLine);
		this.rowSpectra = Array.from({ length: n }, complexLine);
	}

	/** In-place forward transform: (re, im) ← DFT(re + i·im). */
	forward(re: Float64Array, im: Float64Array): void {
		this.pass(re, im, false);
	}

	/** In-place inverse transform, normalised by 1/n², so inverse(forward(x)) = x. */
	inverse(re: Float64Array, im: Float64Array): void {
		this.pass(re, im, true);
	}

	/**
	 * In-place forward transform of a real plane `re` (`im` is ignored on the way in): the full
	 * spectrum lands in (re, im). Half the work of {@link forward}: the row pass transforms two
	 * rows at once as one complex line, row a + i·row b, and splits the result by Hermitian
	 * symmetry, A(k) = (Z(k) + Z̄(−k))/2 and B(k) = (Z(k) − Z̄(−k))/2i; the column pass runs only
	 * on columns 0 … n/2, and the other columns are their conjugates.
	 */
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
		// X(r, c) = X̄(−r, −c) for the columns past n/2.
		for (let row = 0; row < n; row++) {
			const mirrorRow = ((n - row) % n) * n;
			for (let col = half + 1; col < n; col++) {
				re[row * n + col] = re[mirrorRow + n - col] as number;
				im[row * n + col] = -(im[mirrorRow + n - col] as number);
			}
		}
	}

	/**
	 * In-place inverse transform of a Hermitian spectrum (re, im), whose inverse is real: the real
	 * result lands in `re`, and `im` is used as scratch. Half the work of {@link inverse}: the
	 * column pass runs only on columns 0 … n/2 (the others are their conjugates), and the row
	 * pass transforms two rows at once as one complex line, row a + i·row b, since both invert
	 * to real lines.
	 */
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
