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

/** A reusable 2-D FFT for one size; holds scratch buffers, so use one per thread. */
export class Fft2d {
	private readonly fft: FFT;
	// Plain arrays: fft.js runs about twice as fast on them as on Float64Arrays (V8 elements kinds).
	private readonly line: number[];
	private readonly spectrum: number[];

	/** `n` must be a power of two. */
	constructor(readonly n: number) {
		if (!isPowerOfTwo(n)) throw new RangeError(`Fft2d needs a power-of-two size, got ${n}`);
		this.fft = new FFT(n);
		this.line = this.fft.createComplexArray().fill(0);
		this.spectrum = this.fft.createComplexArray().fill(0);
	}

	/** In-place forward transform: (re, im) ← DFT(re + i·im). */
	forward(re: Float64Array, im: Float64Array): void {
		this.pass(re, im, false);
	}

	/** In-place inverse transform, normalised by 1/n², so inverse(forward(x)) = x. */
	inverse(re: Float64Array, im: Float64Array): void {
		this.pass(re, im, true);
	}

	private pass(re: Float64Array, im: Float64Array, inverse: boolean): void {
		const { n, line, spectrum, fft } = this;
		for (let axis = 0; axis < 2; axis++) {
			for (let k = 0; k < n; k++) {
				// axis 0 walks rows (stride 1); axis 1 walks columns (stride n).
				const start = axis === 0 ? k * n : k;
				const stride = axis === 0 ? 1 : n;
				for (let j = 0; j < n; j++) {
					const at = start + j * stride;
					line[2 * j] = re[at] as number;
					line[2 * j + 1] = im[at] as number;
				}
				if (inverse) fft.inverseTransform(spectrum, line);
				else fft.transform(spectrum, line);
				for (let j = 0; j < n; j++) {
					const at = start + j * stride;
					re[at] = spectrum[2 * j] as number;
					im[at] = spectrum[2 * j + 1] as number;
				}
			}
		}
	}
}
