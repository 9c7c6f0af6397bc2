/**
 * Sanity checks of saliency maps: rank agreement between two maps (for the model-randomisation
 * test of Adebayo et al. 2018, and for comparing encoders), and deletion/insertion faithfulness
 * scores.
 */
import { correspondingLayer, type FeatureLayer } from '../encoders/architecture';
import type { Encoder } from '../encoders/encoder';
import * as tf from '@tensorflow/tfjs-core';
import { readAndDispose } from '../compute/read';
import { Random } from '../generators/random';
import { targetScores, type CamResult, type CamTarget } from './gradcam';

/** Ranks 1..n of `values`, tied values sharing the mean of their ranks. */
function averageRanks(values: Float32Array): Float64Array {
	const order = Array.from(values.keys()).sort(
		(a, b) => (values[a] as number) - (values[b] as number)
	);
	const ranks = new Float64Array(values.length);
	for (let start = 0; start < order.length;) {
		let end = start + 1;
		while (end < order.length && values[order[end] as number] === values[order[start] as number])
			end++;
		// Positions start..end−1 hold equal values: each gets the mean of ranks start+1..end.
		const rank = (start + 1 + end) / 2;
		for (let i = start; i < end; i++) ranks[order[i] as number] = rank;
		start = end;
	}
	return ranks;
}

/**
 * Spearman's rank correlation of two maps of equal length: Pearson's correlation of their
 * ranks, ties averaged. NaN when either map is constant (it has no ranking).
 */
export function spearman(a: Float32Array, b: Float32Array): number {
	if (a.length !== b.length) throw new RangeError(`maps of ${a.length} and ${b.length} values`);
	const ra = averageRanks(a);
	const rb = averageRanks(b);
	const mean = (a.length + 1) / 2;
	let covariance = 0;
	let varianceA = 0;
	let varianceB = 0;
	for (let i = 0; i < a.length; i++) {
		const da = (ra[i] as number) - mean;
		const db = (rb[i] as number) - mean;
		covariance += da * db;
		varianceA += da * da;
		varianceB += db * db;
	}
	return covariance / Math.sqrt(varianceA * varianceB);
}

/** Options of {@link deletionInsertion}. */
export interface DeletionInsertionOptions {
	/** Points of each curve after the unperturbed one. Default 16. */
	steps?: number;
	/**
	 * What removed pixels become: 'mean' the image's per-channel mean, 'blur' a Gaussian-blurred
	 * copy of the image (σ = inputSize / 8). Default 'mean'.
	 */
	baseline?: 'mean' | 'blur';
	/** A conv block the target can be computed from; default the last conv block (conv5, layer4). Any gives the same scores. */
	layer?: FeatureLayer;
	/** Seeds the order among pixels of equal saliency. Default 0. */
	seed?: number;
}

/** The two faithfulness scores and the curves they integrate. */
export interface DeletionInsertionResult {
	/** Area under the deletion curve (lower is more faithful). */
	deletion: number;
	/** Area under the insertion curve (higher is more faithful). */
	insertion: number;
	/** Target scores at 0, 1/steps, …, 1 of the pixels deleted. */
	deletionCurve: Float32Array;
	/** Target scores at 0, 1/steps, …, 1 of the pixels inserted into the baseline. */
	insertionCurve: Float32Array;
}

function baselineImage(image: Float32Array, size: number, kind: 'mean' | 'blur'): Float32Array {
	const pixels = size * size;
	const out = new Float32Array(image.length);
	if (kind === 'mean') {
		for (let c = 0; c < 3; c++) {
			let sum = 0;
			for (let p = 0; p < pixels; p++) sum += image[p * 3 + c] as number;
			for (let p = 0; p < pixels; p++) out[p * 3 + c] = sum / pixels;
		}
		return out;
	}
	const sigma = size / 8;
	const radius = Math.ceil(3 * sigma);
	const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) =>
		Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma))
	);
	// Separable, with weights renormalised at the border (no padding value to leak in).
	const pass = (from: Float32Array, to: Float32Array, horizontal: boolean) => {
		for (let y = 0; y < size; y++) {
			for (let x = 0; x < size; x++) {
				for (let c = 0; c < 3; c++) {
					let sum = 0;
					let weight = 0;
					for (let k = -radius; k <= radius; k++) {
						const xx = horizontal ? x + k : x;
						const yy = horizontal ? y : y + k;
						if (xx < 0 || yy < 0 || xx >= size || yy >= size) continue;
						const w = kernel[k + radius] as number;
						sum += w * (from[(yy * size + xx) * 3 + c] as number);
						weight += w;
					}
					to[(y * size + x) * 3 + c] = sum / weight;
				}
			}
		}
	};
	const half = new Float32Array(image.length);
	pass(image, half, true);
	pass(half, out, false);
	return out;
}

