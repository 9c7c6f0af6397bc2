/**
 * Weighted k-nearest-neighbour classification, as in InstDisc (Wu et al. 2018) and solo-learn's
 * `WeightedKNNClassifier`: features are L2-normalised, similarity is the cosine, and each of the
 * k most similar training samples votes for its class with weight exp(similarity / T).
 *
 * Similarities are one matrix product per chunk of test rows on the active tfjs backend, arranged
 * so that no product needs the transpose flags (many times slower on wasm). The k nearest are
 * chosen in JS with a bounded heap, so ties break the same way on every backend: the lower
 * training index wins.
 */
import * as tf from '@tensorflow/tfjs-core';
import { argMaxRows, rowCount } from './linear-probe';

/** The neighbour counts the issue asks for (k = 20 and k = 200). */
export const defaultKnnKs = [20, 200] as const;

/** InstDisc's and solo-learn's temperature. */
export const defaultKnnTemperature = 0.07;

/** Options of {@link knnClassify}. */
export interface KnnOptions {
	/** Neighbours that vote; more than the training set means all of it. */
	k: number;
	/** Vote weight is exp(cosine / temperature). Default 0.07. */
	temperature?: number;
	/** Test rows per similarity product (memory: chunk × training rows floats). Default 256. */
	chunk?: number;
}

/** The outcome of one k. */
export interface KnnResult {
	/** Each test row's class with the highest score; the lowest class index wins a tie. */
	predicted: Int32Array;
	/** `N × classes` summed vote weights. */
	scores: Float32Array;
}

/** PyTorch's `F.normalize` ε: a zero vector stays zero instead of dividing by zero. */
const normEpsilon = 1e-12;

/**
 * Classifies `test` (`M × dim`) by weighted kNN over `train` (`N × dim`, labels in
 * `[0, classes)`). See the module comment for the rule.
 */
export async function knnClassify(
	train: Float32Array,
	trainLabels: Int32Array,
	test: Float32Array,
	dim: number,
	classes: number,
	options: KnnOptions
): Promise<KnnResult> {
	const { k, ...rest } = options;
	const [result] = await knnClassifyMany(train, trainLabels, test, dim, classes, {
		...rest,
		ks: [k]
	});
	return result as KnnResult;
}

/**
 * {@link knnClassify} for several k at once (one result per entry of `ks`, in order), sharing
 * the similarity products, which are nearly all of the cost.
 */
export async function knnClassifyMany(
	train: Float32Array,
	trainLabels: Int32Array,
	test: Float32Array,
	dim: number,
	classes: number,
	options: Omit<KnnOptions, 'k'> & { ks: readonly number[] }
): Promise<KnnResult[]> {
	const trainCount = rowCount(train, dim, 'training features');
	const testCount = rowCount(test, dim, 'test features');
	if (trainCount === 0) throw new RangeError('kNN needs at least one training sample');
	if (!Number.isInteger(classes) || classes < 1) {
		throw new RangeError(`classes must be a whole number ≥ 1, got ${classes}`);
	}
	if (trainLabels.length !== trainCount) {
		throw new RangeError(`expected ${trainCount} training labels, got ${trainLabels.length}`);
	}
	for (let i = 0; i < trainCount; i++) {
		const label = trainLabels[i] as number;
		if (label < 0 || label >= classes) {
			throw new RangeError(`label ${label} of training sample ${i} is outside [0, ${classes})`);
		}
	}
	const { ks } = options;
	if (ks.length === 0) throw new RangeError('kNN needs at least one k');
	for (const k of ks) {
		if (!Number.isInteger(k) || k < 1)
			throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
	}
	const temperature = options.temperature ?? defaultKnnTemperature;
	if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
	const chunk = options.chunk ?? 256;
	if (!Number.isInteger(chunk) || chunk < 1) {
		throw new RangeError(`chunk must be a whole number ≥ 1, got ${chunk}`);
	}

	const neighbours = Math.min(Math.max(...ks), trainCount);
	const scoresPerK = ks.map(() => new Float32Array(testCount * classes));
	const heap = new NeighbourHeap(neighbours);
	const trainInverseNorms = inverseRowNorms(train, dim, 'training');
	const testInverseNorms = inverseRowNorms(test, dim, 'test');
	const normalisedTrain = tf.tidy(() =>
		tf.mul(tf.tensor2d(train, [trainCount, dim]), tf.tensor2d(trainInverseNorms, [trainCount, 1]))
	);
	const chunkT = new Float32Array(dim * Math.min(chunk, testCount));
	const row = new Float32Array(trainCount);
	const classScores = new Float64Array(classes);
	try {
		for (let start = 0; start < testCount; start += chunk) {
			const rows = Math.min(chunk, testCount - start);
			// The chunk is normalised and transposed here so that the product is train · chunkᵀ:
			// XNNPACK repacks a product's second operand on every call, and repacking a small
			// chunk instead of the whole training set makes the product about twice as fast.
			for (let r = 0; r < rows; r++) {
				const offset = (start + r) * dim;
				const scale = testInverseNorms[start + r] as number;
				for (let d = 0; d < dim; d++) chunkT[d * rows + r] = (test[offset + d] as number) * scale;
			}
			const product = tf.tidy(() =>
				tf.matMul(normalisedTrain, tf.tensor2d(chunkT.subarray(0, dim * rows), [dim, rows]))
			);
			// trainCount × rows: column r holds test row r's similarities.
			// Read asynchronously: a GPU backend cannot read synchronously in Node.
			const similarities = (await product.data()) as Float32Array;
			product.dispose();
			for (let r = 0; r < rows; r++) {
				for (let i = 0; i < trainCount; i++) row[i] = similarities[i * rows + r] as number;
				const nearest = heap.select(row);
				ks.forEach((k, index) => {
					classScores.fill(0);
					// Most similar first, the order a reference sum would take.
					for (let n = 0; n < Math.min(k, nearest.length); n++) {
						const neighbour = nearest[n] as number;
						const label = trainLabels[neighbour] as number;
						classScores[label] =
							(classScores[label] as number) + Math.exp((row[neighbour] as number) / temperature);
					}
					(scoresPerK[index] as Float32Array).set(classScores, (start + r) * classes);
				});
			}
		}
	} finally {
		normalisedTrain.dispose();
	}
	return scoresPerK.map((scores) => ({ predicted: argMaxRows(scores, classes), scores }));
}

