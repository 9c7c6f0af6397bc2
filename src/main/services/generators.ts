/**
 * The Generator Studio's service: previews and diagnostics in a long-lived generator worker,
 * exports in a worker each, user presets and the dataset records in SQLite.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type { z } from 'zod';
import type { ApiParsedParams, ApiResult } from '../../core/api/contract';
import { AppFailure, type Result } from '../../core/api/errors';
import type { GeneratorInfo, PresetInfo, UserPreset } from '../../core/api/generators';
import type { generatorConfigSchema } from '../../core/api/generators';
import { generators, presets, resolveConfig } from '../../core/generators/registry';
import { outputVersion } from '../../core/generators/generator';
import type { ApiCaller } from '../api/dispatcher';
import type { EventBus } from '../events';
import {
	planExport,
	type ExportProgress,
	type ExportRequest,
	type ExportSummary
} from '../generation/export-dataset';
import type { Store } from '../store/database';
import {
	finishDataset,
	listDatasets,
	markInterruptedDatasets,
	startDataset,
	updateDatasetProgress
} from '../store/datasets';
import { deletePreset, listPresets, renamePreset, savePreset } from '../store/presets';
import type {
	GeneratorTasks,
	PreviewProgress,
	SpeedMeasurement
} from '../workers/entries/generator';
import type { WorkerClient, WorkerFactory } from '../workers/host';
import type { TrainedEncoders } from './trained-encoders';

type GeneratorConfig = z.output<typeof generatorConfigSchema>;

interface RunningExport {
	controller: AbortController;
	datasetId: number;
}

/** How often a running export writes its progress to SQLite. */
const progressWriteMs = 2000;

/** Owns the generator workers; every method is one API call. */
export class GeneratorService {
	private previewWorker: WorkerClient<GeneratorTasks> | null = null;
	private readonly streams = new Map<string, AbortController>();
	private readonly exports = new Map<string, RunningExport>();
	/** Set when the app closes: late worker messages must not touch the closed store. */
	private closed = false;

	/** `store` throws when the store could not open, which the dispatcher reports. */
	constructor(
		private readonly workers: WorkerFactory,
		private readonly store: () => Store,
		private readonly events: EventBus,
		/** Pins the trained encoders that configurations name, before any worker sees them. */
		private readonly encoders: TrainedEncoders
	) {}

	/** Marks exports that a previous session left running as cancelled. */
	recoverInterrupted(): void {
		markInterruptedDatasets(this.store().db);
	}

	/** Generators (with their schemas as data) and built-in presets. */
	catalogue(): { generators: GeneratorInfo[]; presets: PresetInfo[] } {
		return {
			generators: generators.map(({ id, family, label, description, version, speed, params }) => ({
				id,
				family,
				label,
				description,
				version,
				speed,
				params: params as GeneratorInfo['params']
			})),
			presets: presets.map((preset) => ({ ...preset }))
		};
	}

	/**
	 * Renders previews; an older request on the same stream (of the same caller) is cancelled, and
	 * so is this one when its caller's connection closes.
	 */
	async preview(
		request: ApiParsedParams<'generators.preview'>,
		caller?: ApiCaller
	): Promise<ApiResult<'generators.preview'>> {
		const started = performance.now();
		const { progressiveId } = request;
		const config = this.encoders.pin(request.config);
		// Stream images only once a grid turns out to be slow (streamAfterMs): a fast grid arrives whole.
		const onProgress =
			progressiveId === undefined
				? undefined
				: (progress: PreviewProgress) => {
						if (performance.now() - started < request.streamAfterMs) return;
						if ('image' in progress)
							this.events.emit('generators.previewImage', { progressiveId, image: progress.image });
						else
							this.events.emit('generators.previewTextures', {
								progressiveId,
								...progress.textures
							});
					};
		const images = await this.inStream(request.stream, caller, (worker, signal) =>
			worker.run(
				'preview',
				{ ...flatten(config), seed: request.seed, indices: request.indices },
				{ signal, ...(onProgress ? { onProgress } : {}) }
			)
		);
		return { images, milliseconds: performance.now() - started };
	}

	/**
	 * Cancels the request in flight on `stream` (a preview grid) of this caller; says whether
	 * there was one.
	 */
	cancelPreview(stream: string, caller?: ApiCaller): { cancelled: boolean } {
		const controller = this.streams.get(streamKey(stream, caller));
		controller?.abort();
		return { cancelled: controller !== undefined };
	}

	/** Diagnostics of a sample; cancelled as {@link preview} is. */
	diagnostics(
		request: ApiParsedParams<'generators.diagnostics'>,
		caller?: ApiCaller
	): Promise<ApiResult<'generators.diagnostics'>> {
		const config = this.encoders.pin(request.config);
		return this.inStream(request.stream, caller, (worker, signal) =>
			worker.run(
				'diagnostics',
				{ ...flatten(config), seed: request.seed, count: request.count },
				{ signal }
			)
		);
	}

