/**
 * Training runs: creates them in SQLite, runs each session in a trainer worker, records its
 * metrics and checkpoints as they arrive, and turns pause, resume and cancel into worker
 * sessions that end at a checkpoint. The work queue (services/queue.ts) decides when a run
 * trains and on which lane; called directly, one run trains at a time (`BUSY` otherwise).
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppFailure, toAppError, type AppError, type Result } from '../../core/api/errors';
import {
	resumableStatuses,
	type CheckpointRecord,
	type RunDetail,
	type RunEstimate,
	type RunRecord,
	type RunStatus
} from '../../core/api/training';
import type { BackendPreference } from '../../core/compute/backends';
import { resolveConfig } from '../../core/generators/registry';
import type { TrainConfig } from '../../core/training/config';
import type { BackendChoice } from '../compute/backend-monitor';
import { isDiskFull } from '../durable-file';
import type { EventBus } from '../events';
import { builtinDatasetNames } from '../evaluation/loaders';
import type { Store } from '../store/database';
import {
	addCheckpoint,
	appendMetrics,
	secondsAtStep,
	createRun,
	deleteRun,
	endRunSession,
	getRun,
	listCheckpoints,
	listMetrics,
	listRuns,
	publicRecord,
	markInterruptedRuns,
	removeCheckpoint,
	rewindRun,
	setRunStatus,
	startRunSession,
	updateRun,
	type StoredRun
} from '../store/runs';
import type { BundleReaderTasks } from '../workers/entries/bundle-reader';
import type { TrainerTasks } from '../workers/entries/trainer';
import type { WorkerClient, WorkerFactory } from '../workers/host';
import type { RunBundle } from '../training/bundle-reader';
import { exportRunBundle, importRunBundle } from '../training/run-bundle';
import type { TrainedEncoders } from './trained-encoders';
import type { TrainEvent, TrainOutcome } from '../training/train-loop';

/** A training session in progress. */
interface Session {
	runId: number;
	steps: number;
	worker: WorkerClient<TrainerTasks>;
	controller: AbortController;
	/** Why the caller stopped it, if it did. */
	intent: 'pause' | 'cancel' | null;
	/** Why the service stopped it: recording its progress failed (e.g. the disk is full). */
	failure: AppError | null;
	sessionId: number | null;
	/** The step the session started from, and the latest one it reported. */
	startStep: number;
	step: number;
	/** The queue lane's backend it runs on (null: the run's own), to resume on the same lane. */
	laneBackend: BackendPreference | null;
	ended: Promise<void>;
}

/** Reading the largest bundle the limits allow (2 GiB) takes seconds; this is for a stuck disk. */
const bundleReadTimeoutMs = 10 * 60_000;

/** A cancel may land mid-step and is followed by a checkpoint, which for the paper's model is ~0.5 GB. */
const stopGraceMs = 10 * 60_000;

export interface TrainingServiceOptions {
	/** Where run folders are created (`<data>/runs`). */
	runsDir: string;
	/** The backend preference from Settings, applied to runs that say `auto`. */
	preference: () => BackendPreference;
	/** The replicas from Settings, for runs that do not choose (null: automatic). */
	replicas?: () => number | null;
	appVersion: string;
	/** Data threads per session; default: one per spare core. */
	dataThreads?: number;
	/**
	 * Turns a preference into the backend a run's model should use (BackendMonitor.choose: `auto`
	 * measures the candidates); default: the preference as it is.
	 */
	choose?: (
		preference: BackendPreference,
		model: TrainConfig['model'],
		batch: number,
		onMeasure: (message: string) => void
	) => Promise<BackendChoice>;
	/** Pins generator sources that name a trained encoder (feature_vis-dead_leaves). */
	encoders?: TrainedEncoders;
}

/** The Training lab's service layer. */
export class TrainingService {
	private readonly sessions = new Map<number, Session>();
	/** Running estimates that have a job id, to cancel them. */
	private readonly estimates = new Map<string, AbortController>();
	private closed = false;

	constructor(
		private readonly workers: WorkerFactory,
		private readonly store: () => Store,
		private readonly events: EventBus,
		private readonly options: TrainingServiceOptions
	) {}

	/** Marks runs that were training when NoiseLab last stopped as interrupted (resumable). */
	recoverInterrupted(): void {
		markInterruptedRuns(this.store().db);
	}

