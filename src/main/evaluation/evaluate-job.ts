/**
 * One evaluation group as the evaluator worker runs it: load the dataset once, then for each
 * encoder (the run's, the random-init control, a real-data run) extract frozen features and
 * score them with the linear probe or kNN (`paper-protocol.md` §4).
 */
import path from 'node:path';
import { AppFailure } from '../../core/api/errors';
import type { EvaluateParams, EvaluationMetrics, EvaluationRole } from '../../core/api/evaluation';
import type { EvalDataset, LabelledSplit } from '../../core/evaluation/dataset';
import { extractFeatures } from '../../core/evaluation/features';
import type { FeatureLayer } from '../../core/encoders/architecture';
import { buildEncoder, weightsKey, type EncoderRecipe } from '../../core/encoders/build';
import { knnClassifyMany } from '../../core/evaluation/knn';
import { accuracy } from '../../core/evaluation/metrics';
import { predictProbe, topKAccuracy, trainLinearProbe } from '../../core/evaluation/linear-probe';
import {
	featureStatistics,
	standardizeInPlace,
	type FeatureStatistics
} from '../../core/evaluation/standardize';
import { generateStructuredTask, structuredTasks } from '../../core/evaluation/structured-tasks';
import { Random } from '../../core/generators/random';
import type { BackendPreference } from '../../core/compute/backends';
import { activateBackend } from '../compute/activate-backend';
import { gpuChecked } from '../compute/webgpu';
import { readCheckpoint } from '../training/checkpoint-files';
import { cachedFeatures, splitHash } from './feature-cache';
import { loadDataset } from './loaders/index';
import { writeProbeFile, type StoredProbe } from './probe-files';

/**
 * Seed of the images of a structured task and of the split of a folder without train/ and
 * val/. Fixed, so every evaluation of a dataset sees the same test set; the evaluation's own
 * seed varies only the probe (its initialisation, shuffles and crops).
 */
export const datasetSeed = 0;

/** The size of the built-in structured tasks: small enough to evaluate in seconds on a CPU. */
export const structuredTaskSize = { train: 2000, test: 500, size: 64 } as const;

/** One encoder to measure. */
export interface EncoderToEvaluate {
	evaluationId: number;
	role: EvaluationRole;
	/** Architecture, normalisation and random-init seed. */
	recipe: EncoderRecipe;
	/** The layer read: the request's, or its equivalent in this architecture. */
	layer: FeatureLayer;
	/** Null for the random-init control. */
	checkpoint: { path: string; sha256: string } | null;
	/**
	 * Where a linear evaluation keeps its trained probe (`probeFilePath`, in the run's folder) for
	 * Explain; null (or absent) keeps none. kNN evaluations have no probe.
	 */
	probePath?: string | null;
}

/** What the evaluator worker is asked to do. */
export interface EvaluateJob {
	params: EvaluateParams;
	encoders: EncoderToEvaluate[];
	backend: BackendPreference;
	/** Where decoded datasets are cached (`<data>/cache/datasets`). */
	cacheDir: string | null;
}

/** What the job reports while it runs. */
export type EvaluateEvent =
	| {
			kind: 'progress';
			evaluationId: number;
			phase: 'loading' | 'features' | 'training' | 'scoring';
			done: number;
			total: number;
			message: string;
	  }
	| {
			kind: 'result';
			evaluationId: number;
			metrics: EvaluationMetrics;
			seconds: number;
			/** The probe file written, or null: a kNN evaluation, none asked, or a failed write. */
			probePath: string | null;
			/** Why the probe could not be kept, when the metrics are fine but the file is not. */
			probeError: string | null;
	  }
	| { kind: 'failed'; evaluationId: number; code: string; message: string };

/** Opens a dataset by name: a structured task, a built-in or a folder. */
export async function openEvalDataset(
	name: string,
	options: { seed: number; cacheDir: string | null; signal?: AbortSignal }
): Promise<EvalDataset> {
	if (name.startsWith('structured:')) {
		const id = name.slice('structured:'.length);
		if (!structuredTasks.some((task) => task.id === id)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`There is no structured task "${id}". Tasks: ${structuredTasks.map((task) => task.id).join(', ')}.`
			);
		}
		return generateStructuredTask(id, { ...structuredTaskSize, seed: options.seed });
	}
	return loadDataset(name, {
		seed: options.seed,
		cacheDir: options.cacheDir,
		...(options.signal ? { signal: options.signal } : {})
	});
}

