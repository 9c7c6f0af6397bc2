/**
 * Dataset diagnostics: the paper's "what makes a good noise dataset" properties (spec §6.3),
 * measured on a sample of images: spectral slope, colour statistics, wavelet sparsity and
 * diversity. Pure functions of the images, so the UI, the CLI and tests share them.
 */
import { Fft2d, isPowerOfTwo } from '../generators/fft2d';
import type { RgbImage } from '../generators/image';

/** The natural-image reference: power spectrum ∝ 1/f^β with β ≈ 2 (amplitude slope ≈ 1). */
export const naturalPowerSlope = 2;

/** Everything the Studio's diagnostics panel shows. */
export interface DatasetDiagnostics {
	images: number;
	spectrum: {
		/** Radial frequency in cycles/pixel, and the mean log10 power at it (over images). */
		frequencies: number[];
		meanLogPower: number[];
		/** Fitted β of P ∝ f^-β per image: mean, std, and the fx / fy axis slopes (anisotropy). */
		slopeMean: number;
		slopeStd: number;
		slopes: number[];
		slopeX: number;
		slopeY: number;
	};
	colour: {
		/** 32-bin histograms per channel, as fractions. */
		histograms: [number[], number[], number[]];
		mean: [number, number, number];
		std: [number, number, number];
		/** Eigenvalues of the 3×3 RGB covariance, largest first (colour PCA spread). */
		pcaSpread: [number, number, number];
		/** exp(entropy) of a 16³ colour histogram: how many colours are effectively in use. */
		effectiveColours: number;
	};
	/** Kurtosis of band-pass coefficients at three scales (3 = Gaussian; natural images 6–20). */
	sparsity: { scales: number[]; kurtosis: number[] };
	/** RMS difference between random image pairs (0–1), and the share of near-duplicates. */
	diversity: { meanDistance: number; duplicateRate: number; pairs: number };
}

/** Luminance plane (0–1) of an image. */
function luminance(image: RgbImage): Float64Array {
	const plane = new Float64Array(image.size * image.size);
	for (let i = 0; i < plane.length; i++) {
		plane[i] =
			(0.299 * (image.data[3 * i] as number) +
				0.587 * (image.data[3 * i + 1] as number) +
				0.114 * (image.data[3 * i + 2] as number)) /
			255;
	}
	return plane;
}

/** The largest power of two ≤ n, for the FFT (images are centre-cropped to it). */
function powerOfTwoBelow(n: number): number {
	let p = 2;
	while (p * 2 <= n) p *= 2;
	return p;
}

/** Least-squares slope of y on x. */
export function fitSlope(x: readonly number[], y: readonly number[]): number {
	const n = x.length;
	const mx = x.reduce((a, b) => a + b, 0) / n;
	const my = y.reduce((a, b) => a + b, 0) / n;
	let sxy = 0;
	let sxx = 0;
	for (let i = 0; i < n; i++) {
		sxy += ((x[i] as number) - mx) * ((y[i] as number) - my);
		sxx += ((x[i] as number) - mx) ** 2;
	}
	return sxx === 0 ? 0 : sxy / sxx;
}

/**
 * Power spectrum of one image's luminance (mean removed, Hann window): the radial average by
 * integer frequency radius, and the slopes fitted over f ∈ [2/N, 0.4] (radially, and along the
 * fx and fy axes).
 */
export function powerSpectrum(image: RgbImage): {
	radial: Float64Array;
	n: number;
	slope: number;
	slopeX: number;
	slopeY: number;
} {
	const n = powerOfTwoBelow(image.size);
	const offset = Math.floor((image.size - n) / 2);
	const full = luminance(image);
	const re = new Float64Array(n * n);
	const im = new Float64Array(n * n);
	let mean = 0;
	for (let y = 0; y < n; y++)
		for (let x = 0; x < n; x++) mean += full[(y + offset) * image.size + x + offset] as number;
	mean /= n * n;
	for (let y = 0; y < n; y++) {
		const wy = 0.5 - 0.5 * Math.cos((2 * Math.PI * y) / (n - 1));
		for (let x = 0; x < n; x++) {
			const wx = 0.5 - 0.5 * Math.cos((2 * Math.PI * x) / (n - 1));
			re[y * n + x] = ((full[(y + offset) * image.size + x + offset] as number) - mean) * wx * wy;
		}
	}
	if (!isPowerOfTwo(n)) throw new RangeError(`powerSpectrum needs a power-of-two crop, got ${n}`);
	new Fft2d(n).forward(re, im);
	const half = n / 2;
	const sums = new Float64Array(half + 1);
	const counts = new Float64Array(half + 1);
	const axisX: number[] = [];
	const axisY: number[] = [];
	for (let v = 0; v < n; v++) {
		const fy = v <= half ? v : v - n;
		for (let u = 0; u < n; u++) {
			const fx = u <= half ? u : u - n;
			const radius = Math.round(Math.hypot(fx, fy));
			if (radius === 0 || radius > half) continue;
			const power = (re[v * n + u] as number) ** 2 + (im[v * n + u] as number) ** 2;
			sums[radius] = (sums[radius] as number) + power;
			counts[radius] = (counts[radius] as number) + 1;
			if (fy === 0 && fx > 0) axisX[fx] = power;
			if (fx === 0 && fy > 0) axisY[fy] = power;
		}
	}
	const radial = new Float64Array(half + 1);
	for (let r = 1; r <= half; r++)
		radial[r] = (sums[r] as number) / Math.max(1, counts[r] as number);
	const band = (values: ArrayLike<number | undefined>) => {
		const xs: number[] = [];
		const ys: number[] = [];
		for (let r = 2; r <= Math.floor(0.4 * n); r++) {
			const value = values[r];
			if (value !== undefined && value > 0) {
				xs.push(Math.log10(r / n));
				ys.push(Math.log10(value));
			}
		}
		return xs.length >= 2 ? -fitSlope(xs, ys) : 0;
	};
	return { radial, n, slope: band(radial), slopeX: band(axisX), slopeY: band(axisY) };
}