	list(): RunRecord[] {
		return listRuns(this.store().db).map(publicRecord);
	}

	get(id: number, metricsAfter = -1): RunDetail {
		const db = this.store().db;
		return {
			run: publicRecord(this.require(id)),
			metrics: listMetrics(db, id, metricsAfter),
			checkpoints: listCheckpoints(db, id)
		};
	}

	/** Creates a run and starts its first session; a request that cannot train creates nothing. */
	start(request: { name?: string | undefined; config: TrainConfig }): RunRecord {
		this.assertIdle();
		// The run records the pinned encoder checkpoint, never `newest:…`.
		const config = this.pinEncoders(request.config);
		validateSource(config);
		const run = this.create({ ...request, config }, 'running');
		this.launchOrFail(run, null, null);
		this.events.emit('runs.changed', publicRecord(run));
		return publicRecord(run);
	}

	/**
	 * Creates a run that has not trained yet (stored `paused` at step 0) for the work queue to
	 * start. Folder sources are checked unless `folderMayNotExistYet` (a study's cached dataset,
	 * which the queue generates first).
	 */
	createForQueue(
		request: { name?: string | undefined; config: TrainConfig },
		options: { folderMayNotExistYet?: boolean } = {}
	): StoredRun {
		// The run records the pinned encoder checkpoint, never `newest:…`.
		const config = this.pinEncoders(request.config);
		if (!(options.folderMayNotExistYet && config.source.kind === 'folder')) validateSource(config);
		return this.create({ ...request, config }, 'paused');
	}

	/** Stops the running session after a checkpoint; the run becomes `paused`. */
	pause(id: number): RunRecord {
		const run = this.require(id);
		const session = this.sessions.get(id);
		if (!session) {
			throw new AppFailure('INVALID_REQUEST', `Run "${run.name}" is ${run.status}, not running.`);
		}
		session.intent = 'pause';
		session.controller.abort();
		return publicRecord(run);
	}

	/**
	 * Continues a paused, interrupted or failed run from its newest intact checkpoint (a run that
	 * never trained starts from step 0). The queue passes its lane: its backend, and no `BUSY`
	 * check, since the queue itself keeps one training per lane.
	 */
	resume(id: number, lane?: { backend: BackendPreference | null }): RunRecord {
		const run = this.require(id);
		if (lane === undefined) this.assertIdle();
		else if (this.sessions.has(id)) {
			throw new AppFailure('BUSY', `Run "${run.name}" is already training.`);
		}
		const checkpoint = this.resumePoint(run);
		const db = this.store().db;
		const from = checkpoint?.step ?? 0;
		rewindRun(db, id, from);
		const resumed = setRunStatus(db, id, 'running') as StoredRun;
		this.launchOrFail(
			resumed,
			checkpoint
				? { path: checkpoint.path, sha256: checkpoint.sha256, step: checkpoint.step }
				: null,
			lane?.backend ?? null
		);
		this.events.emit('runs.changed', publicRecord(resumed));
		return publicRecord(resumed);
	}

	/**
	 * Checks that a run could resume now, changing nothing: the queue refuses a resume it could
	 * not carry out before it queues it (everything but a busy lane).
	 */
	checkResumable(id: number): void {
		this.resumePoint(this.require(id));
	}