	/** The user's presets. */
	listPresets(): UserPreset[] {
		return listPresets(this.store().db);
	}

	/**
	 * Saves a preset after checking its params against the generator's schema; an encoder it
	 * names is saved pinned to its current checkpoint, so the preset keeps drawing the same images.
	 */
	savePreset(request: ApiParsedParams<'presets.save'>): UserPreset {
		const resolved = resolveConfig(this.encoders.pin(request));
		if (!resolved.ok) throw new AppFailure('INVALID_REQUEST', resolved.message);
		const saved = savePreset(this.store().db, {
			...request,
			params: resolved.value.params,
			generatorVersion: outputVersion(resolved.value.generator, resolved.value.params)
		});
		this.announcePresets();
		return saved;
	}

	/** Renames a preset. */
	renamePreset(id: number, name: string): UserPreset {
		const renamed = renamePreset(this.store().db, id, name);
		this.announcePresets();
		return renamed;
	}

	/** Deletes a preset. */
	deletePreset(id: number): { deleted: boolean } {
		const deleted = deletePreset(this.store().db, id);
		this.announcePresets();
		return { deleted };
	}

	/** What a configuration needs before it can generate (a trained encoder), and whether it is there. */
	requirements(config: GeneratorConfig): ApiResult<'generators.requirements'> {
		return this.encoders.requirements(config);
	}

	/** A configuration with the trained encoders it names pinned to their checkpoints. */
	pin(config: GeneratorConfig): GeneratorConfig {
		return this.encoders.pin(config);
	}

	/** Exported datasets. */
	listDatasets(): ApiResult<'datasets.list'> {
		return listDatasets(this.store().db);
	}

	/** Starts an export in its own worker; progress and the end arrive as events. */
	startExport(request: ApiParsedParams<'datasets.export'>): { jobId: string; datasetId: number } {
		const { jobId, datasetId } = this.beginExport(request);
		return { jobId, datasetId };
	}

	/**
	 * Exports a dataset for the work queue (a study's cached dataset): the same export as the
	 * Studio's, recorded in the datasets list, resolving when it ends; `signal` stops it after
	 * the images in progress, and a later export into the same folder resumes it.
	 */
	async exportForQueue(
		request: ApiParsedParams<'datasets.export'>,
		options: { signal: AbortSignal; onProgress: (progress: ExportProgress) => void }
	): Promise<Result<ExportSummary>> {
		const { jobId, done } = this.beginExport(request, options.onProgress);
		const stop = () => this.cancelExport(jobId);
		options.signal.addEventListener('abort', stop);
		if (options.signal.aborted) stop();
		try {
			return await done;
		} finally {
			options.signal.removeEventListener('abort', stop);
		}
	}

	/**
	 * Measures a generator's speed on one thread of a worker of its own: one cold image, then
	 * `seconds` of steady generation. A generator whose first image takes longer than
	 * `limitSeconds` is stopped there and reported as slower than that.
	 */
	async measureSpeed(
		config: GeneratorConfig,
		options: { seed: number; seconds: number; limitSeconds: number }
	): Promise<{ measurement: SpeedMeasurement | null; slowerThan: number | null }> {
		const worker = this.workers.start<GeneratorTasks>('generator');
		try {
			const result = await worker.run(
				'measure',
				{ ...flatten(this.encoders.pin(config)), seed: options.seed, seconds: options.seconds },
				{ timeoutMs: (options.limitSeconds + options.seconds + 5) * 1000, cancelGraceMs: 1000 }
			);
			if (result.ok) return { measurement: result.value, slowerThan: null };
			if (result.error.code === 'WORKER_TIMEOUT') {
				return { measurement: null, slowerThan: options.limitSeconds };
			}
			throw new AppFailure(result.error.code, result.error.message);
		} finally {
			worker.stop();
		}
	}