/** Kurtosis (not excess: a Gaussian gives 3). */
export function kurtosis(values: ArrayLike<number>): number {
	const n = values.length;
	let mean = 0;
	for (let i = 0; i < n; i++) mean += values[i] as number;
	mean /= n;
	let m2 = 0;
	let m4 = 0;
	for (let i = 0; i < n; i++) {
		const d = (values[i] as number) - mean;
		m2 += d * d;
		m4 += d * d * d * d;
	}
	m2 /= n;
	m4 /= n;
	return m2 === 0 ? 0 : m4 / (m2 * m2);
}

/**
 * Band-pass coefficients at three scales of a Laplacian-style pyramid: each level is the plane
 * minus its 3×3 binomial blur; the blur, halved, feeds the next level.
 */
export function bandKurtosis(image: RgbImage, levels = 3): number[] {
	let plane = luminance(image);
	let size = image.size;
	const result: number[] = [];
	for (let level = 0; level < levels && size >= 8; level++) {
		const blurred = new Float64Array(size * size);
		const kernel = [1, 2, 1];
		for (let y = 0; y < size; y++) {
			for (let x = 0; x < size; x++) {
				let sum = 0;
				for (let dy = -1; dy <= 1; dy++) {
					const yy = Math.min(size - 1, Math.max(0, y + dy));
					for (let dx = -1; dx <= 1; dx++) {
						const xx = Math.min(size - 1, Math.max(0, x + dx));
						sum +=
							(kernel[dy + 1] as number) *
							(kernel[dx + 1] as number) *
							(plane[yy * size + xx] as number);
					}
				}
				blurred[y * size + x] = sum / 16;
			}
		}
		const band = new Float64Array(size * size);
		for (let i = 0; i < band.length; i++) band[i] = (plane[i] as number) - (blurred[i] as number);
		result.push(kurtosis(band));
		const next = Math.floor(size / 2);
		const down = new Float64Array(next * next);
		for (let y = 0; y < next; y++)
			for (let x = 0; x < next; x++) down[y * next + x] = blurred[2 * y * size + 2 * x] as number;
		plane = down;
		size = next;
	}
	return result;
}

/** Eigenvalues of a symmetric 3×3 matrix, largest first (closed form). */
export function symmetricEigenvalues3(m: readonly number[]): [number, number, number] {
	const [a = 0, b = 0, c = 0, , d = 0, e = 0, , , f = 0] = m;
	const p1 = b * b + c * c + e * e;
	const q = (a + d + f) / 3;
	if (p1 === 0) return [a, d, f].sort((x, y) => y - x) as [number, number, number];
	const p2 = (a - q) ** 2 + (d - q) ** 2 + (f - q) ** 2 + 2 * p1;
	const p = Math.sqrt(p2 / 6);
	const [ba, bb, bc, bd, be, bf] = [(a - q) / p, b / p, c / p, (d - q) / p, e / p, (f - q) / p];
	const r = (ba * (bd * bf - be * be) - bb * (bb * bf - be * bc) + bc * (bb * be - bd * bc)) / 2;
	const phi = r <= -1 ? Math.PI / 3 : r >= 1 ? 0 : Math.acos(r) / 3;
	const e1 = q + 2 * p * Math.cos(phi);
	const e3 = q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3);
	return [e1, 3 * q - e1 - e3, e3];
}

