/**
 * Batch mode of Explain: maps of N test images under each encoder, and how well the first two
 * encoders agree, per image, per class and overall. Which images, how they are mapped and how
 * the answer is put together live here; computing one image's maps is the caller's
 * (`deps.explainImage`, the worker session with its caches).
 */
import type { ExplainBatchParams, ExplainBatchResult } from '../../core/api/explain';
import { AppFailure } from '../../core/api/errors';
import type { EvalDataset } from '../../core/evaluation/dataset';
import { mapToBytes } from '../../core/explain/colormap';
import { spearman } from '../../core/explain/sanity';

/** What {@link runBatch} needs besides the request. */
export interface BatchDependencies {
	dataset: EvalDataset;
	/**
	 * The image `index` of the test split at `size` (RGB bytes) and its maps in [0, 1] at `size²`,
	 * one per encoder, in the order of `labels`.
	 */
	explainImage: (index: number) => Promise<{ rgb: Uint8Array; maps: Float32Array[] }>;
	/** Display size of the images and maps (square). */
	size: number;
	/** One label per encoder. */
	labels: string[];
	/** Checked between images; aborting stops the batch with a CANCELLED failure. */
	signal?: AbortSignal;
	/** Called after each image. */
	onProgress?: (done: number, total: number) => void;
}

/**
 * Test images for a batch, deterministically: the first images of each class in index order,
 * taken round-robin over the classes (class 0's first, class 1's first, …, then each class's
 * second, …) until `count` are chosen or the split runs out, so the classes are as evenly
 * represented as the split allows. With `classIndex`, the first `count` images of that class.
 * Returned grouped by class, then by index.
 */
export function selectBatchImages(
	labels: Int32Array,
	classCount: number,
	count: number,
	classIndex?: number
): number[] {
	const byClass: number[][] = Array.from({ length: classCount }, () => []);
	for (const [index, label] of labels.entries()) byClass[label]?.push(index);
	const pools = classIndex === undefined ? byClass : [byClass[classIndex] ?? []];
	const chosen: number[][] = pools.map(() => []);
	let taken = 0;
	for (let round = 0; taken < count; round++) {
		let any = false;
		for (const [pool, indices] of pools.entries()) {
			const index = indices[round];
			if (index === undefined) continue;
			any = true;
			chosen[pool]?.push(index);
			if (++taken === count) break;
		}
		if (!any) break;
	}
	return chosen.flat();
}

/** The agreement of one batch image, by class. */
interface ScoredImage {
	labelIndex: number;
	agreement: number | null;
}

function mean(values: number[]): number | null {
	return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Mean agreement per class (the classes present in `items`, in class order) and overall;
 * images without an agreement (a flat map) are counted but left out of the means.
 */
export function summariseAgreement(
	items: readonly ScoredImage[]
): Pick<ExplainBatchResult, 'perClass' | 'meanAgreement'> {
	const classes = [...new Set(items.map((item) => item.labelIndex))].sort((a, b) => a - b);
	const perClass = classes.map((classIndex) => {
		const ofClass = items.filter((item) => item.labelIndex === classIndex);
		const scores = ofClass.flatMap((item) => (item.agreement === null ? [] : [item.agreement]));
		return { classIndex, count: ofClass.length, meanAgreement: mean(scores) };
	});
	const scores = items.flatMap((item) => (item.agreement === null ? [] : [item.agreement]));
	return { perClass, meanAgreement: mean(scores) };
}

/** Spearman agreement of the first two maps; null with fewer maps or a flat map. */
function agreementOf(maps: readonly Float32Array[]): number | null {
	const [first, second] = maps;
	if (!first || !second) return null;
	const rho = spearman(first, second);
	return Number.isFinite(rho) ? rho : null;
}

/**
 * Runs a batch: chooses the images ({@link selectBatchImages}), maps each with
 * `deps.explainImage`, scores the agreement of the first two maps and summarises it per class.
 * Throws INVALID_REQUEST for a class outside the dataset or a selection with no image, and
 * CANCELLED when `deps.signal` is aborted (checked before each image).
 */
export async function runBatch(
	params: ExplainBatchParams,
	deps: BatchDependencies
): Promise<ExplainBatchResult> {
	const started = performance.now();
	const { dataset, size, labels } = deps;
	const classCount = dataset.classes.length;
	if (params.classIndex !== undefined && params.classIndex >= classCount) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Class ${params.classIndex} is not in ${dataset.name}, which has classes 0–${classCount - 1}; pick one of them.`
		);
	}
	const indices = selectBatchImages(
		dataset.test.labels,
		classCount,
		params.count,
		params.classIndex
	);
	if (indices.length === 0) {
		const which =
			params.classIndex === undefined
				? 'test images'
				: `test images of class "${dataset.classes[params.classIndex]}"`;
		throw new AppFailure(
			'INVALID_REQUEST',
			`${dataset.name} has no ${which}; choose another dataset or class.`
		);
	}
	const items: ExplainBatchResult['items'] = [];
	for (const [done, index] of indices.entries()) {
		if (deps.signal?.aborted) {
			throw new AppFailure(
				'CANCELLED',
				`The batch was cancelled after ${done} of ${indices.length} images.`
			);
		}
		const { rgb, maps } = await deps.explainImage(index);
		if (rgb.length !== size * size * 3 || maps.length !== labels.length) {
			throw new Error(
				`image ${index}: expected ${size}×${size} RGB and ${labels.length} maps, got ${rgb.length} bytes and ${maps.length} maps`
			);
		}
		for (const map of maps) {
			if (map.length !== size * size) {
				throw new Error(`image ${index}: a map has ${map.length} values, not ${size * size}`);
			}
		}
		items.push({
			index,
			labelIndex: dataset.test.labels[index] as number,
			rgb,
			maps: maps.map(mapToBytes),
			agreement: agreementOf(maps)
		});
		deps.onProgress?.(done + 1, indices.length);
	}
	return {
		size,
		classes: dataset.classes,
		labels,
		items,
		...summariseAgreement(items),
		seconds: (performance.now() - started) / 1000
	};
}