/** 1 / max(‖row‖, ε) for every row; throws on a row with NaN or ±Infinity. */
function inverseRowNorms(features: Float32Array, dim: number, what: string): Float32Array {
	const count = features.length / dim;
	const inverse = new Float32Array(count);
	for (let i = 0; i < count; i++) {
		let sum = 0;
		for (let d = i * dim; d < (i + 1) * dim; d++) {
			const value = features[d] as number;
			sum += value * value;
		}
		if (!Number.isFinite(sum)) {
			throw new RangeError(`${what} feature row ${i} holds NaN or Infinity (or overflows)`);
		}
		inverse[i] = 1 / Math.max(Math.sqrt(sum), normEpsilon);
	}
	return inverse;
}

/**
 * The k best indices of a similarity row: a min-heap of the current k best whose root is the
 * worst of them, so most candidates are rejected with one comparison. "Better" is the higher
 * similarity, then the lower index.
 */
class NeighbourHeap {
	private readonly indices: Int32Array;

	constructor(private readonly k: number) {
		this.indices = new Int32Array(k);
	}

	/** The k best indices of `row`, best first (a view, valid until the next call). */
	select(row: Float32Array): Int32Array {
		const { indices, k } = this;
		const better = (a: number, b: number) => {
			const va = row[a] as number;
			const vb = row[b] as number;
			return va > vb || (va === vb && a < b);
		};
		const siftDown = (size: number, from: number) => {
			let parent = from;
			for (;;) {
				const left = 2 * parent + 1;
				if (left >= size) return;
				const right = left + 1;
				// The worse child moves up: the root must stay the worst of the heap.
				let child = left;
				if (right < size && better(indices[left] as number, indices[right] as number)) {
					child = right;
				}
				if (!better(indices[parent] as number, indices[child] as number)) return;
				const swap = indices[parent] as number;
				indices[parent] = indices[child] as number;
				indices[child] = swap;
				parent = child;
			}
		};
		for (let i = 0; i < k; i++) indices[i] = i;
		for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(k, i);
		for (let candidate = k; candidate < row.length; candidate++) {
			if (better(candidate, indices[0] as number)) {
				indices[0] = candidate;
				siftDown(k, 0);
			}
		}
		// Heap sort: repeatedly move the worst to the end, leaving the best first.
		for (let size = k - 1; size > 0; size--) {
			const swap = indices[0] as number;
			indices[0] = indices[size] as number;
			indices[size] = swap;
			siftDown(size, 0);
		}
		return indices;
	}
}
