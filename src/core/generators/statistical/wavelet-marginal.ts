/**
 * The wavelet marginal model (spec §2.2.3, MATLAB `sample_wmm_model` / `impose_wmm`).
 *
 * For every channel and every modified band (the high-pass residual and all oriented bands; the
 * low-pass residual is never touched) a generalised Laplacian `h(x) = exp(−|x/ŝ|^r)` is tabulated
 * on x = −200:0.5:200, with `ŝ = 4^scale` (scale = N / band side: 1, 1, 2, 4, 8 …) and
 * `r ~ U(0.4, 0.8)`; its weighted mean and std are the band's target moments. Imposing sets the
 * band's mean/std, histogram-matches it to h, and sets mean/std again.
 */
import type { Random } from '../random';
import { HistogramTarget, type ValueSummary } from './histogram-match';

/** The target marginal of one band of one channel. */
export interface BandMarginal {
	/** ŝ = 4^scale. */
	scale: number;
	/** r ~ U(0.4, 0.8), the shape exponent. */
	shape: number;
	/** Mean and std of x weighted by h. */
	mean: number;
	std: number;
	histogram: HistogramTarget;
}

/** The grid of the target histograms, −200:0.5:200 as in MATLAB. */
const gridFirst = -200;
const gridStep = 0.5;
const gridBins = 801;

/**
 * Samples the marginals for 3 channels of a pyramid with `bandSizes[b]` the side of band b
 * (MATLAB order: high-pass residual first). Returns `[channel][band]`.
 */
export function sampleWaveletMarginals(
	random: Random,
	size: number,
	bandSizes: readonly number[]
): BandMarginal[][] {
	const weights = new Float64Array(gridBins);
	return [0, 1, 2].map(() =>
		bandSizes.map((bandSize) => {
			const scale = Math.pow(4, size / bandSize);
			const shape = 0.4 + 0.4 * random.uniform();
			let total = 0;
			let moment = 0;
			for (let k = 0; k < gridBins; k++) {
				const x = gridFirst + gridStep * k;
				const h = Math.exp(-Math.pow(Math.abs(x / scale), shape));
				weights[k] = h;
				total += h;
				moment += x * h;
			}
			const mean = moment / total;
			let spread = 0;
			for (let k = 0; k < gridBins; k++) {
				const d = gridFirst + gridStep * k - mean;
				spread += d * d * (weights[k] as number);
			}
			const std = Math.sqrt(spread / total);
			return {
				scale,
				shape,
				mean,
				std,
				histogram: new HistogramTarget(weights, gridFirst, gridStep)
			};
		})
	);
}

/** Sets the mean and (sample, N−1) std of `values[0 … length)` in place. */
export function setMoments(values: Float64Array, length: number, mean: number, std: number): void {
	let sum = 0;
	for (let i = 0; i < length; i++) sum += values[i] as number;
	setMomentsFromSum(values, length, sum, mean, std);
}

/**
 * {@link setMoments} given the current sum of the values; returns the summary of the new
 * values (sum, min, max, in index order), which the histogram of the next step starts from.
 */
function setMomentsFromSum(
	values: Float64Array,
	length: number,
	sum: number,
	mean: number,
	std: number
): ValueSummary {
	const current = sum / length;
	let squares = 0;
	for (let i = 0; i < length; i++) {
		const d = (values[i] as number) - current;
		squares += d * d;
	}
	const currentStd = Math.sqrt(squares / (length - 1));
	const gain = currentStd > 0 ? std / currentStd : 0;
	let newSum = 0;
	let lo = Infinity;
	let hi = -Infinity;
	for (let i = 0; i < length; i++) {
		const value = ((values[i] as number) - current) * gain + mean;
		values[i] = value;
		newSum += value;
		if (value < lo) lo = value;
		if (value > hi) hi = value;
	}
	return { sum: newSum, lo, hi };
}

/**
 * MATLAB `impose_wmm` on one band's coefficients: moments, histogram, moments again. Each step
 * hands the sums it gathered while writing to the next, so the passes over the values drop from
 * nine to seven with the same arithmetic in the same order.
 */
export function imposeBandMarginal(
	values: Float64Array,
	length: number,
	target: BandMarginal
): void {
	let sum = 0;
	for (let i = 0; i < length; i++) sum += values[i] as number;
	const summary = setMomentsFromSum(values, length, sum, target.mean, target.std);
	const matchedSum = target.histogram.match(values, length, summary);
	setMomentsFromSum(values, length, matchedSum, target.mean, target.std);
}
