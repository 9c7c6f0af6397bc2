/**
 * One training session of a run, as the trainer worker executes it: activate a backend, build
 * (or restore) the encoder, stream batches from the data threads, step, log, checkpoint.
 *
 * Everything random is a pure function of (seed, step) — the weights' initialisation, the data
 * order, every augmentation — so a session that starts from the checkpoint of step k trains
 * exactly the steps an uninterrupted run would have trained.
 */
import { AppFailure } from '../../core/api/errors';
import {
	estimateMeasuredSteps,
	estimatePhases,
	type CheckpointRecord,
	type MetricPoint,
	type RunEstimate,
	type RunEstimateProgress
} from '../../core/api/training';
import type { BackendId, BackendPreference, GpuAdapter } from '../../core/compute/backends';
import type { TrainConfig } from '../../core/training/config';
import { epochAt } from '../../core/training/data-order';
import { replicasFor } from '../../core/training/parallelism';
import { ContrastiveTrainer, type StepMetrics } from '../../core/training/trainer';
import { activateBackend, backendVariable, type ActiveBackend } from '../compute/activate-backend';
import { gpuChecked, GpuMemoryFailure, unlessDeviceLost } from '../compute/webgpu';
import { failpoint, untilAborted } from '../failpoints';
import { BatchPipeline } from './batch-pipeline';
import { checkBatchFits, probeBatchAfterOutOfMemory } from './batch-fit';
import { checkpointFileName, readCheckpoint, writeCheckpoint } from './checkpoint-files';
import { DataParallelTrainer } from './data-parallel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What the trainer worker is asked to do. */
export interface TrainJob {
	runId: number;
	config: TrainConfig;
	/** The backend preference after applying Settings to the run's own choice. */
	backend: BackendPreference;
	/** Why `auto` chose `backend` (its measured speeds), to record instead of the worker's reason. */
	backendReason?: string | null;
	/** The run's folder; checkpoints go into its `checkpoints/` sub-folder. */
	folder: string;
	resumeFrom: { path: string; sha256: string; step: number } | null;
	/**
	 * The run's training seconds at the step this session starts from (0 for a new run); its
	 * logged steps carry this plus the session's own wall time. Null when unknown (a run logged
	 * before times were recorded): its new steps then carry no time either.
	 */
	startSeconds: number | null;
	/** The built data-thread and replica-thread entries. */
	threadFiles: ThreadFiles;
	dataThreads: number;
	/** Replicas asked for (the run's own, else Settings'); null: the cores the data threads leave. */
	replicas: number | null;
	appVersion: string;
	/** How many of the newest checkpoints to keep on disk (the final one is always kept). */
	keepCheckpoints?: number;
}

/** What a session reports while it runs. */
export type TrainEvent =
	| {
			kind: 'started';
			backend: BackendId;
			backendReason: string;
			/** The WebGPU adapter, on `webgpu`. */
			adapter: GpuAdapter | null;
			/** Data-parallel replicas this session trains with (1: the step runs in the worker). */
			replicas: number;
			parameterCount: number;
			sourceLabel: string;
			count: number;
			startStep: number;
	  }
	| {
			kind: 'metrics';
			points: MetricPoint[];
			step: number;
			epoch: number;
			etaSeconds: number | null;
			/** Seconds of training since the previous report. */
			trainSeconds: number;
			/** Images skipped since the previous report, and a few examples of why. */
			skippedImages: number;
			skippedExamples: string[];
	  }
	| { kind: 'checkpointing'; step: number }
	| { kind: 'checkpoint'; checkpoint: Omit<CheckpointRecord, 'createdAt'>; removedSteps: number[] };

/** How a session ended. `stopped`: cancelled or paused by the caller after a checkpoint. */
export interface TrainOutcome {
	step: number;
	outcome: 'completed' | 'stopped' | 'diverged';
	message: string | null;
}

const reportEveryMs = 400;