	/**
	 * Everything that can refuse a resume, checked before the run's state changes; returns the
	 * newest intact checkpoint, or undefined for a run that never trained.
	 */
	private resumePoint(run: StoredRun): CheckpointRecord | undefined {
		if (!resumableStatuses.includes(run.status)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Run "${run.name}" is ${run.status}; only ${resumableStatuses.join(', ')} runs can be resumed.`
			);
		}
		validateSource(run.config);
		// Its generator's encoder may have left the cache: pin it again from its run.
		this.pinEncoders(run.config);
		const recorded = listCheckpoints(this.store().db, run.id);
		const checkpoint = [...recorded]
			.reverse()
			.find((candidate) => fileHasSize(candidate.path, candidate.bytes));
		if (!checkpoint && recorded.length > 0) {
			throw new AppFailure(
				'NOT_FOUND',
				`None of the checkpoints of run "${run.name}" is on disk any more (the newest was ${recorded.at(-1)?.path}); resuming would start it over from step 0 and drop its history. Restore the run's folder, or start a new run with the same settings.`
			);
		}
		return checkpoint;
	}

	/** Stops a run for good (a running one after a final checkpoint). */
	cancel(id: number): RunRecord {
		const run = this.require(id);
		const session = this.sessions.get(id);
		if (session) {
			session.intent = 'cancel';
			session.controller.abort();
			return publicRecord(run);
		}
		if (!resumableStatuses.includes(run.status)) {
			throw new AppFailure('INVALID_REQUEST', `Run "${run.name}" is already ${run.status}.`);
		}
		return this.changeStatus(id, 'cancelled', null) ?? publicRecord(run);
	}

	/** Renames a run or changes its tags or notes. */
	update(id: number, change: { name?: string; tags?: string[]; notes?: string }): RunRecord {
		this.require(id);
		const run = updateRun(this.store().db, id, change) as StoredRun;
		this.events.emit('runs.changed', publicRecord(run));
		return publicRecord(run);
	}

	/** Deletes a run that is not training, with its folder of checkpoints. */
	delete(id: number): { deleted: boolean } {
		const run = this.require(id);
		if (this.sessions.has(id)) {
			throw new AppFailure('BUSY', `Run "${run.name}" is training; cancel it before deleting it.`);
		}
		// The row first: a folder left behind by a failed delete is harmless, a row without files is not.
		const deleted = deleteRun(this.store().db, id);
		if (deleted && run.folder.startsWith(this.options.runsDir)) {
			fs.rmSync(run.folder, { recursive: true, force: true });
		}
		return { deleted };
	}

	/** Writes a run into one bundle file (an absolute path); see {@link exportRunBundle}. */
	exportBundle(id: number, file: string, overwrite = false): { path: string; bytes: number } {
		if (!path.isAbsolute(file)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Give an absolute file path; got ${JSON.stringify(file)}.`
			);
		}
		return exportRunBundle(this.store().db, id, file, overwrite);
	}

	/**
	 * Adds the run of a bundle file as a new run. The file is read and checked in a worker
	 * process (it may be huge, hostile or damaged); only a bundle that passed every check is
	 * written into the store and the runs folder.
	 */
	async importBundle(file: string): Promise<RunRecord> {
		if (!path.isAbsolute(file)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Give an absolute file path; got ${JSON.stringify(file)}.`
			);
		}
		const worker = this.workers.start<BundleReaderTasks>('bundle-reader');
		let bundle: RunBundle;
		try {
			const read = await worker.run('read', { path: file }, { timeoutMs: bundleReadTimeoutMs });
			if (!read.ok) throw new AppFailure(read.error.code, read.error.message);
			bundle = read.value;
		} finally {
			worker.stop();
		}
		const run = importRunBundle(this.store().db, bundle, this.options.runsDir, file);
		this.events.emit('runs.changed', run);
		return run;
	}

	/**
	 * Measures a configuration in a worker of its own. With a job id, each stage is pushed as
	 * `runs.estimateProgress` and {@link cancelEstimate} stops it (a newer request with the same
	 * id stops the older one); it then fails with CANCELLED.
	 */
	async estimate(request: TrainConfig, jobId: string | null = null): Promise<RunEstimate> {
		const config = this.pinEncoders(request);
		validateSource(config);
		const controller = new AbortController();
		if (jobId !== null) {
			this.estimates.get(jobId)?.abort();
			this.estimates.set(jobId, controller);
		}
		try {
			const choice = await this.chooseBackend(config, null, () => undefined);
			if (controller.signal.aborted) {
				throw new AppFailure('CANCELLED', 'The estimate was cancelled.');
			}
			const worker = this.workers.start<TrainerTasks>('trainer');
			try {
				const result = await worker.run(
					'estimate',
					{
						config,
						backend: choice.backend,
						replicas: this.replicasFor(config),
						...(this.options.dataThreads === undefined
							? {}
							: { dataThreads: this.options.dataThreads })
					},
					{
						timeoutMs: 300_000,
						signal: controller.signal,
						// An estimate holds nothing worth a graceful stop: its worker just goes.
						cancelGraceMs: 1_000,
						onProgress: (event) => {
							if (jobId !== null && !this.closed) {
								this.events.emit('runs.estimateProgress', { jobId, ...event });
							}
						}
					}
				);
				if (!result.ok) throw new AppFailure(result.error.code, result.error.message);
				return result.value;
			} finally {
				worker.stop();
			}
		} finally {
			if (jobId !== null && this.estimates.get(jobId) === controller) this.estimates.delete(jobId);
		}
	}

	/** Stops the running estimate with this job id. */
	cancelEstimate(jobId: string): { cancelled: boolean } {
		const controller = this.estimates.get(jobId);
		if (!controller) return { cancelled: false };
		controller.abort();
		return { cancelled: true };
	}

	/**
	 * Resolves when no session is running: every current one has ended and been recorded, and
	 * so has any session one of them resumed by itself (after a lost GPU device).
	 */
	async idle(): Promise<void> {
		while (this.sessions.size > 0) {
			await Promise.all([...this.sessions.values()].map((session) => session.ended));
		}
	}

	/** Resolves when the run has no session any more (including one it resumed by itself). */
	async ended(id: number): Promise<void> {
		for (let session = this.sessions.get(id); session; session = this.sessions.get(id)) {
			await session.ended;
		}
	}

	/** Whether the run is training in this process. */
	isTraining(id: number): boolean {
		return this.sessions.has(id);
	}

	/** A stored run (with its stored status), or NOT_FOUND. */
	stored(id: number): StoredRun {
		return this.require(id);
	}

	/**
	 * The app is closing: the workers are stopped without a final checkpoint, and the runs stay
	 * `running` in the store, so the next start marks them interrupted (resumable).
	 */
	close(): void {
		this.closed = true;
		for (const session of this.sessions.values()) session.worker.stop();
		for (const estimate of this.estimates.values()) estimate.abort();
	}

	private create(
		request: { name?: string | undefined; config: TrainConfig },
		status: 'running' | 'paused'
	): StoredRun {
		const { config } = request;
		return createRun(
			this.store().db,
			{
				name: request.name ?? null,
				config,
				sourceLabel: describeSource(config),
				appVersion: this.options.appVersion,
				status
			},
			(id) => path.join(this.options.runsDir, `run-${id}`)
		);
	}

	/**
	 * Starts a session of a run already marked `running`; if that fails, the run is marked
	 * `failed` with the reason rather than left `running` with nothing training it.
	 */
	private launchOrFail(
		run: StoredRun,
		resumeFrom: { path: string; sha256: string; step: number } | null,
		backend: BackendPreference | null
	): void {
		try {
			this.launch(run, resumeFrom, backend);
		} catch (error) {
			this.sessions.delete(run.id);
			const failure = toAppError(error);
			this.changeStatus(run.id, 'failed', `Could not start training: ${failure.message}`);
			throw new AppFailure(failure.code, failure.message);
		}
	}

	private launch(
		run: StoredRun,
		resumeFrom: { path: string; sha256: string; step: number } | null,
		backend: BackendPreference | null
	): void {
		const worker = this.workers.start<TrainerTasks>('trainer');
		const controller = new AbortController();
		const session: Session = {
			runId: run.id,
			steps: run.steps,
			worker,
			controller,
			intent: null,
			failure: null,
			sessionId: null,
			startStep: resumeFrom?.step ?? 0,
			step: resumeFrom?.step ?? 0,
			laneBackend: backend,
			ended: Promise.resolve()
		};
		this.sessions.set(run.id, session);
		this.emitProgress(session, 'starting', null, null, 'Starting the trainer…');
		session.ended = this.chooseBackend(run.config, backend, (message) =>
			this.emitProgress(session, 'starting', null, null, message)
		)
			.then((choice): Promise<Result<TrainOutcome>> | Result<TrainOutcome> =>
				controller.signal.aborted
					? { ok: false, error: { code: 'CANCELLED', message: 'Stopped before it started.' } }
					: this.train(session, run, resumeFrom, choice)
			)
			.catch((error: unknown): Result<TrainOutcome> => ({ ok: false, error: toAppError(error) }))
			.then((result) => this.finish(session, result))
			.finally(() => worker.stop());
	}

	/** Runs the session's worker task on the chosen backend. */
	private train(
		session: Session,
		run: StoredRun,
		resumeFrom: { path: string; sha256: string; step: number } | null,
		choice: BackendChoice
	): Promise<Result<TrainOutcome>> {
		return session.worker.run(
			'train',
			{
				runId: run.id,
				config: run.config,
				backend: choice.backend,
				backendReason: choice.reason,
				replicas: this.replicasFor(run.config),
				folder: run.folder,
				resumeFrom,
				startSeconds: secondsAtStep(this.store().db, run.id, resumeFrom?.step ?? 0),
				appVersion: this.options.appVersion,
				...(this.options.dataThreads === undefined ? {} : { dataThreads: this.options.dataThreads })
			},
			{
				signal: session.controller.signal,
				cancelGraceMs: stopGraceMs,
				onProgress: (event) => this.record(session, event)
			}
		);
	}

	/**
	 * Records a progress event. If the store cannot take it (a full disk refuses SQLite too),
	 * the session is stopped and the run fails with the reason, rather than training on unrecorded.
	 */
	private record(session: Session, event: TrainEvent): void {
		if (this.closed || session.failure) return;
		try {
			this.recordEvent(session, event);
		} catch (error) {
			session.failure = isDiskFull(error)
				? {
						code: 'DISK_FULL',
						message: `The disk holding the database is full: cannot record the progress of step ${session.step}.`
					}
				: {
						code: 'IO_ERROR',
						message: `Cannot record the run's progress: ${toAppError(error).message}`
					};
			session.controller.abort();
		}
	}

	private recordEvent(session: Session, event: TrainEvent): void {
		const db = this.store().db;
		switch (event.kind) {
			case 'started':
				session.sessionId = startRunSession(db, session.runId, {
					backend: event.backend,
					backendReason: event.backendReason,
					adapter: event.adapter,
					replicas: event.replicas,
					startStep: event.startStep,
					parameterCount: event.parameterCount,
					sourceLabel: event.sourceLabel
				});
				this.emitChanged(session.runId);
				this.emitProgress(session, 'training', null, null, event.backendReason);
				return;
			case 'metrics':
				session.step = event.step;
				appendMetrics(db, session.runId, event.points, {
					step: event.step,
					trainSeconds: event.trainSeconds,
					skippedImages: event.skippedImages
				});
				this.emitProgress(
					session,
					'training',
					event,
					event.etaSeconds,
					event.skippedExamples.length > 0
						? `Skipped unreadable images, e.g. ${event.skippedExamples[0]}`
						: ''
				);
				return;
			case 'checkpointing':
				this.emitProgress(
					session,
					'checkpointing',
					null,
					null,
					`Writing checkpoint ${event.step}…`
				);
				return;
			case 'checkpoint':
				addCheckpoint(db, session.runId, event.checkpoint);
				for (const step of event.removedSteps) removeCheckpoint(db, session.runId, step);
				return;
		}
	}

	private finish(session: Session, result: Result<TrainOutcome>): void {
		if (this.sessions.get(session.runId) === session) this.sessions.delete(session.runId);
		if (this.closed) return;
		let status: RunStatus;
		let error: string | null = null;
		if (session.failure) {
			status = 'failed';
			error = session.failure.message;
		} else if (result.ok) {
			const { outcome, message } = result.value;
			status =
				outcome === 'completed'
					? 'completed'
					: outcome === 'diverged'
						? 'diverged'
						: session.intent === 'cancel'
							? 'cancelled'
							: 'paused';
			error = message;
		} else if (result.error.code === 'CANCELLED' && session.intent !== null) {
			status = session.intent === 'cancel' ? 'cancelled' : 'paused';
		} else if (result.error.code === 'WORKER_CRASHED' || result.error.code === 'GPU_DEVICE_LOST') {
			status = 'interrupted';
			error = `${result.error.message} Resume continues from the last checkpoint.`;
		} else {
			status = 'failed';
			error = result.error.message;
		}
		const outcome = session.failure?.code ?? (result.ok ? result.value.outcome : result.error.code);
		const db = this.store().db;
		if (outcome === 'DISK_FULL') {
			const kept = listCheckpoints(db, session.runId).at(-1);
			error = `${error} ${kept ? `Its checkpoint of step ${kept.step} is intact: free some space, then resume the run and it continues from there.` : 'Free some space, then resume the run.'}`;
		}
		if (session.sessionId !== null) endRunSession(db, session.sessionId, session.step, outcome);
		this.changeStatus(session.runId, status, error);
		// A lost GPU device is usually a driver reset: a session that trained resumes once by
		// itself, in a fresh worker with a fresh device; one that lost it again without
		// progress stays interrupted for the user.
		if (!result.ok && result.error.code === 'GPU_DEVICE_LOST' && session.step > session.startStep) {
			try {
				this.resume(session.runId, { backend: session.laneBackend });
			} catch {
				// The run stays interrupted; the user's Resume reports why it cannot continue.
			}
		}
	}

	private changeStatus(id: number, status: RunStatus, error: string | null): RunRecord | undefined {
		const run = setRunStatus(this.store().db, id, status, error);
		if (!run) return undefined;
		this.events.emit('runs.changed', publicRecord(run));
		return publicRecord(run);
	}

	private emitChanged(id: number): void {
		const run = getRun(this.store().db, id);
		if (run) this.events.emit('runs.changed', publicRecord(run));
	}

	private emitProgress(
		session: Session,
		phase: 'starting' | 'training' | 'checkpointing',
		metrics: Extract<TrainEvent, { kind: 'metrics' }> | null,
		etaSeconds: number | null,
		message: string
	): void {
		const run = getRun(this.store().db, session.runId);
		this.events.emit('runs.progress', {
			runId: session.runId,
			phase,
			step: metrics?.step ?? session.step,
			steps: session.steps,
			epoch: metrics?.epoch ?? 0,
			backend: run?.backend ?? null,
			metric: metrics?.points.at(-1) ?? null,
			points: metrics?.points ?? [],
			etaSeconds,
			skippedImages: run?.skippedImages ?? 0,
			message
		});
	}

	/** The run's backend, or Settings' when the run says `auto`, through `options.choose`. */
	private chooseBackend(
		config: TrainConfig,
		lanePreference: BackendPreference | null,
		onMeasure: (message: string) => void
	): Promise<BackendChoice> {
		const preference =
			lanePreference ?? (config.backend === 'auto' ? this.options.preference() : config.backend);
		return this.options.choose
			? this.options.choose(preference, config.model, config.batch, onMeasure)
			: Promise.resolve({ backend: preference, reason: null });
	}

	private pinEncoders(config: TrainConfig): TrainConfig {
		return this.options.encoders?.pinTrainConfig(config) ?? config;
	}

	/** The run's own replicas (pinned by its first session), else Settings'. */
	private replicasFor(config: TrainConfig): number | null {
		return config.replicas ?? this.options.replicas?.() ?? null;
	}

	private assertIdle(): void {
		const [session] = this.sessions.values();
		if (!session) return;
		const running = getRun(this.store().db, session.runId);
		throw new AppFailure(
			'BUSY',
			`Run "${running?.name ?? session.runId}" is training; pause it or wait for it to finish (one run trains at a time).`
		);
	}

	private require(id: number): StoredRun {
		const run = getRun(this.store().db, id);
		if (!run) throw new AppFailure('NOT_FOUND', `There is no run ${id}.`);
		return run;
	}
}

