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

/**
 * Called with the coefficients of one band of a single real channel (`bandSize²` values, to
 * change in place); `band` numbers bands as in {@link BandVisitor}.
 */
export type RealBandVisitor = (values: Float64Array, bandSize: number, band: number) => void;

/**
 * One visited band: its DFT is `factor · mask · from`, with factor (−i)³ = i for the oriented
 * bands and 1 for the high-pass residual, and the reconstruction adds `conj(factor) · mask ·`
 * (the modified band's DFT) to `to`.
 */
interface Band {
	index: number;
	mask: Float64Array;
	oriented: boolean;
	fromRe: Float64Array;
	fromIm: Float64Array;
	toRe: Float64Array;
	toIm: Float64Array;
}

interface Level {
	size: number;
	fft: Fft2d;
	/** The bands on this level's grid: the high-pass residual (level 0 only), then 4 oriented. */
	bands: Band[];
	/** This level's low-pass DFT. */
	lowRe: Float64Array;
	lowIm: Float64Array;
	/** Scratch for one band (or two real bands packed as re + i·im). */
	bandRe: Float64Array;
	bandIm: Float64Array;
	/** The reconstruction accumulated at this level. */
	sumRe: Float64Array;
	sumIm: Float64Array;
	/** For each DFT index, the index of the negated frequency. */
	mirror: Int32Array;
	/** For each index of the next (half-size) grid, its index in this grid. */
	cropIndex: Int32Array;
	/** LO on the next grid, applied after cropping (and before embedding when reconstructing). */
	lowMask: Float64Array;
}

/** A pyramid for one power-of-two size and number of scales, with its masks and buffers. */
export class SteerablePyramid {
	/** Oriented bands per scale. */
	static readonly orientations = 4;
	private readonly lowMask: Float64Array;
	private readonly levels: Level[];
	private readonly residualRe: Float64Array;
	private readonly residualIm: Float64Array;
	/** The input DFT, kept while the caller's arrays collect the reconstruction. */
	private readonly inputRe: Float64Array;
	private readonly inputIm: Float64Array;
	/** The reconstructed high-pass residual. */
	private readonly highRe: Float64Array;
	private readonly highIm: Float64Array;

