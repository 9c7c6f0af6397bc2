/**
 * A frequency-domain steerable pyramid with 4 orientations (order 3), as pyrtools'
 * `SteerablePyramidFreq` / matlabPyrTools' `buildSFpyr` build it (spec §2.2.3):
 * - normalised frequencies u, v ∈ [−1, 1) (u along columns), ρ = √(u² + v²), θ = atan2(v, u);
 *   at DC, ρ takes its neighbour's value 2/N, as pyrtools does;
 * - radial masks are raised cosines in log2 ρ, one octave wide: HI = sin(πt/2), LO = cos(πt/2),
 *   t = clamp(log2 ρ + 1, 0, 1) for the high-pass residual and t = clamp(log2 ρ + 2 + level, 0, 1)
 *   at each level (computed exactly, not through pyrtools' lookup table);
 * - angular masks √C·cos³(θ − πb/4), b = 0 … 3, C = 2⁶·(3!)²/(4·6!) = 0.8;
 * - band DFT = (−i)³ · lowpass DFT · angular · HI; coefficients = real part of the inverse FFT;
 * - each level's low-pass DFT is cropped to its central half (a ×2 downsample);
 * - reconstruction multiplies each band's DFT by i³ and the same masks and sums, so the
 *   pyramid is a tight frame and reconstructs exactly up to rounding.
 *
 * Everything works in the unshifted DFT layout (DC at index 0), so no fftshift is needed.
 * Cropping keeps the integer frequencies −M/4 … M/4 − 1 of an M-point level.
 *
 * Two real channels can go through at once as one complex image `a + i·b`: every step is linear
 * with real-valued masks, so the real and imaginary parts of each band are channel a's and
 * channel b's coefficients, and the reconstructed DFT is `A + i·B`.
 */
import { Fft2d } from '../fft2d';

/** √C for 4 orientations: C = 2^(2·3)·(3!)² / (4·(2·3)!) = 0.8. */
const angularGain = Math.sqrt(0.8);

/**
 * Called with the coefficients of each band, which it may change in place: `re` and `im`
 * hold `bandSize²` values (two channels' coefficients). `band` is 0 for the high-pass residual
 * and `1 + 4·level + orientation` for the oriented bands, MATLAB's order; the low-pass residual
 * is never visited.
 */
export type BandVisitor = (
	re: Float64Array,
	im: Float64Array,
	bandSize: number,
	band: number
) => void;

interface Level {
	size: number;
	fft: Fft2d;
	/** `angular_b · HI` on this level's grid, one per orientation. */
	bandMasks: Float64Array[];
	/** This level's low-pass DFT. */
	lowRe: Float64Array;
	lowIm: Float64Array;
	/** Scratch for one band, and the reconstruction accumulated at this level. */
	bandRe: Float64Array;
	bandIm: Float64Array;
	sumRe: Float64Array;
	sumIm: Float64Array;
	/** For each index of the next (half-size) grid, its index in this grid. */
	cropIndex: Int32Array;
	/** LO on the next grid, applied after cropping (and before embedding when reconstructing). */
	lowMask: Float64Array;
}

/** A pyramid for one power-of-two size and number of scales, with its masks and buffers. */
export class SteerablePyramid {
	/** Oriented bands per scale. */
	static readonly orientations = 4;
	private readonly highMask: Float64Array;
	private readonly lowMask: Float64Array;
	private readonly levels: Level[];
	private readonly residualRe: Float64Array;
	private readonly residualIm: Float64Array;

