/**
 * Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen, Aila, NeurIPS 2019):
 * realism and diversity of a generated image set measured against real images in the feature
 * space of an encoder.
 *
 * Each set's manifold is the union of balls around its points, each ball reaching the point's
 * k-th nearest neighbour within the same set (k = 3 by default, as the paper). Then
 * - precision = the fraction of generated points inside the real manifold (realism);
 * - recall = the fraction of real points inside the generated manifold (diversity: how much of
 *   the real distribution the generated one covers).
 * "Inside" is `distance ≤ radius`, as the authors' implementation. Distances are Euclidean,
 * computed from the differences (not from norms and dot products), so that a point is at exactly
 * distance 0 from its copy: two identical sets score 1 and 1.
 */

/** The paper's neighbourhood size. */
export const defaultPrecisionRecallK = 3;

/** Options of {@link improvedPrecisionRecall}. */
export interface PrecisionRecallOptions {
	/** Neighbourhood size of the manifold balls (default 3). */
	k?: number;
	/** Awaited every few hundred rows with (done, total): a worker yields there so that a cancel gets in. */
	onProgress?: (done: number, total: number) => void | Promise<void>;
	signal?: { readonly aborted: boolean };
}

/** Both scores, with what they were computed from. */
export interface PrecisionRecall {
	/** Fraction of generated samples within the real manifold, in [0, 1]. */
	precision: number;
	/** Fraction of real samples within the generated manifold, in [0, 1]. */
	recall: number;
	k: number;
	realCount: number;
	generatedCount: number;
}

/** Rows processed between two progress calls. */
const progressRows = 256;

function rows(features: Float32Array, dim: number, what: string): number {
	if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be ≥ 1, got ${dim}`);
	if (features.length % dim !== 0) {
		throw new RangeError(
			`${what}: ${features.length} values is not a whole number of ${dim}-d rows`
		);
	}
	return features.length / dim;
}

function squaredDistance(
	a: Float32Array,
	i: number,
	b: Float32Array,
	j: number,
	dim: number
): number {
	const aStart = i * dim;
	const bStart = j * dim;
	let sum = 0;
	for (let d = 0; d < dim; d++) {
		const difference = (a[aStart + d] as number) - (b[bStart + d] as number);
		sum += difference * difference;
	}
	return sum;
}

/** Awaited after each row of work (progress reporting and cancellation). */
type RowDone = () => void | Promise<void>;

/** A {@link RowDone} that reports every {@link progressRows} rows and stops on `signal`. */
function progressEvery(total: number, options: PrecisionRecallOptions): RowDone {
	let done = 0;
	return async () => {
		done++;
		if (done % progressRows !== 0 && done !== total) return;
		if (options.signal?.aborted) throw new Error('Precision and recall were cancelled.');
		await options.onProgress?.(done, total);
	};
}

/**
 * The squared distance from each row of `points` (`N × dim`) to its k-th nearest other row: the
 * squared radius of its manifold ball. Needs N > k.
 */
export async function kNearestSquaredRadii(
	points: Float32Array,
	dim: number,
	k: number,
	rowDone?: RowDone
): Promise<Float64Array> {
	const count = rows(points, dim, 'points');
	if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
	if (count <= k) {
		throw new RangeError(`k-NN radii with k = ${k} need more than ${k} points; got ${count}`);
	}
	// Every pair once: row i fills the upper triangle into both rows' candidate lists.
	const distances = new Float64Array(count * count);
	for (let i = 0; i < count; i++) {
		for (let j = i + 1; j < count; j++) {
			const distance = squaredDistance(points, i, points, j, dim);
			distances[i * count + j] = distance;
			distances[j * count + i] = distance;
		}
		await rowDone?.();
	}
	const radii = new Float64Array(count);
	// The k smallest of a row (without the point itself), by a bounded insertion list.
	const smallest = new Float64Array(k);
	for (let i = 0; i < count; i++) {
		smallest.fill(Infinity);
		for (let j = 0; j < count; j++) {
			if (j === i) continue;
			const distance = distances[i * count + j] as number;
			if (distance >= (smallest[k - 1] as number)) continue;
			let slot = k - 1;
			while (slot > 0 && (smallest[slot - 1] as number) > distance) {
				smallest[slot] = smallest[slot - 1] as number;
				slot--;
			}
			smallest[slot] = distance;
		}
		radii[i] = smallest[k - 1] as number;
	}
	return radii;
}

/**
 * The fraction of `queries` rows within at least one ball of the manifold of `reference` (rows
 * with their squared radii).
 */
export async function manifoldCoverage(
	queries: Float32Array,
	reference: Float32Array,
	squaredRadii: Float64Array,
	dim: number,
	rowDone?: RowDone
): Promise<number> {
	const queryCount = rows(queries, dim, 'queries');
	const referenceCount = rows(reference, dim, 'reference');
	if (squaredRadii.length !== referenceCount) {
		throw new RangeError(`expected ${referenceCount} radii, got ${squaredRadii.length}`);
	}
	if (queryCount === 0) return 0;
	let inside = 0;
	for (let q = 0; q < queryCount; q++) {
		for (let r = 0; r < referenceCount; r++) {
			if (squaredDistance(queries, q, reference, r, dim) <= (squaredRadii[r] as number)) {
				inside++;
				break;
			}
		}
		await rowDone?.();
	}
	return inside / queryCount;
}

/**
 * Improved precision and recall of `generated` (`M × dim` features) against `real` (`N × dim`).
 * Each set needs more than k rows. The cost is (N² + M²)/2 + 2·N·M distances at most.
 */
export async function improvedPrecisionRecall(
	real: Float32Array,
	generated: Float32Array,
	dim: number,
	options: PrecisionRecallOptions = {}
): Promise<PrecisionRecall> {
	const k = options.k ?? defaultPrecisionRecallK;
	const realCount = rows(real, dim, 'real features');
	const generatedCount = rows(generated, dim, 'generated features');
	const rowDone = progressEvery(2 * (realCount + generatedCount), options);
	const realRadii = await kNearestSquaredRadii(real, dim, k, rowDone);
	const generatedRadii = await kNearestSquaredRadii(generated, dim, k, rowDone);
	const precision = await manifoldCoverage(generated, real, realRadii, dim, rowDone);
	const recall = await manifoldCoverage(real, generated, generatedRadii, dim, rowDone);
	return { precision, recall, k, realCount, generatedCount };
}
