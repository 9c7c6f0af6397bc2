/** Explain as the trainer worker runs it: open the dataset image, load the encoders, map them. */
import { AppFailure } from '../../core/api/errors';
import type { ExplainParams, ExplainResult } from '../../core/api/explain';
import { imageAt } from '../../core/evaluation/dataset';
import { loadEncoder } from '../../core/evaluation/features';
import type { BackendPreference } from '../../core/compute/backends';
import type { ModelPresetId } from '../../core/training/config';
import { activateTrainingBackend } from '../compute/training-backend';
import { datasetSeed, openEvalDataset } from '../evaluation/evaluate-job';
import { readCheckpoint } from '../training/checkpoint-files';
import { explainMaps } from './explain-image';

/** One encoder to explain; a null checkpoint is the run's random-init encoder. */
export interface EncoderToExplain {
	runId: number;
	randomInit: boolean;
	label: string;
	model: ModelPresetId;
	seed: number;
	checkpoint: { path: string; sha256: string } | null;
}

/** What the worker is asked to do. */
export interface ExplainJob {
	params: ExplainParams;
	encoders: EncoderToExplain[];
	backend: BackendPreference;
	cacheDir: string | null;
}

/** Computes the maps of every encoder on the dataset's test image. */
export async function runExplain(job: ExplainJob): Promise<ExplainResult> {
	const { params } = job;
	await activateTrainingBackend(job.backend);
	const dataset = await openEvalDataset(params.dataset, {
		seed: datasetSeed,
		cacheDir: job.cacheDir
	});
	const count = dataset.test.images.count;
	if (params.index >= count) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`${params.dataset} has ${count} test images; index ${params.index} is past the end.`
		);
	}
	const encoders = job.encoders.map((spec) => ({
		label: spec.label,
		encoder: loadEncoder(
			spec.model,
			spec.seed,
			spec.checkpoint ? readCheckpoint(spec.checkpoint.path, spec.checkpoint.sha256).tensors : null
		)
	}));
	try {
		const explained = await explainMaps(imageAt(dataset.test.images, params.index), encoders, {
			method: params.method,
			layer: params.layer
		});
		return {
			size: explained.size,
			rgb: explained.rgb,
			label: dataset.classes[dataset.test.labels[params.index] ?? -1] ?? null,
			encoders: explained.encoders.map((encoder, index) => ({
				label: encoder.label,
				runId: job.encoders[index]?.runId ?? 0,
				randomInit: job.encoders[index]?.randomInit ?? false,
				map: Uint8Array.from(encoder.map, (value) => Math.round(value * 255)),
				score: encoder.score,
				deletion: encoder.deletion,
				insertion: encoder.insertion
			})),
			agreement:
				explained.agreement === null || Number.isNaN(explained.agreement)
					? null
					: explained.agreement
		};
	} finally {
		for (const { encoder } of encoders) encoder.dispose();
	}
}