/** Runs one session of a run until it completes, diverges or `signal` stops it. */
export async function runTraining(
	job: TrainJob,
	options: { signal: AbortSignal; emit: (event: TrainEvent) => void }
): Promise<TrainOutcome> {
	const { config } = job;
	const { signal, emit } = options;
	const backend = await prepareBackend(job.backend, config);
	const trainer = guardMemory(config, () => ContrastiveTrainer.create(config));
	let pipeline: BatchPipeline | null = null;
	let engine: StepEngine | null = null;
	let trainerAlive = true;
	try {
		let step = 0;
		if (job.resumeFrom) {
			const contents = readCheckpoint(job.resumeFrom.path, job.resumeFrom.sha256);
			trainer.restore(contents.tensors);
			step = job.resumeFrom.step;
		}
		pipeline = await openPipeline(config, trainer, job);
		const steps = await openEngine(trainer, config, backend.id, job);
		engine = steps;
		emit({
			kind: 'started',
			backend: backend.id,
			backendReason: `${
				job.backendReason && backend.id === job.backend ? job.backendReason : backend.reason
			}${steps.reason}`,
			adapter: backend.adapter,
			replicas: steps.replicas,
			parameterCount: trainer.parameterCount,
			sourceLabel: pipeline.label,
			count: pipeline.count,
			startStep: step
		});

		const checkpoints = new CheckpointWriter(
			{ ...job, config: { ...config, replicas: steps.replicas } },
			backend.id,
			trainer,
			emit
		);
		let lastCheckpoint = step;
		let pending: MetricPoint[] = [];
		let pendingSeconds = 0;
		let pendingSkipped = 0;
		let skippedExamples: string[] = [];
		let secondsPerStep: number | null = null;
		let lastReport = performance.now();
		const holdRun = failpoint('train.hold-run');
		const holdAfterStep =
			holdRun === null || holdRun === job.runId ? failpoint('train.hold-after-step') : null;
		const report = () => {
			if (pending.length === 0 && pendingSkipped === 0) return;
			emit({
				kind: 'metrics',
				points: pending,
				step,
				epoch: epochAt(step, config.batch, pipeline?.count ?? 1),
				etaSeconds: secondsPerStep === null ? null : secondsPerStep * (config.steps - step),
				trainSeconds: pendingSeconds,
				skippedImages: pendingSkipped,
				skippedExamples
			});
			pending = [];
			pendingSeconds = 0;
			pendingSkipped = 0;
			skippedExamples = [];
			lastReport = performance.now();
		};

		// The run's clock: the session's wall time from its first step (checkpoint writes
		// included), added to where the previous sessions left it.
		const sessionStarted = performance.now();
		const runSeconds = () =>
			job.startSeconds === null
				? null
				: job.startSeconds + (performance.now() - sessionStarted) / 1000;
		while (step < config.steps && !signal.aborted) {
			const started = performance.now();
			const batch = await pipeline.next(step);
			const metrics = await guardMemory(config, () =>
				gpuChecked(
					`a training step of ${config.model} at batch ${config.batch}`,
					steps.step(batch.views, step)
				)
			);
			const seconds = (performance.now() - started) / 1000;
			if (!Number.isFinite(metrics.loss)) {
				report();
				return {
					step,
					outcome: 'diverged',
					message: `The loss became ${metrics.loss} at step ${step + 1} (lr ${metrics.lr.toPrecision(3)}). Resume from the last checkpoint with a lower learning rate or Adam, or check the data source.`
				};
			}
			step++;
			// The first steps include warm-up (kernel compilation, thread start): they are not timed for the ETA.
			if (step - (job.resumeFrom?.step ?? 0) > 2) {
				secondsPerStep = secondsPerStep === null ? seconds : 0.9 * secondsPerStep + 0.1 * seconds;
			}
			pending.push({
				step,
				loss: metrics.loss,
				align: metrics.align,
				uniform: metrics.uniform,
				lr: metrics.lr,
				imagesPerSecond: config.batch / seconds,
				seconds: runSeconds()
			});
			pendingSeconds += seconds;
			pendingSkipped += batch.skipped;
			if (skippedExamples.length < 5) skippedExamples.push(...batch.skippedExamples.slice(0, 5));
			if (performance.now() - lastReport > reportEveryMs) report();
			if (step % config.checkpointEvery === 0 || step === config.steps) {
				report();
				await checkpoints.write(step);
				lastCheckpoint = step;
			}
			if (step === holdAfterStep) {
				report();
				await untilAborted(signal);
			}
		}
		report();
		if (step > lastCheckpoint) await checkpoints.write(step);
		return { step, outcome: step >= config.steps ? 'completed' : 'stopped', message: null };
	} catch (error) {
		if (!(error instanceof GpuMemoryFailure) || !backend.adapter) throw error;
		// Free this session's GPU memory first: the probe needs it.
		await engine?.close();
		engine = null;
		await pipeline?.close();
		pipeline = null;
		disposeQuietly(trainer);
		trainerAlive = false;
		const advice = await probeBatchAfterOutOfMemory(config, backend.adapter, config.batch);
		throw new GpuMemoryFailure(`${error.message} ${advice}`);
	} finally {
		await engine?.close();
		await pipeline?.close();
		if (trainerAlive) disposeQuietly(trainer);
	}
}

/**
 * Activates the session's backend and tells the data threads (which may run the
 * feature-visualisation generator) to use it too; on webgpu, refuses a batch the adapter cannot
 * hold before anything trains.
 */