	/** `size` a power of two; `scales` from 1 to log2(size) − 2 (pyrtools' maximum height). */
	constructor(
		readonly size: number,
		readonly scales: number
	) {
		const maxScales = Math.log2(size) - 2;
		if (!Number.isInteger(scales) || scales < 1 || scales > maxScales) {
			throw new RangeError(`A ${size}-pixel pyramid takes 1 to ${maxScales} scales, got ${scales}`);
		}
		this.highMask = radialMask(size, size, 1, 'high');
		this.lowMask = radialMask(size, size, 1, 'low');
		this.levels = [];
		for (let level = 0; level < scales; level++) {
			const m = size >> level;
			const half = m >> 1;
			const high = radialMask(size, m, 2 + level, 'high');
			const bandMasks = [];
			for (let b = 0; b < SteerablePyramid.orientations; b++) {
				const mask = angularMask(m, (Math.PI * b) / SteerablePyramid.orientations);
				for (let i = 0; i < mask.length; i++) mask[i] = (mask[i] as number) * (high[i] as number);
				bandMasks.push(mask);
			}
			const cropIndex = new Int32Array(half * half);
			for (let row = 0; row < half; row++) {
				const fromRow = row < half / 2 ? row : row + half;
				for (let col = 0; col < half; col++) {
					cropIndex[row * half + col] = fromRow * m + (col < half / 2 ? col : col + half);
				}
			}
			this.levels.push({
				size: m,
				fft: new Fft2d(m),
				bandMasks,
				lowRe: new Float64Array(m * m),
				lowIm: new Float64Array(m * m),
				bandRe: new Float64Array(m * m),
				bandIm: new Float64Array(m * m),
				sumRe: new Float64Array(m * m),
				sumIm: new Float64Array(m * m),
				cropIndex,
				lowMask: radialMask(size, half, 2 + level, 'low')
			});
		}
		const residual = size >> scales;
		this.residualRe = new Float64Array(residual * residual);
		this.residualIm = new Float64Array(residual * residual);
	}

	/** Number of visited bands: the high-pass residual and 4 per scale. */
	get bandCount(): number {
		return 1 + SteerablePyramid.orientations * this.scales;
	}

	/** Side of band `band` (see {@link BandVisitor}). */
	bandSize(band: number): number {
		return band === 0
			? this.size
			: this.size >> Math.floor((band - 1) / SteerablePyramid.orientations);
	}

	/**
	 * Builds the pyramid of the image whose DFT is (re, im), lets `visit` change the band
	 * coefficients, and writes the DFT of the reconstruction back into (re, im). With a visitor
	 * that changes nothing, (re, im) comes back unchanged up to rounding.
	 */
	process(re: Float64Array, im: Float64Array, visit: BandVisitor): void {
		const { size, levels } = this;
		const top = levels[0] as Level;
		const pixels = size * size;
		const { highMask, lowMask } = this;
		for (let i = 0; i < pixels; i++) {
			const r = re[i] as number;
			const m = im[i] as number;
			const lo = lowMask[i] as number;
			const hi = highMask[i] as number;
			top.lowRe[i] = r * lo;
			top.lowIm[i] = m * lo;
			top.bandRe[i] = r * hi;
			top.bandIm[i] = m * hi;
		}
		top.fft.inverse(top.bandRe, top.bandIm);
		visit(top.bandRe, top.bandIm, size, 0);
		top.fft.forward(top.bandRe, top.bandIm);
		for (let i = 0; i < pixels; i++) {
			const hi = highMask[i] as number;
			re[i] = (top.bandRe[i] as number) * hi;
			im[i] = (top.bandIm[i] as number) * hi;
		}

		for (let index = 0; index < levels.length; index++) {
			const level = levels[index] as Level;
			const { lowRe, lowIm, bandRe, bandIm, sumRe, sumIm, fft } = level;
			const count = level.size * level.size;
			sumRe.fill(0);
			sumIm.fill(0);
			for (let b = 0; b < SteerablePyramid.orientations; b++) {
				const mask = level.bandMasks[b] as Float64Array;
				// (−i)³ = i: i·K·(lr + i·li) = −K·li + i·K·lr.
				for (let i = 0; i < count; i++) {
					const k = mask[i] as number;
					bandRe[i] = -k * (lowIm[i] as number);
					bandIm[i] = k * (lowRe[i] as number);
				}
				fft.inverse(bandRe, bandIm);
				visit(bandRe, bandIm, level.size, 1 + SteerablePyramid.orientations * index + b);
				fft.forward(bandRe, bandIm);
				// i³ = −i: −i·K·(br + i·bi) = K·bi − i·K·br.
				for (let i = 0; i < count; i++) {
					const k = mask[i] as number;
					sumRe[i] = (sumRe[i] as number) + k * (bandIm[i] as number);
					sumIm[i] = (sumIm[i] as number) - k * (bandRe[i] as number);
				}
			}
			const next = levels[index + 1];
			const nextRe = next ? next.lowRe : this.residualRe;
			const nextIm = next ? next.lowIm : this.residualIm;
			const { cropIndex, lowMask: crop } = level;
			for (let j = 0; j < cropIndex.length; j++) {
				const from = cropIndex[j] as number;
				const lo = crop[j] as number;
				nextRe[j] = (lowRe[from] as number) * lo;
				nextIm[j] = (lowIm[from] as number) * lo;
			}
		}

		// Reconstruction, coarse to fine: each level's low-pass part is the next level's sum
		// (or the untouched residual), masked by LO again and embedded in the centre.
		let belowRe = this.residualRe;
		let belowIm = this.residualIm;
		for (let index = levels.length - 1; index >= 0; index--) {
			const level = levels[index] as Level;
			const { cropIndex, lowMask: crop, sumRe, sumIm } = level;
			for (let j = 0; j < cropIndex.length; j++) {
				const to = cropIndex[j] as number;
				const lo = crop[j] as number;
				sumRe[to] = (sumRe[to] as number) + (belowRe[j] as number) * lo;
				sumIm[to] = (sumIm[to] as number) + (belowIm[j] as number) * lo;
			}
			belowRe = sumRe;
			belowIm = sumIm;
		}
		for (let i = 0; i < pixels; i++) {
			const lo = lowMask[i] as number;
			re[i] = (re[i] as number) + (belowRe[i] as number) * lo;
			im[i] = (im[i] as number) + (belowIm[i] as number) * lo;
		}
	}
}

