/**
 * Per-feature standardisation (z-scores with the training set's statistics) before the linear
 * probe. Not in the paper: there, 100 epochs over 127k images give Adam enough steps to fit
 * even the tiny fc6 features of an untrained encoder (weights N(0, 0.02²) shrink activations
 * by ~10× per layer, to ~1e-5 at fc6). At CPU scale there are ~50× fewer steps, and without it
 * the random-init control would sit at chance for scale alone. It is a parameter; off is the
 * paper's protocol.
 */

/** Mean and standard deviation of every feature column. */
export interface FeatureStatistics {
	mean: Float32Array;
	std: Float32Array;
}

/** Column statistics of `features` (`N × dim`); a constant column gets std 1 (left unscaled). */
export function featureStatistics(features: Float32Array, dim: number): FeatureStatistics {
	const rows = features.length / dim;
	const sum = new Float64Array(dim);
	const squares = new Float64Array(dim);
	for (let row = 0; row < rows; row++) {
		const offset = row * dim;
		for (let d = 0; d < dim; d++) {
			const value = features[offset + d] as number;
			sum[d] = (sum[d] as number) + value;
			squares[d] = (squares[d] as number) + value * value;
		}
	}
	const mean = new Float32Array(dim);
	const std = new Float32Array(dim);
	for (let d = 0; d < dim; d++) {
		const average = (sum[d] as number) / rows;
		const variance = Math.max(0, (squares[d] as number) / rows - average * average);
		mean[d] = average;
		// Relative to the column's scale, so features that are small everywhere still count.
		std[d] = variance > 1e-12 * (average * average + 1e-30) ? Math.sqrt(variance) : 1;
	}
	return { mean, std };
}

/** Replaces `features` (`N × dim`) by its z-scores under `statistics`, in place. */
export function standardizeInPlace(
	features: Float32Array,
	dim: number,
	statistics: FeatureStatistics
): void {
	for (let offset = 0; offset < features.length; offset += dim) {
		for (let d = 0; d < dim; d++) {
			features[offset + d] =
				((features[offset + d] as number) - (statistics.mean[d] as number)) /
				(statistics.std[d] as number);
		}
	}
}