async function prepareBackend(
	preference: BackendPreference,
	config: TrainConfig
): Promise<ActiveBackend> {
	const backend = await activateBackend(preference);
	process.env[backendVariable] = backend.id;
	if (backend.id === 'webgpu' && backend.adapter) await checkBatchFits(config, backend.adapter);
	return backend;
}

/** Measures a configuration: one warm-up step, then up to a few timed steps. */
export async function estimateRun(
	config: TrainConfig,
	options: {
		backend: BackendPreference;
		threadFiles: ThreadFiles;
		dataThreads: number;
		replicas: number | null;
		signal: AbortSignal;
		maxSeconds?: number;
		/** Each stage as it starts: the preparations, then each timed step. */
		onProgress?: (event: EstimateEvent) => void;
	}
): Promise<RunEstimate> {
	const total = estimatePhases.length - 1 + estimateMeasuredSteps;
	const budget = (options.maxSeconds ?? 8) * 1000;
	const report = (
		phase: EstimatePhase,
		done: number,
		message: string,
		etaSeconds: number | null = null
	) => {
		if (options.signal.aborted) throw new AppFailure('CANCELLED', 'The estimate was cancelled.');
		options.onProgress?.({ phase, done, total, message, etaSeconds });
	};
	report('backend', 0, `Starting the ${options.backend} backend…`);
	const backend = await prepareBackend(options.backend, config);
	report('model', 1, `Building ${config.model} on ${backend.id}…`);
	const trainer = guardMemory(config, () => ContrastiveTrainer.create(config));
	let pipeline: BatchPipeline | null = null;
	const what = `a training step of ${config.model} at batch ${config.batch}`;
	let engine: StepEngine | null = null;
	try {
		report('data', 2, 'Opening the data pipeline…');
		pipeline = await openPipeline(config, trainer, options);
		const open = await openEngine(trainer, config, backend.id, options);
		engine = open;
		report('warm-up', 3, 'A first, untimed step (compiles the kernels)…');
		const warmUpStarted = performance.now();
		const warmUp = await pipeline.next(0);
		await guardMemory(config, () => gpuChecked(what, open.step(warmUp.views, 0)));
		// The warm-up bounds a timed step from above (it also compiled): a fair first ETA.
		const warmUpMs = performance.now() - warmUpStarted;
		const started = performance.now();
		const left = (measured: number, perStepMs: number) =>
			Math.min(
				(estimateMeasuredSteps - measured) * perStepMs,
				budget - (performance.now() - started)
			) / 1000;
		let measured = 0;
		while (measured < estimateMeasuredSteps) {
			const perStepMs = measured === 0 ? warmUpMs : (performance.now() - started) / measured;
			report(
				'measuring',
				4 + measured,
				`Timing step ${measured + 1} of at most ${estimateMeasuredSteps}…`,
				Math.max(0, left(measured, perStepMs))
			);
			const batch = await pipeline.next(measured + 1);
			await guardMemory(config, () => gpuChecked(what, open.step(batch.views, measured + 1)));
			measured++;
			if (performance.now() - started > budget) break;
		}
		const secondsPerStep = (performance.now() - started) / 1000 / measured;
		report('measuring', total, `Timed ${measured} step${measured === 1 ? '' : 's'}.`, 0);
		return {
			backend: backend.id,
			replicas: open.replicas,
			parameterCount: trainer.parameterCount,
			secondsPerStep,
			imagesPerSecond: config.batch / secondsPerStep,
			totalSeconds: secondsPerStep * config.steps,
			measuredSteps: measured
		};
	} finally {
		await engine?.close();
		await pipeline?.close();
		disposeQuietly(trainer);
	}
}

/** A stage of an estimate (see {@link estimatePhases}); the service adds the request's job id. */
export type EstimateEvent = Omit<RunEstimateProgress, 'jobId'>;
type EstimatePhase = (typeof estimatePhases)[number];

/** The built thread entries a session starts. */
export interface ThreadFiles {
	/** `train-data-thread.cjs`. */
	data: string;
	/** `train-replica.cjs`. */
	replica: string;
}

/** What runs a session's steps: the trainer itself, or its data-parallel replicas. */
interface StepEngine {
	replicas: number;
	/** Appended to the backend's reason: how many replicas and why. */
	reason: string;
	step(views: Float32Array, step: number): Promise<StepMetrics>;
	close(): Promise<void>;
}

/**
 * Replicas on wasm when more than one is asked for or the cores allow it; the trainer alone
 * otherwise (TensorFlow backends use every core by themselves).
 */