/** Fails early, in the caller's request, on a source the worker could not open. */
function validateSource(config: TrainConfig): void {
	const { source } = config;
	if (source.kind === 'generator') {
		const resolved = resolveConfig(source.config);
		if (!resolved.ok) throw new AppFailure('INVALID_REQUEST', resolved.message);
		return;
	}
	if (source.kind === 'dataset') {
		// Built-in names are checked by the loader; a folder must at least exist.
		if (path.isAbsolute(source.dataset) && !fs.existsSync(source.dataset)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`The dataset folder ${source.dataset} does not exist.`
			);
		}
		if (!path.isAbsolute(source.dataset) && !builtinDatasetNames.includes(source.dataset)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Unknown dataset "${source.dataset}": use ${builtinDatasetNames.join(', ')} or an absolute path to a dataset folder.`
			);
		}
		return;
	}
	if (!path.isAbsolute(source.path)) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`The image folder must be an absolute path; got ${JSON.stringify(source.path)}.`
		);
	}
	if (!fs.existsSync(source.path) || !fs.statSync(source.path).isDirectory()) {
		throw new AppFailure('INVALID_REQUEST', `The image folder ${source.path} does not exist.`);
	}
}

/** A short description of a run's data, until the worker reports the exact one. */
export function describeSource(config: TrainConfig): string {
	const { source } = config;
	if (source.kind === 'folder') return `folder ${path.basename(source.path)}`;
	if (source.kind === 'dataset') return `${path.basename(source.dataset)} · training split`;
	const name = source.config.preset ?? source.config.generator ?? 'generator';
	return `${name} · virtual · ${source.count.toLocaleString('en-US')} images`;
}

function fileHasSize(file: string, bytes: number): boolean {
	try {
		return fs.statSync(file).size === bytes;
	} catch {
		return false;
	}
}