function colourStatistics(images: readonly RgbImage[]): DatasetDiagnostics['colour'] {
	const histograms = [new Float64Array(32), new Float64Array(32), new Float64Array(32)] as const;
	const cube = new Float64Array(16 * 16 * 16);
	const sum = new Float64Array(3);
	const cross = new Float64Array(9);
	let pixels = 0;
	for (const image of images) {
		const data = image.data;
		for (let i = 0; i < data.length; i += 3) {
			const r = data[i] as number;
			const g = data[i + 1] as number;
			const b = data[i + 2] as number;
			const rgb = [r / 255, g / 255, b / 255];
			histograms[0][r >> 3] = (histograms[0][r >> 3] as number) + 1;
			histograms[1][g >> 3] = (histograms[1][g >> 3] as number) + 1;
			histograms[2][b >> 3] = (histograms[2][b >> 3] as number) + 1;
			for (let c = 0; c < 3; c++) {
				sum[c] = (sum[c] as number) + (rgb[c] as number);
				for (let k = 0; k < 3; k++) {
					cross[c * 3 + k] = (cross[c * 3 + k] as number) + (rgb[c] as number) * (rgb[k] as number);
				}
			}
			const cell = (r >> 4) * 256 + (g >> 4) * 16 + (b >> 4);
			cube[cell] = (cube[cell] as number) + 1;
			pixels++;
		}
	}
	const mean = Array.from(sum, (value) => value / pixels) as [number, number, number];
	const covariance = Array.from(
		cross,
		(value, k) => value / pixels - (mean[Math.floor(k / 3)] as number) * (mean[k % 3] as number)
	);
	let entropy = 0;
	for (const count of cube) if (count > 0) entropy -= (count / pixels) * Math.log(count / pixels);
	return {
		histograms: histograms.map((h) => Array.from(h, (count) => count / pixels)) as [
			number[],
			number[],
			number[]
		],
		mean,
		std: [0, 1, 2].map((c) => Math.sqrt(Math.max(0, covariance[c * 4] as number))) as [
			number,
			number,
			number
		],
		pcaSpread: symmetricEigenvalues3(covariance),
		effectiveColours: Math.exp(entropy)
	};
}

/** A 16×16 luminance thumbnail for distances (area average). */
function thumbnail(image: RgbImage, side = 16): Float64Array {
	const plane = luminance(image);
	const out = new Float64Array(side * side);
	const counts = new Float64Array(side * side);
	for (let y = 0; y < image.size; y++) {
		for (let x = 0; x < image.size; x++) {
			const k = Math.floor((y * side) / image.size) * side + Math.floor((x * side) / image.size);
			out[k] = (out[k] as number) + (plane[y * image.size + x] as number);
			counts[k] = (counts[k] as number) + 1;
		}
	}
	for (let k = 0; k < out.length; k++) out[k] = (out[k] as number) / (counts[k] as number);
	return out;
}

function diversity(images: readonly RgbImage[]): DatasetDiagnostics['diversity'] {
	const thumbs = images.map((image) => thumbnail(image));
	let total = 0;
	let duplicates = 0;
	let pairs = 0;
	// Every pair, capped: 256 images give 32,640 pairs of 256 values, a few milliseconds.
	for (let i = 0; i < thumbs.length; i++) {
		for (let j = i + 1; j < thumbs.length; j++) {
			const a = thumbs[i] as Float64Array;
			const b = thumbs[j] as Float64Array;
			let squared = 0;
			for (let k = 0; k < a.length; k++) squared += ((a[k] as number) - (b[k] as number)) ** 2;
			const distance = Math.sqrt(squared / a.length);
			total += distance;
			if (distance < 0.02) duplicates++;
			pairs++;
		}
	}
	return {
		meanDistance: pairs ? total / pairs : 0,
		duplicateRate: pairs ? duplicates / pairs : 0,
		pairs
	};
}

/** Measures a sample of images (at least 2, all the same size). */
export function diagnoseImages(images: readonly RgbImage[]): DatasetDiagnostics {
	if (images.length < 2) throw new RangeError('Diagnostics need at least two images.');
	const spectra = images.map((image) => powerSpectrum(image));
	const n = (spectra[0] as ReturnType<typeof powerSpectrum>).n;
	const frequencies: number[] = [];
	const meanLogPower: number[] = [];
	for (let r = 1; r <= n / 2; r++) {
		frequencies.push(r / n);
		meanLogPower.push(
			spectra.reduce((sum, s) => sum + Math.log10(Math.max(1e-20, s.radial[r] as number)), 0) /
				spectra.length
		);
	}
	const slopes = spectra.map((s) => s.slope);
	const slopeMean = slopes.reduce((a, b) => a + b, 0) / slopes.length;
	const slopeStd = Math.sqrt(
		slopes.reduce((sum, s) => sum + (s - slopeMean) ** 2, 0) / slopes.length
	);
	const bands = images.map((image) => bandKurtosis(image));
	const levels = Math.min(...bands.map((band) => band.length));
	return {
		images: images.length,
		spectrum: {
			frequencies,
			meanLogPower,
			slopeMean,
			slopeStd,
			slopes,
			slopeX: spectra.reduce((sum, s) => sum + s.slopeX, 0) / spectra.length,
			slopeY: spectra.reduce((sum, s) => sum + s.slopeY, 0) / spectra.length
		},
		colour: colourStatistics(images),
		sparsity: {
			scales: Array.from({ length: levels }, (_, level) => level + 1),
			kurtosis: Array.from(
				{ length: levels },
				(_, level) => bands.reduce((sum, band) => sum + (band[level] as number), 0) / bands.length
			)
		},
		diversity: diversity(images)
	};
}