async function openEngine(
	trainer: ContrastiveTrainer,
	config: TrainConfig,
	backend: BackendId,
	options: { threadFiles: ThreadFiles; dataThreads: number; replicas: number | null }
): Promise<StepEngine> {
	const single = (reason: string): StepEngine => ({
		replicas: 1,
		reason,
		step: (views, step) => trainer.step(views, step),
		close: () => Promise.resolve()
	});
	if (backend !== 'wasm') {
		return single(
			options.replicas !== null && options.replicas > 1
				? ` Replicas apply to wasm only; ${backend} uses every core itself.`
				: ''
		);
	}
	const cores = os.availableParallelism();
	const replicas = replicasFor({
		requested: options.replicas,
		cores,
		dataThreads: options.dataThreads,
		batch: config.batch
	});
	const why =
		options.replicas === null
			? `${cores} cores, ${options.dataThreads} data thread${options.dataThreads === 1 ? '' : 's'}`
			: 'as asked';
	if (replicas === 1) return single(` 1 replica (${why}).`);
	const parallel = await guardMemory(config, () =>
		DataParallelTrainer.start({
			trainer,
			config,
			replicas,
			threadFile: options.threadFiles.replica
		})
	);
	return {
		replicas,
		reason: ` ${replicas} replicas (${why}).`,
		step: (views, step) => parallel.step(views, step),
		close: () => parallel.close()
	};
}

/** The batch stream of a run: its source and augmentations at the encoder's input size. */
function openPipeline(
	config: TrainConfig,
	trainer: ContrastiveTrainer,
	threads: { dataThreads: number; threadFiles: ThreadFiles }
): Promise<BatchPipeline> {
	return BatchPipeline.open({
		source: config.source,
		augment: config.augment,
		inputSize: trainer.inputSize,
		batch: config.batch,
		seed: config.seed,
		threads: threads.dataThreads,
		threadFile: threads.threadFiles.data
	});
}

/** Writes checkpoints with their metadata and keeps only the newest few. */
class CheckpointWriter {
	private readonly written: number[] = [];

	constructor(
		private readonly job: TrainJob,
		private readonly backend: BackendId,
		private readonly trainer: ContrastiveTrainer,
		private readonly emit: (event: TrainEvent) => void
	) {
		const folder = this.folder();
		if (fs.existsSync(folder)) {
			for (const name of fs.readdirSync(folder).sort()) {
				const match = /^step-(\d+)\.nlck$/.exec(name);
				if (match) this.written.push(Number(match[1]));
				// Half-written files of a session that died while checkpointing.
				else if (name.endsWith('.tmp')) fs.rmSync(path.join(folder, name), { force: true });
			}
		}
	}

	async write(step: number): Promise<void> {
		this.emit({ kind: 'checkpointing', step });
		const tensors = await unlessDeviceLost(this.trainer.snapshot());
		const checkpoint = writeCheckpoint(this.folder(), step, {
			meta: {
				format: 'noiselab-checkpoint',
				runId: this.job.runId,
				step,
				model: this.job.config.model,
				config: this.job.config,
				parameterCount: this.trainer.parameterCount,
				backend: this.backend,
				appVersion: this.job.appVersion,
				createdAt: new Date().toISOString(),
				// Data order and augmentations are pure functions of (seed, step): the step is the RNG state.
				rng: { seed: this.job.config.seed, step }
			},
			tensors
		});
		if (!this.written.includes(step)) this.written.push(step);
		const keep = this.job.keepCheckpoints ?? 2;
		const removedSteps = this.written.splice(0, Math.max(0, this.written.length - keep));
		for (const old of removedSteps) {
			fs.rmSync(path.join(this.folder(), checkpointFileName(old)), { force: true });
		}
		this.emit({ kind: 'checkpoint', checkpoint, removedSteps });
	}

	private folder(): string {
		return path.join(this.job.folder, 'checkpoints');
	}
}

/** Turns the many ways tfjs reports exhausted memory into one clear error. */
function guardMemory<T>(config: TrainConfig, action: () => T): T {
	const explain = (error: unknown): never => {
		const message = error instanceof Error ? error.message : String(error);
		if (
			/out of memory|\bOOM\b|allocation failed|Cannot enlarge memory|memory access out of bounds/i.test(
				message
			)
		) {
			throw new AppFailure(
				'OUT_OF_MEMORY',
				`Out of memory training ${config.model} with batch ${config.batch} (${message.split('\n')[0]}). Use a smaller batch or model preset; the wasm backend has at most 4 GiB, TensorFlow (tfjs-node) has no such limit.`
			);
		}
		throw error;
	};
	try {
		const result = action();
		return (result instanceof Promise ? result.catch(explain) : result) as T;
	} catch (error) {
		return explain(error);
	}
}

/**
 * Frees the trainer without letting a second failure hide the first: after the wasm heap was
 * exhausted, freeing can fail too, and an exception thrown in a `finally` would replace the
 * out-of-memory error the user needs to see.
 */
function disposeQuietly(trainer: ContrastiveTrainer): void {
	try {
		trainer.dispose();
	} catch {
		// The process ends with the session; nothing is left to recover.
	}
}
