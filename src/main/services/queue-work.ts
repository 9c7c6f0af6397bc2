/**
 * What the work queue runs, item by kind, on the app's services: a training session of a run
 * (resumed from its newest checkpoint), an evaluation group, a dataset export. Also the run
 * controls of the API, which go through the queue: a run started while another trains waits
 * its turn (`queued`) instead of failing with `BUSY`.
 */
import { z } from 'zod';
import { AppFailure, errorCodes, type ErrorCode } from '../../core/api/errors';
import { evaluateParamsSchema } from '../../core/api/evaluation';
import { exportParamsSchema } from '../../core/api/generators';
import { resumableStatuses, type RunRecord } from '../../core/api/training';
import type { TrainConfig } from '../../core/training/config';
import type { EventBus } from '../events';
import type { StoredQueueItem } from '../store/queue';
import { getQueueItem, pendingItemsOfRun } from '../store/queue';
import { publicRecord } from '../store/runs';
import type { Store } from '../store/database';
import type { EvaluationService } from './evaluation';
import type { GeneratorService } from './generators';
import type { ExecutionContext, ItemOutcome, QueueExecutors, QueueService } from './queue';
import type { TrainingService } from './training';

/** An evaluate item's payload: the request, and whether the run's own encoder is measured. */
export const evaluatePayloadSchema = z.object({
	params: evaluateParamsSchema,
	/** False for a study's random-init control of a seed: only the control is measured. */
	encoder: z.boolean().default(true)
});

/** A generate item's payload: an export request, as the Studio sends it. */
export const generatePayloadSchema = exportParamsSchema;

/** The services the executors drive. */
export interface QueueWorkDeps {
	store: () => Store;
	events: EventBus;
	training: TrainingService;
	evaluation: EvaluationService;
	generators: GeneratorService;
}

/** The executors of the app's queue. */
export function createQueueExecutors(deps: QueueWorkDeps): QueueExecutors {
	const { training, evaluation, generators, events } = deps;
	return {
		// Not async: a training that cannot start throws here, before `enqueue` returns.
		train(item, context) {
			const runId = requireRunId(item);
			const run = training.stored(runId);
			if (run.status === 'completed') return Promise.resolve({ state: 'done' });
			if (!training.isTraining(runId)) {
				if (!resumableStatuses.includes(run.status)) {
					return Promise.resolve({
						state: 'failed',
						error: `Run "${run.name}" is ${run.status}; it cannot train again.`
					});
				}
				training.resume(runId, { backend: context.lane.backend });
			}
			return followSession(training, events, runId, context);
		},

		async evaluate(item, context) {
			const payload = evaluatePayloadSchema.parse(item.payload);
			const { groupId } = evaluation.start(payload.params, {
				encoder: payload.encoder,
				backend: context.lane.backend
			});
			const unsubscribe = events.subscribe((event) => {
				if (event.name !== 'evaluations.progress' || event.payload.groupId !== groupId) return;
				const { done, total, message, role } = event.payload;
				context.progress(done, total, `${role}: ${message}`);
			});
			const stop = () => evaluation.cancel(groupId);
			context.signal.addEventListener('abort', stop, { once: true });
			let records;
			try {
				records = await evaluation.finished(groupId);
			} finally {
				context.signal.removeEventListener('abort', stop);
				unsubscribe();
			}
			const unfinished = records.find((record) => record.status !== 'completed');
			if (!unfinished) return { state: 'done', result: { groupId } };
			return {
				state: unfinished.status === 'cancelled' ? 'cancelled' : 'failed',
				error: unfinished.error ?? `The evaluation ended ${unfinished.status}.`,
				result: { groupId }
			};
		},

		async generate(item, context) {
			const request = generatePayloadSchema.parse(item.payload);
			const result = await generators.exportForQueue(request, {
				signal: context.signal,
				onProgress: (progress) =>
					context.progress(
						progress.done,
						progress.total,
						`${progress.phase} ${progress.done.toLocaleString('en-US')} / ${progress.total.toLocaleString('en-US')} images · ${progress.imagesPerSecond.toFixed(1)} img/s`
					)
			});
			if (!result.ok) {
				return {
					state: result.error.code === 'CANCELLED' ? 'cancelled' : 'failed',
					error: result.error.message
				};
			}
			return result.value.manifest.complete
				? { state: 'done', result: { outDir: result.value.outDir } }
				: { state: 'cancelled', error: 'The export stopped before every image was written.' };
		},

		blocked(item) {
			if (item.kind !== 'evaluate' || item.runId === null) return null;
			const payload = evaluatePayloadSchema.safeParse(item.payload);
			if (!payload.success || !payload.data.encoder) return null;
			let status: string;
			try {
				status = training.stored(item.runId).status;
			} catch {
				return `Run ${item.runId} no longer exists.`;
			}
			if (status === 'completed') return null;
			const training_ = pendingItemsOfRun(deps.store().db, item.runId).find(
				(other) => other.kind === 'train'
			);
			return training_
				? `Waits for run ${item.runId} to finish training (#${training_.id}).`
				: `Run ${item.runId} is ${status}; it must complete before it is evaluated.`;
		}
	} satisfies QueueExecutors;
}

