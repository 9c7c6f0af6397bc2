/**
 * Nearest neighbours of a query image among a dataset's training images, under one encoder:
 * which images the encoder thinks look alike. Gallery features are extracted once per (encoder,
 * gallery, layer) and kept in the on-disk feature cache, so every later query only runs the
 * query image and a cosine scan.
 */
import { type FeatureLayer } from '../../core/encoders/architecture';
import type { Encoder } from '../../core/encoders/encoder';
import * as tf from '@tensorflow/tfjs-core';
import { readAndDispose } from '../../core/compute/read';
import type { LabelledSplit } from '../../core/evaluation/dataset';
import { extractFeatures } from '../../core/evaluation/features';
import { stratifiedIndices, stratifiedSubset } from '../evaluation/evaluate-job';
import { cachedFeatures, splitHash } from '../evaluation/feature-cache';

/** Options of {@link nearestNeighbours}. */
export interface NeighbourOptions {
	/** Features compared; conv blocks are averaged over H and W (`Encoder.forward`). */
	layer: FeatureLayer;
	/** How many neighbours. */
	k: number;
	/** At most this many training images form the gallery: a stratified subset. */
	maxGallery: number;
	/** Seed of the stratified subset (the same seed gives the same gallery). */
	seed: number;
	/**
	 * Where gallery features are cached (null: not cached), and the encoder's identity in the
	 * cache: use the evaluator's key (the checkpoint's sha256, or `random-init:<model>:<seed>`)
	 * so that a gallery an evaluation already embedded is reused.
	 */
	featureCache: { dir: string | null; encoderKey: string };
	signal?: { readonly aborted: boolean };
	/** Progress of the gallery's feature extraction (not called when the cache has them). */
	onProgress?: (done: number, total: number) => void | Promise<void>;
}

/** One neighbour. */
export interface Neighbour {
	/** Index in the full training split (not in the gallery subset). */
	index: number;
	labelIndex: number;
	/** Cosine similarity of its features to the query's. */
	similarity: number;
}

/** The neighbours, nearest first. */
export interface NeighbourResult {
	/** Images in the gallery. */
	galleryCount: number;
	neighbours: Neighbour[];
	/** Whether the gallery's features came from the feature cache. */
	cached: boolean;
}

/**
 * The `k` training images nearest to `query` (one centre-view input, `inputSize² · 3`
 * normalised floats, as `writeCentreView` writes it) by cosine similarity of their `layer`
 * features, nearest first, ties broken by the lower index. The gallery is a stratified subset
 * of at most `maxGallery` images of `gallery` (seeded, so it is the same for every encoder and
 * query), embedded with the centre view in eval mode. A zero feature vector (every unit off)
 * has similarity 0 to everything.
 */
export async function nearestNeighbours(
	encoder: Encoder,
	query: Float32Array,
	gallery: LabelledSplit,
	options: NeighbourOptions
): Promise<NeighbourResult> {
	const size = encoder.inputSize;
	if (query.length !== size * size * 3) {
		throw new RangeError(
			`The query should be ${size}×${size}×3 = ${size * size * 3} floats; it has ${query.length}.`
		);
	}
	if (!Number.isInteger(options.k) || options.k < 1) {
		throw new RangeError(`k must be a positive integer, got ${options.k}.`);
	}
	const { layer, signal } = options;
	const subset = stratifiedSubset(gallery, options.maxGallery, options.seed);
	const indices =
		subset === gallery ? null : stratifiedIndices(gallery, options.maxGallery, options.seed);
	const view = { kind: 'centre' } as const;
	const { features, dim, cached } = await cachedFeatures(
		options.featureCache.dir,
		// The evaluator's identity fields, so both share cache files.
		{ encoder: options.featureCache.encoderKey, images: splitHash(subset), layer, view },
		() =>
			extractFeatures(encoder, subset.images, {
				layer,
				view,
				...(signal ? { signal } : {}),
				...(options.onProgress ? { onProgress: options.onProgress } : {})
			})
	);
	if (signal?.aborted) throw new Error('The neighbour search was cancelled.');
	const queryFeatures = tf.tidy(() =>
		encoder.forward(tf.tensor4d(query, [1, size, size, 3]), { training: false, layer })
	);
	const queryValues = await readAndDispose(queryFeatures);
	if (queryValues.length !== dim) {
		throw new Error(
			`The cached gallery has ${dim} features per image but ${layer} gives ${queryValues.length}; clear the feature cache.`
		);
	}
	const count = subset.labels.length;
	let queryNorm = 0;
	for (const value of queryValues) queryNorm += value * value;
	queryNorm = Math.sqrt(queryNorm);
	const similarities = new Float64Array(count);
	for (let row = 0; row < count; row++) {
		let dot = 0;
		let norm = 0;
		const offset = row * dim;
		for (let d = 0; d < dim; d++) {
			const value = features[offset + d] as number;
			dot += value * (queryValues[d] as number);
			norm += value * value;
		}
		const denominator = queryNorm * Math.sqrt(norm);
		similarities[row] = denominator > 0 ? dot / denominator : 0;
	}
	// The subset keeps the split's order, so a lower row is a lower index: a stable sort by
	// similarity alone breaks ties by index.
	const order = Array.from({ length: count }, (_, row) => row).sort(
		(a, b) => (similarities[b] as number) - (similarities[a] as number)
	);
	const neighbours = order.slice(0, Math.min(options.k, count)).map((row) => ({
		index: indices ? (indices[row] as number) : row,
		labelIndex: subset.labels[row] as number,
		similarity: similarities[row] as number
	}));
	return { galleryCount: count, neighbours, cached };
}