/** The signed integer frequency of DFT index k on an m-point axis. */
function frequency(k: number, m: number): number {
	return k < m / 2 ? k : k - m;
}

/**
 * HI or LO on an m×m grid of a size-N pyramid: t = clamp(log2 ρ + shift, 0, 1), with ρ in the
 * original image's normalised units (u = 2f/N) and ρ(DC) = 2/N. Exact 0 and 1 outside the
 * transition keep cropped Nyquist rows at exactly zero.
 */
function radialMask(size: number, m: number, shift: number, kind: 'high' | 'low'): Float64Array {
	const mask = new Float64Array(m * m);
	for (let row = 0; row < m; row++) {
		const v = (2 * frequency(row, m)) / size;
		for (let col = 0; col < m; col++) {
			const u = (2 * frequency(col, m)) / size;
			const rho = row === 0 && col === 0 ? 2 / size : Math.sqrt(u * u + v * v);
			const t = Math.log2(rho) + shift;
			let value: number;
			if (t <= 0) value = kind === 'high' ? 0 : 1;
			else if (t >= 1) value = kind === 'high' ? 1 : 0;
			else value = kind === 'high' ? Math.sin((Math.PI * t) / 2) : Math.cos((Math.PI * t) / 2);
			mask[row * m + col] = value;
		}
	}
	return mask;
}

/**
 * √C·cos³(θ − φ) on an m×m grid, with cos(θ − φ) = (u·cos φ + v·sin φ)/ρ so that the mask is
 * exactly odd, which keeps band DFTs exactly Hermitian. Zero at DC, where θ is undefined (HI is
 * zero there anyway).
 */
function angularMask(m: number, phi: number): Float64Array {
	const mask = new Float64Array(m * m);
	const cosPhi = Math.cos(phi);
	const sinPhi = Math.sin(phi);
	for (let row = 0; row < m; row++) {
		const v = frequency(row, m);
		for (let col = 0; col < m; col++) {
			const u = frequency(col, m);
			if (u === 0 && v === 0) continue;
			const c = (u * cosPhi + v * sinPhi) / Math.sqrt(u * u + v * v);
			mask[row * m + col] = angularGain * c * c * c;
		}
	}
	return mask;
}