/**
 * The indices of at most `limit` images of a split, the same number per class where possible
 * (seeded), ascending; all of them when the split is not larger than `limit`.
 */
export function stratifiedIndices(split: LabelledSplit, limit: number, seed: number): Int32Array {
	const count = split.labels.length;
	if (limit >= count) return Int32Array.from({ length: count }, (_, i) => i);
	const order = Array.from({ length: count }, (_, i) => i);
	new Random(seed, 0x5eb5e7).shuffle(order);
	const classes = Math.max(...split.labels) + 1;
	const perClass = Math.ceil(limit / classes);
	const taken = new Map<number, number>();
	const chosen: number[] = [];
	for (const index of order) {
		const label = split.labels[index] as number;
		if ((taken.get(label) ?? 0) >= perClass) continue;
		taken.set(label, (taken.get(label) ?? 0) + 1);
		chosen.push(index);
		if (chosen.length === limit) break;
	}
	return Int32Array.from(chosen).sort();
}

/** The images {@link stratifiedIndices} picks, as a split (the split itself when it is small). */
export function stratifiedSubset(split: LabelledSplit, limit: number, seed: number): LabelledSplit {
	if (limit >= split.labels.length) return split;
	const chosen = stratifiedIndices(split, limit, seed);
	const { images } = split;
	const stride = images.width * images.height * images.channels;
	const data = new Uint8Array(chosen.length * stride);
	chosen.forEach((index, row) =>
		data.set(images.data.subarray(index * stride, (index + 1) * stride), row * stride)
	);
	return {
		images: { ...images, count: chosen.length, data },
		labels: Int32Array.from(chosen, (index) => split.labels[index] as number)
	};
}

/** Runs every encoder of the group; a failing encoder is reported and the others still run. */
export async function runEvaluation(
	job: EvaluateJob,
	options: { signal: AbortSignal; emit: (event: EvaluateEvent) => void }
): Promise<void> {
	const { params } = job;
	const { signal, emit } = options;
	const first = job.encoders[0];
	if (!first) return;
	emit({
		kind: 'progress',
		evaluationId: first.evaluationId,
		phase: 'loading',
		done: 0,
		total: 1,
		message: `Loading ${params.dataset}…`
	});
	await activateBackend(job.backend);
	const dataset = await openEvalDataset(params.dataset, {
		seed: datasetSeed,
		cacheDir: job.cacheDir,
		signal
	});
	const train =
		params.maxTrain === null
			? dataset.train
			: stratifiedSubset(dataset.train, params.maxTrain, params.seed);
	const classes = dataset.classes.length;
	for (const encoder of job.encoders) {
		if (signal.aborted) return;
		const started = performance.now();
		try {
			const { metrics, probe } = await gpuChecked(
				`the evaluation of the ${encoder.role} encoder`,
				evaluateEncoder(encoder, { ...dataset, train }, classes, params, {
					signal,
					emit,
					cacheDir: job.cacheDir
				})
			);
			let probePath: string | null = null;
			let probeError: string | null = null;
			if (probe && encoder.probePath) {
				// The metrics stand without the file: a failed write costs only Explain's class targets.
				try {
					writeProbeFile(encoder.probePath, probe);
					probePath = encoder.probePath;
				} catch (error) {
					probeError = (error as Error).message;
				}
			}
			emit({
				kind: 'result',
				evaluationId: encoder.evaluationId,
				metrics,
				seconds: (performance.now() - started) / 1000,
				probePath,
				probeError
			});
		} catch (error) {
			if (signal.aborted) return;
			const failure =
				error instanceof AppFailure
					? error
					: new AppFailure('INTERNAL', `Evaluation failed: ${(error as Error).message}`);
			emit({
				kind: 'failed',
				evaluationId: encoder.evaluationId,
				code: failure.code,
				message: failure.message
			});
		}
	}
}

