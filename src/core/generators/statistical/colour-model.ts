/**
 * The colour model (spec §2.2.2, MATLAB `sample_colormodel`, `colorPCA`, `inv_colorPCA`).
 *
 * A reference "Mondrian" of K ∈ {3 … 22} random colours in proportions P is built, blurred and
 * noised; its colour PCA gives the basis in which the image is synthesised, and the histograms
 * of its decorrelated channels are the colour histograms that get imposed. Choices, following
 * the MATLAB code that made the paper's datasets:
 * - the sorted colour indices fill the image column-major (vertical stripes), as MATLAB's
 *   `reshape` does; the Python port fills rows;
 * - the m×m box blur zero-pads (`convn 'same'`), with MATLAB's window placement for even m;
 * - the `10·U` noise is drawn per pixel and channel (Python adds one scalar);
 * - the decorrelated image is `y = Vᵀ(x − μ)` with V the eigenvectors of the colour scatter
 *   matrix, largest eigenvalue first, and the inverse is `x = V·y + μ` (the Python port
 *   projects with V instead of Vᵀ);
 * - eigenvector signs are arbitrary in MATLAB (LAPACK); here each eigenvector is oriented so
 *   that its components sum to a non-negative value (the first component then points towards
 *   white), which makes the result deterministic.
 */
import type { Random } from '../random';
import { HistogramTarget } from './histogram-match';

/** The sampled colour model of one image. */
export interface ColourModel {
	/** K, the number of colours of the reference image. */
	colourCount: number;
	/** m, the side of the box blur. */
	blurSize: number;
	/** V, row-major 3×3: `basis[c·3 + k]` is RGB component c of principal axis k. */
	basis: Float64Array;
	/** μ, the mean RGB colour of the reference image (0–256 scale). */
	mean: Float64Array;
	/**
	 * The 256-bin histograms of the reference image's three decorrelated channels; empty when
	 * they were not asked for (channels correlated, colour histograms not imposed).
	 */
	histograms: HistogramTarget[];
}

/** Number of histogram bins of the colour model, as in MATLAB `get_image_histograms`. */
const colourBins = 256;