	/** `size` a power of two; `scales` from 1 to log2(size) − 2 (pyrtools' maximum height). */
	constructor(
		readonly size: number,
		readonly scales: number
	) {
		const maxScales = Math.log2(size) - 2;
		if (!Number.isInteger(scales) || scales < 1 || scales > maxScales) {
			throw new RangeError(`A ${size}-pixel pyramid takes 1 to ${maxScales} scales, got ${scales}`);
		}
		// Each level's planes and masks live in its transform's memory, where the mask products
		// run in SIMD: level 0 holds the input, high-pass and 5 masks, every level 4 planes.
		const ffts = Array.from(
			{ length: scales },
			(_, level) => new Fft2d(size >> level, { planes: level === 0 ? 13 : 8 })
		);
		const top = ffts[0] as Fft2d;
		const inPlane = (fft: Fft2d, values: Float64Array) => {
			const plane = fft.plane();
			plane.set(values);
			return plane;
		};
		this.inputRe = top.plane();
		this.inputIm = top.plane();
		this.highRe = top.plane();
		this.highIm = top.plane();
		this.lowMask = radialMask(size, size, 1, 'low');
		this.levels = [];
		for (let level = 0; level < scales; level++) {
			const m = size >> level;
			const half = m >> 1;
			const fft = ffts[level] as Fft2d;
			const high = radialMask(size, m, 2 + level, 'high');
			const lowRe = fft.plane();
			const lowIm = fft.plane();
			const sumRe = fft.plane();
			const sumIm = fft.plane();
			const bands: Band[] = [];
			if (level === 0) {
				bands.push({
					index: 0,
					mask: inPlane(fft, radialMask(size, size, 1, 'high')),
					oriented: false,
					fromRe: this.inputRe,
					fromIm: this.inputIm,
					toRe: this.highRe,
					toIm: this.highIm
				});
			}
			for (let b = 0; b < SteerablePyramid.orientations; b++) {
				const mask = angularMask(m, (Math.PI * b) / SteerablePyramid.orientations);
				for (let i = 0; i < mask.length; i++) mask[i] = (mask[i] as number) * (high[i] as number);
				bands.push({
					index: 1 + SteerablePyramid.orientations * level + b,
					mask: inPlane(fft, mask),
					oriented: true,
					fromRe: lowRe,
					fromIm: lowIm,
					toRe: sumRe,
					toIm: sumIm
				});
			}
			const cropIndex = new Int32Array(half * half);
			for (let row = 0; row < half; row++) {
				const fromRow = row < half / 2 ? row : row + half;
				for (let col = 0; col < half; col++) {
					cropIndex[row * half + col] = fromRow * m + (col < half / 2 ? col : col + half);
				}
			}
			const mirror = new Int32Array(m * m);
			for (let row = 0; row < m; row++) {
				for (let col = 0; col < m; col++) {
					mirror[row * m + col] = ((m - row) % m) * m + ((m - col) % m);
				}
			}
			this.levels.push({
				size: m,
				fft,
				bands,
				lowRe,
				lowIm,
				// The transform's own planes: bands are masked straight into them, without copies.
				bandRe: fft.re,
				bandIm: fft.im,
				sumRe,
				sumIm,
				mirror,
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
		this.run(re, im, (level) => {
			for (const band of level.bands) this.pairBand(level, band, visit);
		});
	}

	/**
	 * {@link process} for one real image, whose DFT (re, im) is Hermitian: the same bands and
	 * reconstruction, with two real bands packed into each complex transform, which halves the
	 * transforms that two channels at once would need.
	 */
	processReal(re: Float64Array, im: Float64Array, visit: RealBandVisitor): void {
		this.run(re, im, (level) => {
			const { bands } = level;
			for (let b = 0; b < bands.length; b += 2) {
				this.realBands(level, bands[b] as Band, bands[b + 1] ?? null, visit);
			}
		});
	}

	private run(re: Float64Array, im: Float64Array, visitLevel: (level: Level) => void): void {
		const { size, levels, lowMask, inputRe, inputIm, highRe, highIm } = this;
		const top = levels[0] as Level;
		const pixels = size * size;
		inputRe.set(re);
		inputIm.set(im);
		for (let i = 0; i < pixels; i++) {
			const lo = lowMask[i] as number;
			top.lowRe[i] = (re[i] as number) * lo;
			top.lowIm[i] = (im[i] as number) * lo;
		}
		// Every level's low-pass DFT first: bands never feed the lower levels.
		for (let index = 0; index < levels.length; index++) {
			const level = levels[index] as Level;
			const next = levels[index + 1];
			const nextRe = next ? next.lowRe : this.residualRe;
			const nextIm = next ? next.lowIm : this.residualIm;
			const { cropIndex, lowMask: crop, lowRe, lowIm } = level;
			for (let j = 0; j < cropIndex.length; j++) {
				const from = cropIndex[j] as number;
				const lo = crop[j] as number;
				nextRe[j] = (lowRe[from] as number) * lo;
				nextIm[j] = (lowIm[from] as number) * lo;
			}
		}
		highRe.fill(0);
		highIm.fill(0);
		for (const level of levels) {
			level.sumRe.fill(0);
			level.sumIm.fill(0);
			visitLevel(level);
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
			re[i] = (highRe[i] as number) + (belowRe[i] as number) * lo;
			im[i] = (highIm[i] as number) + (belowIm[i] as number) * lo;
		}
	}

	/** One band of a complex image (two channels): build, visit, transform back, accumulate. */
	private pairBand(level: Level, band: Band, visit: BandVisitor): void {
		const { bandRe, bandIm, fft } = level;
		const { mask, fromRe, fromIm, toRe, toIm, oriented } = band;
		// Oriented: i·K·(lr + i·li) = −K·li + i·K·lr, and back −i·K·(br + i·bi) = K·bi − i·K·br.
		fft.mask(mask, fromRe, fromIm, bandRe, bandIm, oriented);
		fft.inverse(bandRe, bandIm);
		visit(bandRe, bandIm, level.size, band.index);
		fft.forward(bandRe, bandIm);
		fft.addMasked(mask, bandRe, bandIm, toRe, toIm, oriented);
	}

	/**
	 * Two bands `p` and `q` of a real image (or `p` alone) in one complex transform: the DFT
	 * P + i·Q inverts to p + i·q, both real; after the visit, the forward transform Z splits
	 * by Hermitian symmetry into P = (Z(f) + Z̄(−f))/2 and Q = (Z(f) − Z̄(−f))/2i.
	 */
	private realBands(level: Level, p: Band, q: Band | null, visit: RealBandVisitor): void {
		const { bandRe, bandIm, fft, mirror } = level;
		const count = level.size * level.size;
		packedSpectrum(p, q, count, bandRe, bandIm);
		fft.inverse(bandRe, bandIm);
		visit(bandRe, level.size, p.index);
		if (q) visit(bandIm, level.size, q.index);
		else bandIm.fill(0);
		fft.forward(bandRe, bandIm);
		// P = (Z(f) + Z̄(−f))/2 and Q = (Z(f) − Z̄(−f))/2i, each added back through its mask.
		const pk = p.mask;
		const [pr, pi] = [p.toRe, p.toIm];
		const qk = q ? q.mask : pk;
		const [qr, qi] = q ? [q.toRe, q.toIm] : [pr, pi];
		const orientedP = p.oriented;
		const orientedQ = q?.oriented ?? false;
		for (let i = 0; i < count; i++) {
			const j = mirror[i] as number;
			const zr = bandRe[i] as number;
			const zi = bandIm[i] as number;
			const wr = bandRe[j] as number;
			const wi = bandIm[j] as number;
			// conj(i)·k·(re + i·im) = k·im − i·k·re for oriented bands.
			const k = pk[i] as number;
			const re = (zr + wr) / 2;
			const im = (zi - wi) / 2;
			if (orientedP) {
				pr[i] = (pr[i] as number) + k * im;
				pi[i] = (pi[i] as number) - k * re;
			} else {
				pr[i] = (pr[i] as number) + k * re;
				pi[i] = (pi[i] as number) + k * im;
			}
			if (q) {
				const kq = qk[i] as number;
				const qre = (zi + wi) / 2;
				const qim = (wr - zr) / 2;
				if (orientedQ) {
					qr[i] = (qr[i] as number) + kq * qim;
					qi[i] = (qi[i] as number) - kq * qre;
				} else {
					qr[i] = (qr[i] as number) + kq * qre;
					qi[i] = (qi[i] as number) + kq * qim;
				}
			}
		}
	}
}

/**
 * Writes P + i·Q = (Pr − Qi) + i·(Pi + Qr) into (re, im), each band's DFT being (k·fr, k·fi),
 * or i·k·(fr + i·fi) = (−k·fi, k·fr) for an oriented band; Q = 0 when `q` is null.
 */
function packedSpectrum(
	p: Band,
	q: Band | null,
	count: number,
	re: Float64Array,
	im: Float64Array
): void {
	const spectrum = (band: Band) => {
		const { mask, fromRe, fromIm } = band;
		return band.oriented
			? { mask, sr: fromIm, si: fromRe, sign: -1 }
			: { mask, sr: fromRe, si: fromIm, sign: 1 };
	};
	const a = spectrum(p);
	const b = q ? spectrum(q) : null;
	for (let i = 0; i < count; i++) {
		const k = a.mask[i] as number;
		// (−k)·x is −(k·x) exactly, so the sign may go on the mask.
		const pr = a.sign * k * (a.sr[i] as number);
		const pi = k * (a.si[i] as number);
		if (b) {
			const kq = b.mask[i] as number;
			re[i] = pr - kq * (b.si[i] as number);
			im[i] = pi + b.sign * kq * (b.sr[i] as number);
		} else {
			re[i] = pr - 0;
			im[i] = pi + 0;
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
