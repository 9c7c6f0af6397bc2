/**
 * Improved precision and recall of a noise dataset against real images, as the evaluator worker
 * runs it: the real side is a stratified sample of an evaluation dataset's training images, the
 * noise side the first n images of a generator configuration (or a seeded sample of a folder),
 * both embedded by the same frozen encoder with the evaluation's test transform (centred crop),
 * through the evaluation feature cache, then scored in the encoder's raw feature space.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppFailure } from '../../core/api/errors';
import type {
	AnalysisProgress,
	PrecisionRecallParams,
	PrecisionRecallResult
} from '../../core/api/analysis';
import type { BackendPreference } from '../../core/compute/backends';
import { buildEncoder, presetRecipe } from '../../core/encoders/build';
import { extractFeatures, extractFeaturesOf } from '../../core/evaluation/features';
import { improvedPrecisionRecall } from '../../core/evaluation/precision-recall';
import { resolveConfig } from '../../core/generators/registry';
import { outputVersion } from '../../core/generators/generator';
import { Random } from '../../core/generators/random';
import type { SourceImage } from '../../core/training/augment';
import type { ModelPresetId } from '../../core/training/config';
import { activateBackend } from '../compute/activate-backend';
import { readCheckpoint } from '../training/checkpoint-files';
import { folderDataSource, scanImageFolder } from '../training/data-source';
import { datasetSeed, openEvalDataset, stratifiedSubset } from './evaluate-job';
import { cachedFeatures, splitHash } from './feature-cache';

/** What the evaluator worker is asked to do; the service has resolved the run and the config. */
export interface PrecisionRecallJob {
	params: PrecisionRecallParams;
	encoder: {
		model: ModelPresetId;
		seed: number;
		/** Null at random init. */
		checkpoint: { path: string; sha256: string } | null;
		label: string;
	};
	backend: BackendPreference;
	/** Where decoded datasets are cached (`<data>/cache/datasets`); features go beside it. */
	cacheDir: string | null;
}

/** Progress, without the job id the service adds. */
export type PrecisionRecallEvent = Omit<AnalysisProgress, 'jobId'>;

/** Longest side of a folder image as decoded: the centred crop then shrinks it to 32–64 px. */
const folderMaxSide = 256;

/** Measures precision and recall; stops between images and rows when `signal` aborts. */
export async function runPrecisionRecall(
	job: PrecisionRecallJob,
	options: { signal: AbortSignal; emit: (event: PrecisionRecallEvent) => void }
): Promise<PrecisionRecallResult> {
	const { params, encoder } = job;
	const { signal, emit } = options;
	const started = performance.now();
	const yieldForCancel = () => new Promise<void>((resolve) => setImmediate(resolve));
	const checkCancel = () => {
		if (signal.aborted) throw new AppFailure('CANCELLED', 'Precision and recall were cancelled.');
	};
	emit({ phase: 'loading', done: 0, total: 1, message: `Loading ${params.dataset}…` });
	await activateBackend(job.backend);
	const noise = await openNoise(params);
	const dataset = await openEvalDataset(params.dataset, {
		seed: datasetSeed,
		cacheDir: job.cacheDir,
		signal
	});
	checkCancel();
	const real = stratifiedSubset(dataset.train, params.samples, params.seed);
	const tensors = encoder.checkpoint
		? readCheckpoint(encoder.checkpoint.path, encoder.checkpoint.sha256).tensors
		: null;
	const model = buildEncoder(presetRecipe(encoder.model, encoder.seed), tensors);
	const featureDir =
		job.cacheDir === null ? null : path.join(path.dirname(job.cacheDir), 'features');
	const encoderIdentity =
		encoder.checkpoint?.sha256 ?? `random-init:${encoder.model}:${encoder.seed}`;
	try {
		const realFeatures = await cachedFeatures(
			featureDir,
			{
				encoder: encoderIdentity,
				images: splitHash(real),
				layer: params.layer,
				view: { kind: 'centre' }
			},
			() =>
				extractFeatures(model, real.images, {
					layer: params.layer,
					view: { kind: 'centre' },
					signal,
					onProgress: async (done, total) => {
						emit({ phase: 'real', done, total, message: `Embedding ${params.dataset} images` });
						await yieldForCancel();
					}
				})
		);
		checkCancel();
		const noiseFeatures = await cachedFeatures(
			featureDir,
			{
				encoder: encoderIdentity,
				noise: noise.identity,
				layer: params.layer,
				view: { kind: 'centre' }
			},
			() =>
				extractFeaturesOf(
					model,
					noise.count,
					async (index) => {
						await yieldForCancel();
						checkCancel();
						const image = await noise.image(index);
						emit({
							phase: 'noise',
							done: index + 1,
							total: noise.count,
							message: `${noise.verb} noise images`
						});
						return image;
					},
					{ layer: params.layer, view: { kind: 'centre' }, signal }
				)
		);
		checkCancel();
		const scores = await improvedPrecisionRecall(
			realFeatures.features,
			noiseFeatures.features,
			realFeatures.dim,
			{
				k: params.k,
				signal,
				onProgress: async (done, total) => {
					emit({ phase: 'scoring', done, total, message: 'Comparing the k-NN manifolds' });
					await yieldForCancel();
				}
			}
		);
		return {
			precision: scores.precision,
			recall: scores.recall,
			k: scores.k,
			layer: params.layer,
			noiseCount: scores.generatedCount,
			realCount: scores.realCount,
			featureDim: realFeatures.dim,
			dataset: params.dataset,
			encoderLabel: encoder.label,
			encoderSha256: encoder.checkpoint?.sha256 ?? null,
			noiseLabel: noise.label,
			cached: { noise: noiseFeatures.cached, real: realFeatures.cached },
			seconds: (performance.now() - started) / 1000
		};
	} finally {
		model.dispose();
	}
}