	private beginExport(
		request: ApiParsedParams<'datasets.export'>,
		onProgress?: (progress: ExportProgress) => void
	): { jobId: string; datasetId: number; done: Promise<Result<ExportSummary>> } {
		if (!path.isAbsolute(request.outDir)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`The destination must be an absolute folder path; got ${JSON.stringify(request.outDir)}.`
			);
		}
		const exportRequest: ExportRequest = {
			...flatten(this.encoders.pin(request.config)),
			seed: request.seed,
			count: request.count,
			startIndex: 0,
			outDir: request.outDir,
			format: request.format,
			quality: request.quality,
			shards: request.shards
		};
		const plan = planExport(exportRequest);
		if (!plan.ok) throw new AppFailure(plan.error.code, plan.error.message);
		const { wanted } = plan.value;
		const db = this.store().db;
		const dataset = startDataset(db, {
			path: plan.value.outDir,
			generator: wanted.generator.id,
			preset: wanted.preset,
			params: wanted.params,
			size: wanted.size,
			seed: wanted.seed,
			count: wanted.count,
			format: wanted.format
		});
		const jobId = crypto.randomUUID();
		const controller = new AbortController();
		this.exports.set(jobId, { controller, datasetId: dataset.id });
		const worker = this.workers.start<GeneratorTasks>('generator');
		let lastWrite = 0;
		const done = worker
			.run('export', exportRequest, {
				signal: controller.signal,
				onProgress: (progress) => {
					onProgress?.(progress);
					this.events.emit('datasets.progress', {
						jobId,
						datasetId: dataset.id,
						...progress
					});
					if (!this.closed && performance.now() - lastWrite > progressWriteMs) {
						lastWrite = performance.now();
						updateDatasetProgress(db, dataset.id, progress.done);
					}
				}
			})
			.then((result) => {
				this.finishExport(jobId, dataset.id, result);
				return result;
			})
			.finally(() => worker.stop());
		return { jobId, datasetId: dataset.id, done };
	}

	/** Cancels a running export; returns false when it is not running. */
	cancelExport(jobId: string): { cancelled: boolean } {
		const running = this.exports.get(jobId);
		if (!running) return { cancelled: false };
		running.controller.abort();
		return { cancelled: true };
	}

	/**
	 * The compute backend changed in Settings: the preview worker read the old one from its
	 * environment (feature visualisation computes with tfjs), so the next preview starts a new one.
	 */
	backendChanged(): void {
		this.previewWorker?.stop();
		this.previewWorker = null;
	}

	/** Stops every worker (the app is closing). */
	close(): void {
		this.closed = true;
		for (const running of this.exports.values()) running.controller.abort();
		for (const controller of this.streams.values()) controller.abort();
		this.previewWorker?.stop();
	}

	private finishExport(jobId: string, datasetId: number, result: Result<ExportSummary>): void {
		this.exports.delete(jobId);
		if (this.closed) return; // The export resumes next time; its row is recovered at start-up.
		let store: Store;
		try {
			store = this.store();
		} catch {
			return;
		}
		const status = result.ok
			? result.value.manifest.complete
				? 'complete'
				: 'cancelled'
			: result.error.code === 'CANCELLED'
				? 'cancelled'
				: 'failed';
		const record = finishDataset(store.db, datasetId, {
			status,
			error: result.ok ? null : result.error.message,
			manifest: result.ok ? result.value.manifest : null
		});
		if (record) this.events.emit('datasets.finished', { jobId, dataset: record });
	}

	private announcePresets(): void {
		this.events.emit('presets.changed', listPresets(this.store().db));
	}

	/**
	 * Runs one request of a stream: streams are per caller (each tab has its own 'default'), and a
	 * caller's closing connection aborts its requests, running or queued.
	 */
	private async inStream<T>(
		name: string,
		caller: ApiCaller | undefined,
		run: (worker: WorkerClient<GeneratorTasks>, signal: AbortSignal) => Promise<Result<T>>
	): Promise<T> {
		const stream = streamKey(name, caller);
		const superseded = this.streams.get(stream);
		superseded?.abort();
		const controller = new AbortController();
		this.streams.set(stream, controller);
		const hangUp = () => controller.abort();
		if (caller?.signal.aborted) hangUp();
		caller?.signal.addEventListener('abort', hangUp, { once: true });
		try {
			let result = await run(this.worker(), controller.signal);
			// The request this one superseded may hold the worker inside one long synchronous image;
			// the worker is then stopped after the cancel grace, and this request, queued behind it,
			// is drawn again on a fresh worker instead of failing with the other's crash.
			if (
				!result.ok &&
				result.error.code === 'WORKER_CRASHED' &&
				superseded !== undefined &&
				!controller.signal.aborted
			) {
				result = await run(this.worker(), controller.signal);
			}
			if (!result.ok) throw new AppFailure(result.error.code, result.error.message);
			return result.value;
		} finally {
			caller?.signal.removeEventListener('abort', hangUp);
			if (this.streams.get(stream) === controller) this.streams.delete(stream);
		}
	}

	/** The preview worker, started on first use and again after a crash. */
	private worker(): WorkerClient<GeneratorTasks> {
		if (this.previewWorker?.alive) return this.previewWorker;
		const worker = this.workers.start<GeneratorTasks>('generator');
		worker.onCrash(() => {
			if (this.previewWorker === worker) this.previewWorker = null;
		});
		this.previewWorker = worker;
		return worker;
	}
}

function flatten(
	config: GeneratorConfig
): Pick<ExportRequest, 'preset' | 'generator' | 'params' | 'size'> {
	return {
		...(config.preset === undefined ? {} : { preset: config.preset }),
		...(config.generator === undefined ? {} : { generator: config.generator }),
		params: config.params,
		...(config.size === undefined ? {} : { size: config.size })
	};
}

/** Streams are per caller: each tab has its own 'default'. */
function streamKey(name: string, caller: ApiCaller | undefined): string {
	return caller ? `${caller.id}:${name}` : name;
}
