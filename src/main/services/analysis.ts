/**
 * Dataset analyses that need an encoder, each in an evaluator worker of its own: today improved
 * precision and recall of a noise source against real images (the paper's realism vs
 * diversity). The Studio calls it through the API; a study calls
 * {@link AnalysisService.precisionRecall} directly, once per source.
 */
import path from 'node:path';
import { AppFailure } from '../../core/api/errors';
import type {
	AnalysisProgress,
	PrecisionRecallParams,
	PrecisionRecallResult
} from '../../core/api/analysis';
import type { BackendPreference } from '../../core/compute/backends';
import type { EventBus } from '../events';
import type { PrecisionRecallJob } from '../evaluation/precision-recall-job';
import type { Store } from '../store/database';
import { getRun, listCheckpoints } from '../store/runs';
import type { TrainerTasks } from '../workers/entries/trainer';
import type { WorkerFactory } from '../workers/host';
import type { TrainedEncoders } from './trained-encoders';

export interface AnalysisServiceOptions {
	/** Decoded datasets are cached here (`<data>/cache/datasets`); features beside it. */
	cacheDir: string;
	preference: () => BackendPreference;
	encoders: TrainedEncoders;
}

/** Options of a direct call. */
export interface AnalysisCallOptions {
	/** Called with each progress report (also pushed as `analysis.progress` events). */
	onProgress?: (progress: AnalysisProgress) => void;
	signal?: AbortSignal;
}

/** Runs analyses; a new request with a running request's job id cancels the older one. */
export class AnalysisService {
	private readonly jobs = new Map<string, AbortController>();
	private closed = false;

	constructor(
		private readonly workers: WorkerFactory,
		private readonly store: () => Store,
		private readonly events: EventBus,
		private readonly options: AnalysisServiceOptions
	) {}

	/**
	 * Improved precision and recall of `params.noise` against `params.dataset` in the feature
	 * space of `params.encoder` (k-NN manifolds, k = 3 by default). Resolves with the scores;
	 * fails with CANCELLED when cancelled (by `cancel`, `signal` or a newer request with the same
	 * job id), NOT_FOUND for a missing run, checkpoint or encoder, INVALID_REQUEST for a bad source.
	 */
	async precisionRecall(
		params: PrecisionRecallParams,
		call: AnalysisCallOptions = {}
	): Promise<PrecisionRecallResult> {
		const job: PrecisionRecallJob = {
			params: { ...params, noise: this.pinnedNoise(params.noise) },
			encoder: this.encoderOf(params.encoder),
			backend: this.options.preference(),
			cacheDir: this.options.cacheDir
		};
		const { jobId } = params;
		this.jobs.get(jobId)?.abort();
		const controller = new AbortController();
		this.jobs.set(jobId, controller);
		const abort = () => controller.abort();
		call.signal?.addEventListener('abort', abort);
		if (call.signal?.aborted) controller.abort();
		const worker = this.workers.start<TrainerTasks>('trainer');
		try {
			const result = await worker.run('precisionRecall', job, {
				signal: controller.signal,
				cancelGraceMs: 30_000,
				onProgress: (event) => {
					if (this.closed) return;
					const progress = { jobId, ...event };
					this.events.emit('analysis.progress', progress);
					call.onProgress?.(progress);
				}
			});
			if (!result.ok) throw new AppFailure(result.error.code, result.error.message);
			return result.value;
		} finally {
			worker.stop();
			call.signal?.removeEventListener('abort', abort);
			if (this.jobs.get(jobId) === controller) this.jobs.delete(jobId);
		}
	}

	/** Stops the running request with this job id. */
	cancel(jobId: string): { cancelled: boolean } {
		const controller = this.jobs.get(jobId);
		if (!controller) return { cancelled: false };
		controller.abort();
		return { cancelled: true };
	}

	/** Stops every running analysis (the app is closing). */
	close(): void {
		this.closed = true;
		for (const controller of this.jobs.values()) controller.abort();
	}

	/** A generator source with its trained encoder (if any) pinned; a folder must be absolute. */
	private pinnedNoise(noise: PrecisionRecallParams['noise']): PrecisionRecallParams['noise'] {
		if (noise.kind === 'generator')
			return { ...noise, config: this.options.encoders.pin(noise.config) };
		if (!path.isAbsolute(noise.path)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`The noise image folder must be an absolute path; got ${JSON.stringify(noise.path)}.`
			);
		}
		return noise;
	}

	private encoderOf(encoder: PrecisionRecallParams['encoder']): PrecisionRecallJob['encoder'] {
		if (encoder.kind === 'random-init') {
			return {
				model: encoder.model,
				seed: encoder.seed,
				checkpoint: null,
				label: `random init (${encoder.model}, seed ${encoder.seed})`
			};
		}
		const db = this.store().db;
		const run = getRun(db, encoder.runId);
		if (!run) throw new AppFailure('NOT_FOUND', `There is no run ${encoder.runId}.`);
		const checkpoint = listCheckpoints(db, run.id).at(-1);
		if (!checkpoint) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Run ${run.id} “${run.name}” has no checkpoint yet; measure with it once it has trained for ${run.config.checkpointEvery} steps or finished.`
			);
		}
		return {
			model: run.config.model,
			seed: run.config.seed,
			checkpoint: { path: checkpoint.path, sha256: checkpoint.sha256 },
			label: `run ${run.id} “${run.name}” (${run.config.model}, step ${checkpoint.step})`
		};
	}
}