async function evaluateEncoder(
	encoder: EncoderToEvaluate,
	dataset: EvalDataset,
	classes: number,
	params: EvaluateParams,
	options: {
		signal: AbortSignal;
		emit: (event: EvaluateEvent) => void;
		cacheDir: string | null;
	}
): Promise<{ metrics: EvaluationMetrics; probe: StoredProbe | null }> {
	const { signal, emit } = options;
	const tensors = encoder.checkpoint
		? readCheckpoint(encoder.checkpoint.path, encoder.checkpoint.sha256).tensors
		: null;
	const model = buildEncoder(encoder.recipe, tensors);
	const featureCacheDir =
		options.cacheDir === null ? null : path.join(path.dirname(options.cacheDir), 'features');
	try {
		const linear = params.protocol === 'linear';
		const trainPasses = linear ? params.views : 1;
		const total = dataset.test.images.count + trainPasses * dataset.train.images.count;
		let done = 0;
		const progress = (phase: 'features', what: string) => async (count: number) => {
			emit({
				kind: 'progress',
				evaluationId: encoder.evaluationId,
				phase,
				done: done + count,
				total,
				message: `Extracting ${encoder.layer} features (${what})`
			});
			// Lets a cancel message in between batches.
			await new Promise<void>((resolve) => setImmediate(resolve));
		};
		const extract = async (
			split: LabelledSplit,
			view: Parameters<typeof extractFeatures>[2]['view'],
			what: string
		) => {
			const result = await cachedFeatures(
				featureCacheDir,
				{
					encoder: weightsKey(encoder.recipe, encoder.checkpoint),
					images: splitHash(split),
					layer: encoder.layer,
					view
				},
				() =>
					extractFeatures(model, split.images, {
						layer: encoder.layer,
						view,
						signal,
						onProgress: progress('features', what)
					})
			);
			done += split.images.count;
			return result;
		};
		const test = await extract(dataset.test, { kind: 'centre' }, 'test images');
		const base = {
			trainImages: dataset.train.images.count,
			testImages: dataset.test.images.count,
			classes,
			featureDim: test.dim
		};
		if (!linear) {
			const train = await extract(dataset.train, { kind: 'centre' }, 'training images');
			emit({
				kind: 'progress',
				evaluationId: encoder.evaluationId,
				phase: 'scoring',
				done: 0,
				total: 1,
				message: 'kNN voting'
			});
			const results = await knnClassifyMany(
				train.features,
				dataset.train.labels,
				test.features,
				test.dim,
				classes,
				{ ks: params.knnK, temperature: params.temperature }
			);
			const knn: Record<string, number> = {};
			params.knnK.forEach((k, index) => {
				knn[String(k)] = accuracy(
					results[index]?.predicted ?? new Int32Array(0),
					dataset.test.labels
				);
			});
			return {
				metrics: { ...base, top1: knn[String(params.knnK[0])] ?? 0, top5: null, knn },
				probe: null
			};
		}
		const views: Float32Array[] = [];
		for (let view = 0; view < params.views; view++) {
			const extracted = await extract(
				dataset.train,
				{ kind: 'augmented', seed: params.seed, view },
				`training crop ${view + 1} of ${params.views}`
			);
			views.push(extracted.features);
		}
		let statistics: FeatureStatistics | null = null;
		if (params.standardize) {
			// Statistics of the first view stand for all: crops of the same images.
			statistics = featureStatistics(views[0] ?? new Float32Array(0), test.dim);
			for (const view of views) standardizeInPlace(view, test.dim, statistics);
			standardizeInPlace(test.features, test.dim, statistics);
		}
		const probe = await trainLinearProbe(views, dataset.train.labels, test.dim, classes, {
			epochs: params.epochs,
			seed: params.seed,
			signal,
			onEpoch: (epoch) =>
				emit({
					kind: 'progress',
					evaluationId: encoder.evaluationId,
					phase: 'training',
					done: epoch + 1,
					total: params.epochs,
					message: 'Training the linear probe'
				})
		});
		const { logits } = await predictProbe(probe, test.features);
		const top1 = topKAccuracy(logits, dataset.test.labels, classes, 1);
		return {
			metrics: {
				...base,
				top1,
				top5: classes > 10 ? topKAccuracy(logits, dataset.test.labels, classes, 5) : null,
				knn: null
			},
			probe: {
				layer: encoder.layer,
				dim: probe.dim,
				weight: probe.weight,
				bias: probe.bias,
				standardization: statistics,
				classes: dataset.classes,
				dataset: params.dataset,
				accuracy: top1
			}
		};
	} finally {
		model.dispose();
	}
}
