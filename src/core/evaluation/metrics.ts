/**
 * Scores that summarise an evaluation: the "gap closed" by a noise-trained encoder between the
 * random-init and real-data controls, and the confusion matrix behind an accuracy.
 */

/**
 * How much of the gap between a random-init encoder and a real-data encoder the noise-trained
 * encoder closes: `(noise − random) / (real − random)`, so 0 is no better than random init and
 * 1 is as good as real data (it can fall below 0 or exceed 1).
 *
 * Null when `real <= random` (or any input is not finite): then there is no gap to close, and
 * the ratio would divide by zero or flip its sign, calling a worse-than-random noise encoder a
 * success. That happens when the real-data control is undertrained or the task is one where
 * random features already do as well.
 */
export function gapClosed(noise: number, random: number, real: number): number | null {
	if (!Number.isFinite(noise) || !Number.isFinite(random) || !Number.isFinite(real)) return null;
	if (real <= random) return null;
	return (noise - random) / (real - random);
}

/**
 * `classes × classes` counts, row-major: entry `[t * classes + p]` counts samples of true class
 * t predicted as p (rows are the truth, as in scikit-learn).
 */
export function confusionMatrix(
	predicted: Int32Array,
	labels: Int32Array,
	classes: number
): Int32Array {
	if (!Number.isInteger(classes) || classes < 1) {
		throw new RangeError(`classes must be a whole number ≥ 1, got ${classes}`);
	}
	if (predicted.length !== labels.length) {
		throw new RangeError(
			`${predicted.length} predictions for ${labels.length} labels: one of each per sample`
		);
	}
	const matrix = new Int32Array(classes * classes);
	for (let i = 0; i < labels.length; i++) {
		const truth = labels[i] as number;
		const guess = predicted[i] as number;
		if (truth < 0 || truth >= classes || guess < 0 || guess >= classes) {
			throw new RangeError(
				`sample ${i} has label ${truth} and prediction ${guess}; both must be in [0, ${classes})`
			);
		}
		matrix[truth * classes + guess] = (matrix[truth * classes + guess] as number) + 1;
	}
	return matrix;
}

/** The fraction of predictions equal to their label (0 for an empty set). */
export function accuracy(predicted: Int32Array, labels: Int32Array): number {
	if (predicted.length !== labels.length) {
		throw new RangeError(`${predicted.length} predictions for ${labels.length} labels`);
	}
	if (labels.length === 0) return 0;
	let correct = 0;
	for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
	return correct / labels.length;
}