/** Trapezoidal area under a curve sampled at evenly spaced fractions of [0, 1]. */
function areaUnder(curve: Float32Array): number {
	const intervals = curve.length - 1;
	let area = 0;
	for (let i = 0; i < intervals; i++) {
		area += ((curve[i] as number) + (curve[i + 1] as number)) / (2 * intervals);
	}
	return area;
}

/**
 * Deletion and insertion scores of a saliency map (Petsiuk et al. 2018, "RISE"): pixels are
 * ranked by decreasing `cam.map`; the deletion curve is the target score as the top 0, 1/steps,
 * …, 1 of them are replaced by the baseline, the insertion curve the score as they are put back
 * into the baseline image; each score is the curve's area over the fraction in [0, 1], in the
 * target's units (probe logit or similarity). A faithful map gives a low deletion and a high
 * insertion area; compare against another map of the same image and target, not across images.
 *
 * Relation to ROAD (Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy for
 * Attribution Methods"): ROAD removes pixels in the same most-relevant-first (MoRF = deletion) and
 * least-relevant-first orders, but fills them with a noisy linear imputation from their
 * neighbours, because a constant or blurred fill leaks the shape of the removed set and lets the
 * model react to the mask rather than to the missing information. Here the fill is the plain
 * mean or blur baseline, pixels are removed in `steps` equal fractions instead of ROAD's
 * percentage grid, least-relevant-first is replaced by insertion, and no class probability is
 * taken (the raw target score is integrated).
 */
export async function deletionInsertion(
	encoder: Encoder,
	image: Float32Array,
	cam: CamResult,
	target: CamTarget,
	options: DeletionInsertionOptions = {}
): Promise<DeletionInsertionResult> {
	const steps = options.steps ?? 16;
	const size = encoder.inputSize;
	const pixels = size * size;
	if (!Number.isInteger(steps) || steps < 1)
		throw new RangeError(`steps must be ≥ 1, got ${steps}`);
	if (image.length !== pixels * 3 || cam.map.length !== pixels) {
		throw new RangeError(`image and map must cover the ${size}×${size} input`);
	}
	const baseline = baselineImage(image, size, options.baseline ?? 'mean');
	// A seeded shuffle before the stable sort: pixels of equal saliency (flat regions) go in a
	// random order rather than raster order, which would favour the top rows.
	const random = new Random(options.seed ?? 0, 0);
	const order = Array.from({ length: pixels }, (_, i) => i);
	for (let i = pixels - 1; i > 0; i--) {
		const j = random.int(i + 1);
		[order[i], order[j]] = [order[j] as number, order[i] as number];
	}
	order.sort((a, b) => (cam.map[b] as number) - (cam.map[a] as number));

	const points = steps + 1;
	const deleted = new Float32Array(points * pixels * 3);
	const inserted = new Float32Array(points * pixels * 3);
	for (let step = 0; step < points; step++) {
		const offset = step * pixels * 3;
		deleted.set(image, offset);
		inserted.set(baseline, offset);
		const count = Math.round((step * pixels) / steps);
		for (let i = 0; i < count; i++) {
			const p = (order[i] as number) * 3;
			for (let c = 0; c < 3; c++) {
				deleted[offset + p + c] = baseline[p + c] as number;
				inserted[offset + p + c] = image[p + c] as number;
			}
		}
	}
	const layer = options.layer ?? correspondingLayer(encoder.architecture, 'conv5');
	const scoresOf = (images: Float32Array) => {
		const scores = tf.tidy(() => {
			const input = tf.tensor4d(images, [points, size, size, 3]);
			const activation = encoder.convActivation(input, layer, { training: false });
			return targetScores(encoder, activation, layer, target);
		});
		return readAndDispose(scores);
	};
	const deletionCurve = await scoresOf(deleted);
	const insertionCurve = await scoresOf(inserted);
	return {
		deletion: areaUnder(deletionCurve),
		insertion: areaUnder(insertionCurve),
		deletionCurve,
		insertionCurve
	};
}
