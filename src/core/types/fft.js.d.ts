/** Typings for fft.js 4 (radix-4 FFT on interleaved complex arrays; sizes are powers of two). */
declare module 'fft.js' {
	export default class FFT {
		constructor(size: number);
		readonly size: number;
		createComplexArray(): number[];
		toComplexArray(input: ArrayLike<number>, storage?: number[]): number[];
		fromComplexArray(complex: ArrayLike<number>, storage?: number[]): number[];
		completeSpectrum(spectrum: number[] | Float64Array): void;
		transform(output: number[] | Float64Array, input: ArrayLike<number>): void;
		realTransform(output: number[] | Float64Array, input: ArrayLike<number>): void;
		inverseTransform(output: number[] | Float64Array, input: ArrayLike<number>): void;
	}
}
