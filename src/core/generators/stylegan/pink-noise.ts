/**
 * Pink (1/f^α) noise maps with an optional Laplacian envelope, the noise inputs of the
 * randomized StyleGAN variants (spec §2.3.5).
 *
 * Deviation, by necessity: the reference builds the spectrum on an (S+1)×(S+1) grid over
 * [−1,1]², inverse-transforms at that odd size and crops to S×S. {@link Fft2d} handles only
 * powers of two, so the spectrum here lives on the S×S DFT grid with the same radial amplitude
 * 2·(2|k|/S)^−α (DC zero) and the same antisymmetrised uniform phase. The maps have the same
 * spectrum and marginal statistics; only their period (S instead of S+1) differs.
 */
import { Fft2d } from '../fft2d';
import type { Random } from '../random';

const transforms = new Map<number, Fft2d>();

function fftFor(size: number): Fft2d {
	let fft = transforms.get(size);
	if (!fft) {
		fft = new Fft2d(size);
		transforms.set(size, fft);
	}
	return fft;
}

/** PIL's Lanczos-3 kernel (`lanczos_filter` in Resample.c). */
function lanczos3(x: number): number {
	if (x < -3 || x >= 3) return 0;
	const sinc = (t: number) => (t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t));
	return sinc(x) * sinc(x / 3);
}

/**
 * PIL's resampling coefficients for `Image.resize(..., LANCZOS)` along one axis, from
 * `inSize` to `outSize` samples: per output sample, the first input index and its weights.
 */
function lanczosCoefficients(
	inSize: number,
	outSize: number
): { first: Int32Array; weights: Float64Array[] } {
	const scale = inSize / outSize;
	const filterScale = Math.max(scale, 1);
	const support = 3 * filterScale;
	const first = new Int32Array(outSize);
	const weights: Float64Array[] = [];
	for (let x = 0; x < outSize; x++) {
		const centre = (x + 0.5) * scale;
		const low = Math.max(0, Math.trunc(centre - support + 0.5));
		const high = Math.min(inSize, Math.trunc(centre + support + 0.5));
		const taps = new Float64Array(Math.max(0, high - low));
		let total = 0;
		for (let j = 0; j < taps.length; j++) {
			const weight = lanczos3((j + low - centre + 0.5) / filterScale);
			taps[j] = weight;
			total += weight;
		}
		if (total !== 0) for (let j = 0; j < taps.length; j++) taps[j] = (taps[j] as number) / total;
		first[x] = low;
		weights.push(taps);
	}
	return { first, weights };
}

/**
 * Upscales a small square float image to `size`×`size` like PIL's `resize(LANCZOS)` on an `F`
 * image: a horizontal pass then a vertical pass, each stored as float32.
 */
export function lanczosResize(
	source: Float64Array,
	sourceSize: number,
	size: number
): Float32Array {
	const { first, weights } = lanczosCoefficients(sourceSize, size);
	const rows = new Float32Array(sourceSize * size);
	for (let y = 0; y < sourceSize; y++) {
		for (let x = 0; x < size; x++) {
			const taps = weights[x] as Float64Array;
			const start = first[x] as number;
			let sum = 0;
			for (let j = 0; j < taps.length; j++)
				sum += (source[y * sourceSize + start + j] as number) * (taps[j] as number);
			rows[y * size + x] = sum;
		}
	}
	const out = new Float32Array(size * size);
	for (let y = 0; y < size; y++) {
		const taps = weights[y] as Float64Array;
		const start = first[y] as number;
		for (let x = 0; x < size; x++) {
			let sum = 0;
			for (let j = 0; j < taps.length; j++)
				sum += (rows[(start + j) * size + x] as number) * (taps[j] as number);
			out[y * size + x] = sum;
		}
	}
	return out;
}

/**
 * One pink-noise map of `size`×`size` (a power of two ≥ 2), zero mean and unit (unbiased)
 * standard deviation. α ~ U(0.5, 1.5). With `envelope`, the map is first multiplied by 4×4
 * Laplace(0,1) samples upscaled with Lanczos (the v2/v3 modules); without it, it is the v1 map.
 */