/** Follows a run's training session to its end and says how the item ended. */
async function followSession(
	training: TrainingService,
	events: EventBus,
	runId: number,
	context: ExecutionContext
): Promise<ItemOutcome> {
	const unsubscribe = events.subscribe((event) => {
		if (event.name !== 'runs.progress' || event.payload.runId !== runId) return;
		const { step, steps, message, phase } = event.payload;
		context.progress(step, steps, message || phase);
	});
	const stop = () => {
		try {
			if (context.stopReason() === 'cancel') training.cancel(runId);
			else training.pause(runId);
		} catch {
			// The session ended meanwhile; its status says how.
		}
	};
	context.signal.addEventListener('abort', stop, { once: true });
	try {
		await training.ended(runId);
	} finally {
		context.signal.removeEventListener('abort', stop);
		unsubscribe();
	}
	const final = training.stored(runId);
	switch (final.status) {
		case 'completed':
			return { state: 'done' };
		case 'paused':
			return {
				state: 'cancelled',
				error: 'Paused by the user; resuming the run puts it back in the queue.'
			};
		case 'cancelled':
			return { state: 'cancelled', error: 'The run was cancelled.' };
		default:
			return { state: 'failed', error: final.error ?? `The run ended ${final.status}.` };
	}
}

function isErrorCode(code: string): code is ErrorCode {
	return Object.hasOwn(errorCodes, code);
}

function requireRunId(item: StoredQueueItem): number {
	if (item.runId === null) throw new AppFailure('INTERNAL', `Queue item #${item.id} has no run.`);
	return item.runId;
}

/**
 * The run controls of the API on top of the queue: start and resume enqueue a training (it
 * starts at once when a lane is free), pause and cancel reach a run whether it trains or waits.
 */
export class QueuedRuns {
	constructor(
		private readonly queue: QueueService,
		private readonly training: TrainingService,
		private readonly store: () => Store,
		private readonly events: EventBus
	) {}

	/** Creates a run and queues its training; the record says `running` if it started at once. */
	start(request: { name?: string | undefined; config: TrainConfig }): {
		run: RunRecord;
		itemId: number;
	} {
		const run = this.training.createForQueue(request);
		const item = this.queue.enqueue({ kind: 'train', label: `Train ${run.name}`, runId: run.id });
		this.refuseIfFailedAtOnce(item.id);
		return { run: this.announce(run.id), itemId: item.id };
	}

	/** Queues a paused, interrupted or failed run to continue from its last checkpoint. */
	resume(id: number): { run: RunRecord; itemId: number } {
		const run = this.training.stored(id);
		const pending = pendingItemsOfRun(this.store().db, id).find((item) => item.kind === 'train');
		if (pending) return { run: publicRecord(run), itemId: pending.id };
		// Refused before it is queued, as a direct resume would be: nothing changes.
		this.training.checkResumable(id);
		const item = this.queue.enqueue({ kind: 'train', label: `Train ${run.name}`, runId: id });
		this.refuseIfFailedAtOnce(item.id);
		return { run: this.announce(id), itemId: item.id };
	}

	/** A training that started at once and could not: the caller gets the reason. */
	private refuseIfFailedAtOnce(itemId: number): void {
		const item = getQueueItem(this.store().db, itemId);
		if (item?.state !== 'failed') return;
		const code = (item.result as { code?: string } | null)?.code;
		throw new AppFailure(
			code !== undefined && isErrorCode(code) ? code : 'INTERNAL',
			item.error ?? 'The training could not start.'
		);
	}

	/** Pauses a training run at a checkpoint, or takes a waiting one out of the queue. */
	pause(id: number): RunRecord {
		if (this.training.isTraining(id)) return this.training.pause(id);
		const waiting = this.waitingTrain(id);
		if (!waiting) return this.training.pause(id);
		this.queue.settle(waiting.id, {
			state: 'cancelled',
			error: 'Paused by the user; resuming the run puts it back in the queue.'
		});
		return this.announce(id);
	}

	/** Cancels a run for good, whether it trains or waits in the queue. */
	cancel(id: number): RunRecord {
		const waiting = this.waitingTrain(id);
		if (waiting && !this.training.isTraining(id)) {
			this.queue.settle(waiting.id, { state: 'cancelled', error: 'The run was cancelled.' });
		}
		return this.training.cancel(id);
	}

	private waitingTrain(id: number): StoredQueueItem | undefined {
		return pendingItemsOfRun(this.store().db, id).find(
			(item) => item.kind === 'train' && item.state === 'queued'
		);
	}

	private announce(id: number): RunRecord {
		const record = publicRecord(this.training.stored(id));
		this.events.emit('runs.changed', record);
		return record;
	}
}

/** The outcome type, re-exported for the study service's tests. */
export type { ExecutionContext, ItemOutcome };
