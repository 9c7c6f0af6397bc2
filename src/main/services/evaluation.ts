/**
 * Evaluations: measure a run's frozen encoder on real (or structured) data with the linear
 * probe or kNN, next to its controls — the same architecture at random init and, when asked,
 * a run trained on real images — so a result reads "noise X%, random Y%, real Z%".
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { AppFailure, toAppError } from '../../core/api/errors';
import type { EncoderRecipe } from '../../core/encoders/build';
import type {
	EvalDatasetInfo,
	EvaluateParams,
	EvaluationRecord,
	EvaluationRole
} from '../../core/api/evaluation';
import type { BackendPreference } from '../../core/compute/backends';
import { structuredTasks } from '../../core/evaluation/structured-tasks';
import { correspondingLayer, layersOf } from '../../core/encoders/architecture';
import { recipeOfRun } from '../../core/encoders/build';
import type { EventBus } from '../events';
import type { EncoderToEvaluate, EvaluateEvent } from '../evaluation/evaluate-job';
import { structuredTaskSize } from '../evaluation/evaluate-job';
import { probeFilePath } from '../evaluation/probe-files';
import { listBuiltinDatasets } from '../evaluation/loaders/index';
import type { Store } from '../store/database';
import {
	createEvaluation,
	finishEvaluation,
	listEvaluations,
	listEvaluationsOfGroup,
	listRegisteredDatasets,
	markInterruptedEvaluations,
	saveRegisteredDataset
} from '../store/evaluations';
import { getRun, listCheckpoints, type StoredRun } from '../store/runs';
import type { TrainerTasks } from '../workers/entries/trainer';
import type { WorkerFactory } from '../workers/host';

/** A group of evaluations in progress. */
interface RunningGroup {
	controller: AbortController;
	ended: Promise<void>;
}

export interface EvaluationServiceOptions {
	/** Decoded datasets are cached here (`<data>/cache/datasets`). */
	cacheDir: string;
	/** The backend for an encoder: Settings' preference, `auto` measured per model preset. */
	backendFor: (recipe: EncoderRecipe) => Promise<BackendPreference>;
}

/** The Evaluate area's service layer. */
export class EvaluationService {
	private readonly groups = new Map<string, RunningGroup>();
	private closed = false;

	constructor(
		private readonly workers: WorkerFactory,
		private readonly store: () => Store,
		private readonly events: EventBus,
		private readonly options: EvaluationServiceOptions
	) {}

	/** Marks evaluations that were running when NoiseLab last stopped as cancelled. */
	recoverInterrupted(): void {
		markInterruptedEvaluations(this.store().db);
	}

	/** Every dataset the user can evaluate on, built-in first. */
	async datasets(): Promise<EvalDatasetInfo[]> {
		const builtin = (await listBuiltinDatasets()).map((dataset): EvalDatasetInfo => ({
			...dataset,
			kind: 'builtin',
			classes: null,
			trainCount: null,
			testCount: null
		}));
		const structured = structuredTasks.map((task): EvalDatasetInfo => ({
			name: `structured:${task.id}`,
			kind: 'structured',
			description: `${task.label}: ${task.description}`,
			available: true,
			detail: `Generated on the fly: ${structuredTaskSize.train} train and ${structuredTaskSize.test} test images at ${structuredTaskSize.size} px.`,
			classes: task.classes,
			trainCount: structuredTaskSize.train,
			testCount: structuredTaskSize.test
		}));
		const registered = listRegisteredDatasets(this.store().db).map((dataset): EvalDatasetInfo => ({
			name: dataset.path,
			kind: 'registered',
			description: path.basename(dataset.path),
			available: true,
			detail: dataset.notes.join(' ') || `${dataset.classes.length} classes`,
			classes: dataset.classes,
			trainCount: dataset.trainCount,
			testCount: dataset.testCount
		}));
		return [...builtin, ...structured, ...registered];
	}