/** Samples the colour model for a `size × size` image. */
export function sampleColourModel(
	random: Random,
	size: number,
	withHistograms = true
): ColourModel {
	const pixels = size * size;
	const colourCount = 3 + Math.floor(20 * random.uniform());
	const colours = new Float64Array(colourCount * 3);
	for (let i = 0; i < colours.length; i++) colours[i] = random.uniform();
	const cumulative = new Float64Array(colourCount);
	let total = 0;
	for (let k = 0; k < colourCount; k++) {
		total += 0.001 + random.uniform();
		cumulative[k] = total;
	}
	// Each pixel draws a colour index (mnrnd); after sorting only the counts matter.
	const counts = new Int32Array(colourCount);
	for (let i = 0; i < pixels; i++) {
		const u = random.uniform() * total;
		let k = 0;
		while (k < colourCount - 1 && (cumulative[k] as number) <= u) k++;
		counts[k] = (counts[k] as number) + 1;
	}
	const planes = [0, 1, 2].map(() => new Float64Array(pixels));
	// Sorted indices, reshaped column-major: column `col` holds sorted positions col·N … col·N+N−1.
	let colour = 0;
	let left = counts[0] as number;
	for (let position = 0; position < pixels; position++) {
		while (left === 0) left = counts[++colour] as number;
		left--;
		const at = (position % size) * size + Math.floor(position / size);
		for (let c = 0; c < 3; c++)
			(planes[c] as Float64Array)[at] = 256 * (colours[colour * 3 + c] as number);
	}
	const blurSize = Math.max(1, Math.ceil(random.uniform() * 10));
	const scratch = new Float64Array(pixels);
	let lo = Infinity;
	let hi = -Infinity;
	for (const plane of planes) {
		boxBlurZeroPadded(plane, scratch, size, blurSize);
		for (let i = 0; i < pixels; i++) {
			const value = (plane[i] as number) + 10 * random.uniform();
			plane[i] = value;
			if (value < lo) lo = value;
			if (value > hi) hi = value;
		}
	}
	const scale = hi > lo ? 256 / (hi - lo) : 0;
	for (const plane of planes)
		for (let i = 0; i < pixels; i++) plane[i] = ((plane[i] as number) - lo) * scale;

	const mean = new Float64Array(3);
	for (let c = 0; c < 3; c++) {
		const plane = planes[c] as Float64Array;
		let sum = 0;
		for (let i = 0; i < pixels; i++) sum += plane[i] as number;
		mean[c] = sum / pixels;
	}
	const scatter = new Float64Array(9);
	for (let i = 0; i < pixels; i++) {
		const r = ((planes[0] as Float64Array)[i] as number) - (mean[0] as number);
		const g = ((planes[1] as Float64Array)[i] as number) - (mean[1] as number);
		const b = ((planes[2] as Float64Array)[i] as number) - (mean[2] as number);
		scatter[0] = (scatter[0] as number) + r * r;
		scatter[1] = (scatter[1] as number) + r * g;
		scatter[2] = (scatter[2] as number) + r * b;
		scatter[4] = (scatter[4] as number) + g * g;
		scatter[5] = (scatter[5] as number) + g * b;
		scatter[8] = (scatter[8] as number) + b * b;
	}
	scatter[3] = scatter[1] as number;
	scatter[6] = scatter[2] as number;
	scatter[7] = scatter[5] as number;
	const basis = principalAxes(scatter);
	if (!withHistograms) return { colourCount, blurSize, basis, mean, histograms: [] };
	decorrelate(planes, basis, mean);
	const histograms = planes.map((plane) => HistogramTarget.fromValues(plane, pixels, colourBins));
	return { colourCount, blurSize, basis, mean, histograms };
}

/**
 * MATLAB `convn(x, ones(m)/m², 'same')` on one plane: zero padding, and the window of output
 * pixel i spans i − ⌈m/2⌉ + 1 … i + ⌊m/2⌋ on each axis.
 */
function boxBlurZeroPadded(
	plane: Float64Array,
	scratch: Float64Array,
	size: number,
	blurSize: number
): void {
	if (blurSize === 1) return;
	const before = Math.ceil(blurSize / 2) - 1;
	const after = Math.floor(blurSize / 2);
	const norm = 1 / (blurSize * blurSize);
	// Rows into scratch, then columns back into the plane, each with a running window sum.
	for (let row = 0; row < size; row++) {
		const offset = row * size;
		let sum = 0;
		for (let col = 0; col < Math.min(after, size); col++) sum += plane[offset + col] as number;
		for (let col = 0; col < size; col++) {
			const enter = col + after;
			const leave = col - before - 1;
			if (enter < size) sum += plane[offset + enter] as number;
			if (leave >= 0) sum -= plane[offset + leave] as number;
			scratch[offset + col] = sum;
		}
	}
	for (let col = 0; col < size; col++) {
		let sum = 0;
		for (let row = 0; row < Math.min(after, size); row++)
			sum += scratch[row * size + col] as number;
		for (let row = 0; row < size; row++) {
			const enter = row + after;
			const leave = row - before - 1;
			if (enter < size) sum += scratch[enter * size + col] as number;
			if (leave >= 0) sum -= scratch[leave * size + col] as number;
			plane[row * size + col] = sum * norm;
		}
	}
}

/**
 * Eigenvectors of a symmetric 3×3 matrix (cyclic Jacobi), as the columns of a row-major 3×3
 * matrix, sorted by decreasing eigenvalue, each with a non-negative component sum.
 */
