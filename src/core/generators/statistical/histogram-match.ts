/**
 * Histograms and histogram matching as matlabPyrTools does them (`histo`, `histoMatch`,
 * `pointOp`), which is what the paper's MATLAB statistical datasets used. Matching is binned,
 * not sort-based: the source histogram has as many bins as the target, the source CDF at its bin
 * edges is mapped through the piecewise-linear inverse target CDF, and every value goes through
 * that lookup table with linear interpolation (and extrapolation). It costs O(values + bins).
 */

/** A histogram on uniformly spaced bin centres `first + step·k`, k = 0 … counts.length − 1. */
export interface UniformHistogram {
	first: number;
	step: number;
	counts: Float64Array;
}

/** MATLAB's `round`: halves go away from zero (JavaScript's `Math.round` goes up). */
function roundHalfAway(x: number): number {
	return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** The sum, minimum and maximum of some values, which a histogram starts from. */
export interface ValueSummary {
	sum: number;
	lo: number;
	hi: number;
}

/** {@link ValueSummary} of `values[0 … length)`, summed in index order. */
export function summarize(values: Float64Array, length: number): ValueSummary {
	let sum = 0;
	let lo = Infinity;
	let hi = -Infinity;
	for (let i = 0; i < length; i++) {
		const value = values[i] as number;
		sum += value;
		if (value < lo) lo = value;
		if (value > hi) hi = value;
	}
	return { sum, lo, hi };
}

/**
 * matlabPyrTools `histo(values, binCount)`: bins of width range/(binCount − 1) whose grid is
 * aligned to the mean, so there are `binCount` or `binCount + 1` bins; each value counts in the
 * nearest bin. A constant input gives one bin of width 0.
 */
export function uniformHistogram(
	values: Float64Array,
	length: number,
	binCount: number,
	scratch?: Float64Array,
	summary?: ValueSummary
): UniformHistogram {
	const { sum, lo, hi } = summary ?? summarize(values, length);
	const step = (hi - lo) / (binCount - 1);
	if (!(step > 0)) return { first: lo, step: 0, counts: Float64Array.of(length) };
	const centre = sum / length;
	const firstIndex = roundHalfAway((lo - centre) / step);
	const bins = roundHalfAway((hi - centre) / step) - firstIndex + 1;
	const first = centre + step * firstIndex;
	const counts =
		scratch && scratch.length >= bins ? scratch.subarray(0, bins) : new Float64Array(bins);
	counts.fill(0);
	const inverseStep = 1 / step;
	const lastBin = bins - 1;
	for (let i = 0; i < length; i++) {
		// Positions lie in [−½, lastBin + ½] (up to rounding), where roundHalfAway after the
		// clamp equals ⌊x + ½⌋ except when x + ½ rounds up to an integer (x = 0.49999999999999994),
		// which the second test undoes. Integer truncation keeps this loop off Math.round, which
		// made it several times slower.
		const position = ((values[i] as number) - first) * inverseStep;
		let bin = (position + 0.5) | 0;
		if (bin - position > 0.5) bin--;
		if (bin < 0) bin = 0;
		else if (bin > lastBin) bin = lastBin;
		counts[bin] = (counts[bin] as number) + 1;
	}
	return { first, step, counts };
}

/**
 * A target histogram prepared for {@link HistogramTarget.match}: its CDF at the bin edges, with
 * matlabPyrTools' `mean(counts)·1e-8` added to every bin so that the CDF is strictly increasing.
 */
export class HistogramTarget {
	/** Number of bins; the source histogram uses as many. */
	readonly bins: number;
	/** Target CDF at the bin edges, from 0 to 1 (length bins + 1). */
	readonly cdf: Float64Array;
	/** The bin edges `first − step/2 + step·k` (length bins + 1). */
	readonly edges: Float64Array;
	private readonly sourceCounts: Float64Array;
	private readonly lookup: Float64Array;

	/** `counts` on the uniform bin centres `first + step·k`. */
	constructor(counts: ArrayLike<number>, first: number, step: number) {
		const bins = counts.length;
		this.bins = bins;
		let total = 0;
		for (let k = 0; k < bins; k++) total += counts[k] as number;
		const floor = total / bins / 1e8;
		this.cdf = new Float64Array(bins + 1);
		this.edges = new Float64Array(bins + 1);
		let cumulative = 0;
		for (let k = 0; k < bins; k++) {
			cumulative += (counts[k] as number) + floor;
			this.cdf[k + 1] = cumulative;
		}
		for (let k = 0; k <= bins; k++) {
			this.cdf[k] = (this.cdf[k] as number) / cumulative;
			this.edges[k] = first - step / 2 + step * k;
		}
		this.sourceCounts = new Float64Array(bins + 1);
		this.lookup = new Float64Array(bins + 2);
	}

	/** A target made from the histogram of some values (`histo(values, binCount)`). */
	static fromValues(values: Float64Array, length: number, binCount: number): HistogramTarget {
		const { counts, first, step } = uniformHistogram(values, length, binCount);
		return new HistogramTarget(counts, first, step);
	}

	/**
	 * Replaces `values[0 … length)` in place by values whose histogram matches the target. A
	 * constant input has no CDF to map and is left as it is. `summary`, when the caller already
	 * has it, spares a pass over the values. Returns the sum of the new values, in index order,
	 * which spares the caller a pass too.
	 */
	match(values: Float64Array, length: number, summary?: ValueSummary): number {
		const source = uniformHistogram(values, length, this.bins, this.sourceCounts, summary);
		if (source.step === 0) return summary?.sum ?? summarize(values, length).sum;
		const { cdf, edges, lookup } = this;
		const sourceBins = source.counts.length;
		// lookup[k] = inverse target CDF at the source CDF of source edge k (interp1, 'linear').
		const last = cdf.length - 1;
		let segment = 0;
		let cumulative = 0;
		for (let k = 0; k <= sourceBins; k++) {
			if (k > 0) cumulative += source.counts[k - 1] as number;
			const level = cumulative / length;
			while (segment < last - 1 && (cdf[segment + 1] as number) < level) segment++;
			const c0 = cdf[segment] as number;
			const c1 = cdf[segment + 1] as number;
			const e0 = edges[segment] as number;
			lookup[k] = e0 + ((edges[segment + 1] as number) - e0) * ((level - c0) / (c1 - c0));
		}
		// pointOp: piecewise-linear lookup on the source edges, extrapolating at both ends.
		const origin = source.first - source.step / 2;
		const inverseStep = 1 / source.step;
		const lastSegment = sourceBins - 1;
		let sum = 0;
		for (let i = 0; i < length; i++) {
			const position = ((values[i] as number) - origin) * inverseStep;
			// Truncation is ⌊position⌋ for position ≥ 0, and both clamp to 0 below; the values
			// are those the source histogram was taken of, so position stays in [0, sourceBins].
			let index = position | 0;
			if (index < 0) index = 0;
			else if (index > lastSegment) index = lastSegment;
			const y0 = lookup[index] as number;
			const value = y0 + ((lookup[index + 1] as number) - y0) * (position - index);
			values[i] = value;
			sum += value;
		}
		return sum;
	}
}