	/** Checks a dataset folder in a worker (its layout, classes, unreadable files) and remembers it. */
	async registerDataset(folder: string): Promise<EvalDatasetInfo> {
		if (!path.isAbsolute(folder)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`The dataset folder must be an absolute path; got ${JSON.stringify(folder)}.`
			);
		}
		const worker = this.workers.start<TrainerTasks>('trainer');
		try {
			const result = await worker.run(
				'inspectDataset',
				{ path: folder, cacheDir: this.options.cacheDir },
				{ timeoutMs: 30 * 60_000 }
			);
			if (!result.ok) throw new AppFailure(result.error.code, result.error.message);
			const { classes, trainCount, testCount, notes } = result.value;
			saveRegisteredDataset(this.store().db, {
				path: folder,
				classes,
				trainCount,
				testCount,
				notes
			});
			return {
				name: folder,
				kind: 'registered',
				description: path.basename(folder),
				available: true,
				detail: notes.join(' ') || `${classes.length} classes`,
				classes,
				trainCount,
				testCount
			};
		} finally {
			worker.stop();
		}
	}

	list(runId?: number): EvaluationRecord[] {
		return listEvaluations(this.store().db, runId);
	}

	/**
	 * Starts an evaluation group (the run's encoder and the requested controls) in a worker. The
	 * work queue may leave the encoder out (`encoder: false`, a study's random-init control of a
	 * seed) and run it on its lane's backend.
	 */
	start(
		params: EvaluateParams,
		options: { encoder?: boolean; backend?: BackendPreference | null } = {}
	): { groupId: string; evaluations: EvaluationRecord[] } {
		const db = this.store().db;
		const run = this.requireRun(params.runId);
		const encoders: { role: EvaluationRole; run: StoredRun; trained: boolean }[] =
			options.encoder === false ? [] : [{ role: 'encoder', run, trained: true }];
		if (params.randomInit) encoders.push({ role: 'random-init', run, trained: false });
		if (params.realRunId !== null) {
			encoders.push({ role: 'real', run: this.requireRun(params.realRunId), trained: true });
		}
		if (encoders.length === 0) {
			throw new AppFailure('INVALID_REQUEST', 'Nothing to evaluate: no encoder and no control.');
		}
		const groupId = crypto.randomUUID();
		// The paper's fc6 for SmallAlexNet, avgpool for a ResNet-50, unless the request names one;
		// each encoder reads that layer or its equivalent (fc6 ↔ avgpool) in its architecture.
		const requested = params.layer ?? layersOf(recipeOfRun(run).architecture).probe;
		const planned = encoders.map(({ role, run: owner, trained }) => {
			const checkpoint = trained ? latestCheckpoint(db, owner) : null;
			const recipe = recipeOfRun(owner);
			return {
				role,
				owner,
				checkpoint,
				recipe,
				layer: correspondingLayer(recipe.architecture, requested)
			};
		});
		const evaluations = db.transaction(() =>
			planned.map(({ role, owner, checkpoint, layer }) =>
				createEvaluation(db, {
					groupId,
					runId: owner.id,
					role,
					checkpointStep: checkpoint?.step ?? null,
					dataset: params.dataset,
					protocol: params.protocol,
					layer,
					config: { ...params, layer: requested }
				})
			)
		)();
		const jobEncoders: EncoderToEvaluate[] = planned.map(
			({ role, owner, checkpoint, recipe, layer }, index) => {
				const evaluationId = (evaluations[index] as EvaluationRecord).id;
				return {
					evaluationId,
					role,
					recipe,
					layer,
					checkpoint: checkpoint ? { path: checkpoint.path, sha256: checkpoint.sha256 } : null,
					// In the folder of the run whose encoder it reads: deleting that run removes it too.
					probePath: params.protocol === 'linear' ? probeFilePath(owner.folder, evaluationId) : null
				};
			}
		);
		for (const evaluation of evaluations) this.events.emit('evaluations.changed', evaluation);

		const controller = new AbortController();
		const worker = this.workers.start<TrainerTasks>('trainer');
		const finished = new Set<number>();
		const started = new Map<number, EvaluationRole>(
			evaluations.map((evaluation) => [evaluation.id, evaluation.role])
		);
		const group: RunningGroup = { controller, ended: Promise.resolve() };
		this.groups.set(groupId, group);
		// A queue lane may pin its backend (the accelerator lane); otherwise Settings decide, `auto`
		// measured per model preset.
		const backend = options.backend
			? Promise.resolve(options.backend)
			: this.options.backendFor((jobEncoders[0] as EncoderToEvaluate).recipe);
		group.ended = backend
			.then((backend) =>
				worker.run(
					'evaluate',
					{ params, encoders: jobEncoders, backend, cacheDir: this.options.cacheDir },
					{
						signal: controller.signal,
						cancelGraceMs: 60_000,
						onProgress: (event) => this.record(groupId, event, started, finished)
					}
				)
			)
			.catch((error: unknown) => ({ ok: false as const, error: toAppError(error) }))
			.then((result) => {
				if (this.closed) return;
				// Whatever did not report a result ended with the group: failed, cancelled or crashed.
				for (const evaluation of evaluations) {
					if (finished.has(evaluation.id)) continue;
					const cancelled = !result.ok && result.error.code === 'CANCELLED';
					const record = finishEvaluation(this.store().db, evaluation.id, {
						status: cancelled ? 'cancelled' : 'failed',
						metrics: null,
						error: result.ok
							? 'The evaluation stopped before this encoder was measured.'
							: result.error.message,
						seconds: null
					});
					if (record) this.events.emit('evaluations.changed', record);
				}
			})
			.finally(() => {
				worker.stop();
				this.groups.delete(groupId);
			});
		return { groupId, evaluations };
	}

	cancel(groupId: string): { cancelled: boolean } {
		const group = this.groups.get(groupId);
		if (!group) return { cancelled: false };
		group.controller.abort();
		return { cancelled: true };
	}

	/** Resolves with a group's evaluations once it has ended and been recorded. */
	async finished(groupId: string): Promise<EvaluationRecord[]> {
		await this.groups.get(groupId)?.ended;
		return listEvaluationsOfGroup(this.store().db, groupId);
	}

	/** Resolves when every running group has ended and been recorded. */
	async idle(): Promise<void> {
		await Promise.all([...this.groups.values()].map((group) => group.ended));
	}

	close(): void {
		this.closed = true;
		for (const group of this.groups.values()) group.controller.abort();
	}

	private record(
		groupId: string,
		event: EvaluateEvent,
		roles: Map<number, EvaluationRole>,
		finished: Set<number>
	): void {
		if (this.closed) return;
		if (event.kind === 'progress') {
			this.events.emit('evaluations.progress', {
				groupId,
				evaluationId: event.evaluationId,
				role: roles.get(event.evaluationId) ?? 'encoder',
				phase: event.phase,
				done: event.done,
				total: event.total,
				message: event.message
			});
			return;
		}
		finished.add(event.evaluationId);
		const record = finishEvaluation(
			this.store().db,
			event.evaluationId,
			event.kind === 'result'
				? {
						status: 'completed',
						metrics: event.metrics,
						// A worker from an older build reports neither field.
						error: event.probeError
							? `The linear probe could not be kept for Explain: ${event.probeError}`
							: null,
						seconds: event.seconds,
						probePath: event.probePath
					}
				: { status: 'failed', metrics: null, error: event.message, seconds: null }
		);
		if (record) this.events.emit('evaluations.changed', record);
	}

	private requireRun(id: number): StoredRun {
		const run = getRun(this.store().db, id);
		if (!run) throw new AppFailure('NOT_FOUND', `There is no run ${id}.`);
		return run;
	}
}

function latestCheckpoint(db: Store['db'], run: StoredRun) {
	const checkpoint = listCheckpoints(db, run.id).at(-1);
	if (!checkpoint) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Run "${run.name}" has no checkpoint yet; evaluate it once it has trained for ${run.config.checkpointEvery} steps or finished.`
		);
	}
	return checkpoint;
}