export function principalAxes(symmetric: Float64Array): Float64Array {
	const a = Float64Array.from(symmetric);
	const v = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
	for (let sweep = 0; sweep < 50; sweep++) {
		const off = Math.abs(a[1] as number) + Math.abs(a[2] as number) + Math.abs(a[5] as number);
		const diagonal = Math.abs(a[0] as number) + Math.abs(a[4] as number) + Math.abs(a[8] as number);
		if (off <= 1e-15 * diagonal || off === 0) break;
		for (const [p, q] of [
			[0, 1],
			[0, 2],
			[1, 2]
		] as const) {
			const apq = a[p * 3 + q] as number;
			if (apq === 0) continue;
			const app = a[p * 3 + p] as number;
			const aqq = a[q * 3 + q] as number;
			const theta = (aqq - app) / (2 * apq);
			const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
			const c = 1 / Math.sqrt(t * t + 1);
			const s = t * c;
			// a ← Jᵀ a J and v ← v J for the rotation J in the (p, q) plane.
			for (let k = 0; k < 3; k++) {
				const akp = a[k * 3 + p] as number;
				const akq = a[k * 3 + q] as number;
				a[k * 3 + p] = c * akp - s * akq;
				a[k * 3 + q] = s * akp + c * akq;
			}
			for (let k = 0; k < 3; k++) {
				const apk = a[p * 3 + k] as number;
				const aqk = a[q * 3 + k] as number;
				a[p * 3 + k] = c * apk - s * aqk;
				a[q * 3 + k] = s * apk + c * aqk;
			}
			for (let k = 0; k < 3; k++) {
				const vkp = v[k * 3 + p] as number;
				const vkq = v[k * 3 + q] as number;
				v[k * 3 + p] = c * vkp - s * vkq;
				v[k * 3 + q] = s * vkp + c * vkq;
			}
		}
	}
	const order = [0, 1, 2].sort((i, j) => (a[j * 4] as number) - (a[i * 4] as number));
	const basis = new Float64Array(9);
	order.forEach((from, to) => {
		const sum = (v[from] as number) + (v[3 + from] as number) + (v[6 + from] as number);
		const sign = sum < 0 ? -1 : 1;
		for (let c = 0; c < 3; c++) basis[c * 3 + to] = sign * (v[c * 3 + from] as number);
	});
	return basis;
}

/** In place: RGB planes → decorrelated planes, `y = Vᵀ(x − μ)`. */
export function decorrelate(
	planes: readonly Float64Array[],
	basis: Float64Array,
	mean: Float64Array
): void {
	mixPlanes(planes, basis, mean, true);
}

/** In place: decorrelated planes → RGB planes, `x = V·y + μ`. */
export function correlate(
	planes: readonly Float64Array[],
	basis: Float64Array,
	mean: Float64Array
): void {
	mixPlanes(planes, basis, mean, false);
}

function mixPlanes(
	planes: readonly Float64Array[],
	basis: Float64Array,
	mean: Float64Array,
	forward: boolean
): void {
	const [p0, p1, p2] = planes as [Float64Array, Float64Array, Float64Array];
	// forward uses Vᵀ, i.e. m[k][c] = V[c][k]; inverse uses V.
	const m = (row: number, col: number) =>
		(forward ? basis[col * 3 + row] : basis[row * 3 + col]) as number;
	const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = [
		m(0, 0),
		m(0, 1),
		m(0, 2),
		m(1, 0),
		m(1, 1),
		m(1, 2),
		m(2, 0),
		m(2, 1),
		m(2, 2)
	];
	const [mu0, mu1, mu2] = [mean[0] as number, mean[1] as number, mean[2] as number];
	for (let i = 0; i < p0.length; i++) {
		let a = p0[i] as number;
		let b = p1[i] as number;
		let c = p2[i] as number;
		if (forward) {
			a -= mu0;
			b -= mu1;
			c -= mu2;
		}
		let x = m00 * a + m01 * b + m02 * c;
		let y = m10 * a + m11 * b + m12 * c;
		let z = m20 * a + m21 * b + m22 * c;
		if (!forward) {
			x += mu0;
			y += mu1;
			z += mu2;
		}
		p0[i] = x;
		p1[i] = y;
		p2[i] = z;
	}
}