export function pinkNoise(random: Random, size: number, envelope: boolean): Float32Array {
	const alpha = random.range(0.5, 1.5);
	// The spectrum is built in the transform's own planes, which it then transforms without copies.
	const fft = fftFor(size);
	const re = fft.re.fill(0);
	const im = fft.im.fill(0);
	const logRadius = logRadiusFor(size);
	const twoPi = 2 * Math.PI;
	for (let y = 0; y < size; y++) {
		const mirrorY = (size - y) % size;
		for (let x = 0; x < size; x++) {
			const at = y * size + x;
			const mirror = mirrorY * size + ((size - x) % size);
			// Each Hermitian pair is drawn once; its phase is the difference of two uniform phases.
			if (mirror < at || at === 0) continue;
			// 2·radius^−α, with ln(radius) from the table (exp is cheaper than pow).
			const amplitude = 2 * Math.exp(-alpha * (logRadius[at] as number));
			if (mirror === at) {
				// Self-conjugate bins (Nyquist): the antisymmetrised phase is exactly 0.
				re[at] = amplitude;
				continue;
			}
			const phase = twoPi * (random.uniform() - random.uniform());
			const real = amplitude * Math.cos(phase);
			const imaginary = amplitude * Math.sin(phase);
			re[at] = real;
			im[at] = imaginary;
			re[mirror] = real;
			im[mirror] = -imaginary;
		}
	}
	fft.inverseReal(re, im);
	const count = size * size;
	let mean = 0;
	for (let i = 0; i < count; i++) mean += re[i] as number;
	mean /= count;
	const map = new Float32Array(count);
	for (let i = 0; i < count; i++) map[i] = (re[i] as number) - mean;
	if (envelope) {
		const samples = new Float64Array(16);
		for (let i = 0; i < 16; i++) samples[i] = random.laplace();
		const scale = lanczosResize(samples, 4, size);
		for (let i = 0; i < count; i++) map[i] = (map[i] as number) * (scale[i] as number);
	}
	let sum = 0;
	let sumSquares = 0;
	for (let i = 0; i < count; i++) {
		const value = map[i] as number;
		sum += value;
		sumSquares += value * value;
	}
	const variance = (sumSquares - (sum * sum) / count) / Math.max(1, count - 1);
	const inverseStd = variance > 0 ? 1 / Math.sqrt(variance) : 0;
	for (let i = 0; i < count; i++) map[i] = (map[i] as number) * inverseStd;
	return map;
}

const logRadii = new Map<number, Float64Array>();

/** ln of the reference's radial coordinate 2|k|/S at every DFT bin of an S×S grid (DC: 0). */
function logRadiusFor(size: number): Float64Array {
	let table = logRadii.get(size);
	if (!table) {
		table = new Float64Array(size * size);
		const half = size / 2;
		// Frequency index k of DFT bin j.
		const frequency = (j: number) => (j < half ? j : j - size);
		for (let y = 0; y < size; y++) {
			const ky = frequency(y);
			for (let x = 0; x < size; x++) {
				const kx = frequency(x);
				if (kx !== 0 || ky !== 0)
					table[y * size + x] = Math.log((2 * Math.sqrt(kx * kx + ky * ky)) / size);
			}
		}
		logRadii.set(size, table);
	}
	return table;
}

/** Block-average downsampling (PyTorch `interpolate(mode='area')` for an integer factor). */
export function areaDownsample(map: Float32Array, size: number, target: number): Float64Array {
	const factor = size / target;
	if (!Number.isInteger(factor) || factor < 1) {
		throw new RangeError(`areaDownsample needs an integer factor, got ${size} → ${target}`);
	}
	const out = new Float64Array(target * target);
	const norm = 1 / (factor * factor);
	for (let y = 0; y < size; y++) {
		const row = Math.floor(y / factor) * target;
		let from = y * size;
		for (let x = 0; x < target; x++) {
			let sum = 0;
			for (let j = 0; j < factor; j++) sum += map[from++] as number;
			out[row + x] = (out[row + x] as number) + sum;
		}
	}
	for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * norm;
	return out;
}