/** The noise side: how many images, each by index, and what identifies them for the cache. */
interface NoiseImages {
	count: number;
	image(index: number): Promise<SourceImage>;
	identity: Record<string, unknown>;
	label: string;
	/** "Generating" or "Reading", for progress messages. */
	verb: string;
}

/** Whether `values` are not exactly the preset's parameters. */
function differsFromPreset(preset: string, values: Record<string, unknown>): boolean {
	const original = resolveConfig({ preset });
	return !original.ok || JSON.stringify(original.value.params) !== JSON.stringify(values);
}

async function openNoise(params: PrecisionRecallParams): Promise<NoiseImages> {
	const { noise, samples } = params;
	if (noise.kind === 'generator') {
		const resolved = resolveConfig(noise.config);
		if (!resolved.ok) throw new AppFailure('INVALID_REQUEST', resolved.message);
		const { generator, params: values, size, preset } = resolved.value;
		const name =
			preset === null
				? generator.id
				: differsFromPreset(preset, values)
					? `${preset} (custom)`
					: preset;
		return {
			count: samples,
			image: async (index) => {
				const image = await generator.generate(values, noise.seed, index, size);
				return { width: image.size, height: image.size, data: image.data };
			},
			// Image i is a pure function of these, so they stand for the pixels.
			identity: {
				generator: generator.id,
				version: outputVersion(generator, values),
				params: values,
				size,
				seed: noise.seed,
				count: samples
			},
			label: `${name} · ${size} px · seed ${noise.seed} · ${samples} images`,
			verb: 'Generating'
		};
	}
	const folder = path.resolve(noise.path);
	const files = await scanImageFolder(folder);
	if (files.length < samples) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`${folder} holds ${files.length} images; precision and recall of ${samples} samples need at least as many. Ask for fewer samples.`
		);
	}
	const order = Array.from({ length: files.length }, (_, i) => i);
	new Random(params.seed, 0xf01de5).shuffle(order);
	const chosen = order.slice(0, samples).sort((a, b) => a - b);
	const source = folderDataSource(folder, files, folderMaxSide);
	const listing = crypto.createHash('sha256');
	for (const index of chosen) {
		const file = files[index] as string;
		const stat = fs.statSync(path.join(folder, file));
		listing.update(`${file}\0${stat.size}\0${stat.mtimeMs}\n`);
	}
	return {
		count: samples,
		image: (index) => source.load(chosen[index] as number),
		identity: { folder, files: listing.digest('hex'), maxSide: folderMaxSide },
		label: `${path.basename(folder)} · ${samples} of ${files.length} images`,
		verb: 'Reading'
	};
}
