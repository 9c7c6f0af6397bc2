/**
 * The work queue: every long piece of work (generating a cached dataset, a training, an
 * evaluation) as a row in SQLite, run in order on a few lanes — one on a CPU-only machine, two
 * where an accelerator can train while the CPU does another item. It survives restarts: an item
 * that was running when NoiseLab stopped goes back to its place and continues (a training from
 * its last checkpoint, an export from the images on disk, an evaluation from the start).
 *
 * The queue runs only in processes that call `work()`: the desktop app and `noiselab serve`
 * work through everything; CLI commands that train work through their own items; other
 * commands only read or edit the queue.
 */
import type { QueueItem, QueueState } from '../../core/api/studies';
import { AppFailure, toAppError } from '../../core/api/errors';
import type { BackendPreference } from '../../core/compute/backends';
import type { EventBus } from '../events';
import type { Store } from '../store/database';
import {
	addQueueItem,
	claimQueueItem,
	finishQueueItem,
	getQueueItem,
	listQueueItems,
	moveQueueItem,
	pruneFinishedItems,
	queuePaused,
	requeueRunningItems,
	setQueuePaused,
	type NewQueueItem,
	type StoredQueueItem
} from '../store/queue';

/** Where items run. Each lane runs one item at a time. */
export interface QueueLane {
	id: string;
	label: string;
	/** The backend its trainings and evaluations use; null: the run's own (Settings for `auto`). */
	backend: BackendPreference | null;
	kinds: readonly QueueItem['kind'][];
}

/** How an execution ended, as the executor saw it. */
export interface ItemOutcome {
	state: 'done' | 'failed' | 'cancelled';
	error?: string | null;
	result?: unknown;
}

/** What an executor gets besides the item. */
export interface ExecutionContext {
	lane: QueueLane;
	/** Aborted when the item is cancelled or the queue is paused. */
	signal: AbortSignal;
	/** Why `signal` was aborted: `cancel` ends the work for good, `hold` stops it to continue later. */
	stopReason(): 'cancel' | 'hold' | null;
	progress(done: number, total: number, message: string): void;
}

/** Runs the items of each kind; the queue owns order, state and persistence. */
export interface QueueExecutors {
	generate(item: StoredQueueItem, context: ExecutionContext): Promise<ItemOutcome>;
	train(item: StoredQueueItem, context: ExecutionContext): Promise<ItemOutcome>;
	evaluate(item: StoredQueueItem, context: ExecutionContext): Promise<ItemOutcome>;
	/** Why an item whose dependencies are done still cannot run (e.g. its run is not trained). */
	blocked?(item: StoredQueueItem): string | null;
}

interface Execution {
	item: StoredQueueItem;
	lane: QueueLane;
	controller: AbortController;
	stop: 'cancel' | 'hold' | null;
	progress: QueueItem['progress'];
	lastProgressEvent: number;
	ended: Promise<void>;
}

/** A thrown error as a failed outcome; its code is kept in the item's result. */
function failedOutcome(error: unknown): ItemOutcome {
	const { code, message } = toAppError(error);
	return { state: 'failed', error: message, result: { code } };
}

/** One lane that runs everything: a machine with one compute device. */
export const singleLane: readonly QueueLane[] = [
	{ id: 'main', label: 'Main', backend: null, kinds: ['generate', 'train', 'evaluate'] }
];

/** Backends that compute on an accelerator, leaving the CPU free for a second lane. */
const acceleratorBackends: readonly string[] = ['tfjs-node-gpu', 'webgpu'];

/**
 * The lanes of this machine: one, or two where an accelerator trains and at least four cores
 * leave room for a second training (or an export) on the CPU's wasm backend at the same time.
 */
export function queueLanes(activeBackend: string | null, cores: number): readonly QueueLane[] {
	if (activeBackend === null || !acceleratorBackends.includes(activeBackend) || cores < 4) {
		return singleLane;
	}
	return [
		{ id: 'accelerator', label: activeBackend, backend: null, kinds: ['train', 'evaluate'] },
		{ id: 'cpu', label: 'CPU (wasm)', backend: 'wasm', kinds: ['generate', 'train', 'evaluate'] }
	];
}

/** Finished items not tied to a study that the queue keeps for the record. */
const keepFinished = 200;

/** The work queue's service. */
export class QueueService {
	private working = false;
	private scope: ((item: StoredQueueItem) => boolean) | null = null;
	private readonly running = new Map<number, Execution>();
	private readonly waiters = new Map<number, ((item: StoredQueueItem) => void)[]>();
	private readonly idleWaiters: (() => void)[] = [];
	private closed = false;
	private pumping = false;
	private repump = false;

	constructor(
		private readonly store: () => Store,
		private readonly events: EventBus,
		private readonly executors: QueueExecutors,
		private readonly lanes: () => readonly QueueLane[] = () => singleLane
	) {}

	/** Puts items a previous process left running back in the queue (call once at start-up). */
	recover(): void {
		requeueRunningItems(this.store().db);
		pruneFinishedItems(this.store().db, keepFinished);
	}

	/**
	 * Starts executing queued items, all of them or those `scope` accepts (the CLI works through
	 * its own items only); an item's dependencies are always run first.
	 */
	work(scope?: (item: StoredQueueItem) => boolean): void {
		this.working = true;
		this.scope = scope ?? null;
		this.pump();
	}

	/**
	 * Stops working: running items stop to continue later, as with a pause, but the queue's
	 * pause switch is left alone (Ctrl-C in `noiselab study run`). Resolves once they stopped.
	 */
	async stopWorking(): Promise<void> {
		this.working = false;
		for (const execution of this.running.values()) {
			execution.stop = 'hold';
			execution.controller.abort();
		}
		await Promise.all([...this.running.values()].map((execution) => execution.ended));
	}

	/** The queue as the UI shows it. */
	state(): QueueState {
		const db = this.store().db;
		const items = listQueueItems(db);
		const byId = new Map(items.map((item) => [item.id, item]));
		return {
			paused: queuePaused(db),
			working: this.working,
			lanes: this.lanes().map((lane) => ({
				id: lane.id,
				label: lane.label,
				itemId: [...this.running.values()].find((e) => e.lane.id === lane.id)?.item.id ?? null
			})),
			items: items.map((item) => this.publicItem(item, byId))
		};
	}

	/** One item, as the API shows it. */
	item(id: number): QueueItem {
		const item = this.require(id);
		const items = listQueueItems(this.store().db);
		return this.publicItem(item, new Map(items.map((candidate) => [candidate.id, candidate])));
	}

	/** Appends an item; it runs when its turn comes and a lane is free. */
	enqueue(item: NewQueueItem): StoredQueueItem {
		const added = addQueueItem(this.store().db, item);
		this.changed();
		this.pump();
		return added;
	}

	/** Appends several items in one transaction (a study's plan), then runs what can run. */
	enqueueAll(build: (add: (item: NewQueueItem) => StoredQueueItem) => void): void {
		const db = this.store().db;
		db.transaction(() => build((item) => addQueueItem(db, item)))();
		this.changed();
		this.pump();
	}

	/** Moves a queued item to `index` among the queued items (0 runs next). */
	move(id: number, index: number): QueueState {
		const item = this.require(id);
		if (item.state !== 'queued') {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Item #${id} is ${item.state}; only queued items can be moved.`
			);
		}
		moveQueueItem(this.store().db, id, index);
		this.changed();
		this.pump();
		return this.state();
	}

	/**
	 * Cancels an item: a queued one is taken out, a running one is stopped (a training after a
	 * checkpoint). Items that wait for it stay, marked blocked, until retried or cancelled.
	 */
	cancel(id: number): QueueItem {
		const item = this.require(id);
		const execution = this.running.get(id);
		if (execution) {
			execution.stop = 'cancel';
			execution.controller.abort();
			return this.item(id);
		}
		if (item.state !== 'queued') {
			throw new AppFailure('INVALID_REQUEST', `Item #${id} is already ${item.state}.`);
		}
		this.settle(id, { state: 'cancelled', error: 'Cancelled.' });
		return this.item(id);
	}

	/** Puts a failed or cancelled item back in the queue, at the end. */
	retry(id: number): QueueItem {
		const item = this.require(id);
		if (item.state !== 'failed' && item.state !== 'cancelled') {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Item #${id} is ${item.state}; only failed or cancelled items can be retried.`
			);
		}
		const db = this.store().db;
		finishQueueItem(db, id, { state: 'queued', error: null });
		moveQueueItem(db, id, Number.MAX_SAFE_INTEGER);
		this.changed();
		this.pump();
		return this.item(id);
	}

	/**
	 * Pauses everything: nothing new starts, and running items stop to continue later (trainings
	 * at a checkpoint, exports after the images in progress, evaluations from the start).
	 * Resuming starts them again in order.
	 */
	setPaused(paused: boolean): QueueState {
		setQueuePaused(this.store().db, paused);
		if (paused) {
			for (const execution of this.running.values()) {
				execution.stop = 'hold';
				execution.controller.abort();
			}
		}
		this.changed();
		this.pump();
		return this.state();
	}

	/** Resolves with the item once it is done, failed or cancelled. */
	settled(id: number): Promise<StoredQueueItem> {
		const item = this.require(id);
		if (item.state !== 'queued' && item.state !== 'running') return Promise.resolve(item);
		return new Promise((resolve) => {
			this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]);
		});
	}

	/** Resolves when nothing in scope is running and nothing in scope can start. */
	idle(): Promise<void> {
		if (this.isIdle()) return Promise.resolve();
		return new Promise((resolve) => this.idleWaiters.push(resolve));
	}

	/** The running execution of a run's training, if any. */
	runningTrainOf(runId: number): StoredQueueItem | null {
		for (const execution of this.running.values()) {
			if (execution.item.kind === 'train' && execution.item.runId === runId) return execution.item;
		}
		return null;
	}

	/**
	 * The app is closing: running work is left as it is (its workers stop with the app), so the
	 * items are still `running` in the store and the next start puts them back in the queue.
	 */
	close(): void {
		this.closed = true;
		this.working = false;
	}

	/** Settles an item that is not running (cancel, or a caller that finished it itself). */
	settle(id: number, outcome: ItemOutcome): void {
		const settled = finishQueueItem(this.store().db, id, outcome);
		this.changed();
		if (settled) this.notify(settled);
		this.pump();
	}

	private publicItem(item: StoredQueueItem, byId: Map<number, StoredQueueItem>): QueueItem {
		const execution = this.running.get(item.id);
		return {
			id: item.id,
			kind: item.kind,
			state: item.state,
			position: item.position,
			label: item.label,
			runId: item.runId,
			studyId: item.studyId,
			dependsOn: item.dependsOn,
			blocked: item.state === 'queued' ? this.blockedReason(item, byId) : null,
			error: item.error,
			attempts: item.attempts,
			lane: execution?.lane.id ?? null,
			progress: execution?.progress ?? null,
			createdAt: item.createdAt,
			startedAt: item.startedAt,
			finishedAt: item.finishedAt
		};
	}

	private blockedReason(item: StoredQueueItem, byId: Map<number, StoredQueueItem>): string | null {
		if (item.dependsOn !== null) {
			const dependency = byId.get(item.dependsOn) ?? getQueueItem(this.store().db, item.dependsOn);
			if (dependency && dependency.state !== 'done') {
				return dependency.state === 'queued' || dependency.state === 'running'
					? `Waits for #${dependency.id} (${dependency.label}).`
					: `Waits for #${dependency.id} (${dependency.label}), which ${dependency.state === 'failed' ? 'failed' : 'was cancelled'}: retry it, or cancel this item.`;
			}
		}
		return this.executors.blocked?.(item) ?? null;
	}

	private inScope(item: StoredQueueItem, byId: Map<number, StoredQueueItem>): boolean {
		if (!this.scope) return true;
		if (this.scope(item)) return true;
		// A dependency of an item in scope is in scope too.
		return [...byId.values()].some(
			(other) =>
				other.dependsOn === item.id && other.state === 'queued' && this.inScope(other, byId)
		);
	}

	/** Starts what can start, then tells the idle waiters when nothing is left to do. */
	private pump(): void {
		if (this.pumping) {
			// An item that failed at once while starting others: look again afterwards.
			this.repump = true;
			return;
		}
		do {
			this.repump = false;
			if (!this.closed && this.working) this.startWhatCan();
		} while (this.repump);
		// Also when not working: `stopWorking` ends with the idle waiters resolved.
		if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
	}

	/** For each free lane, starts the first runnable queued item it accepts. */
	private startWhatCan(): void {
		this.pumping = true;
		try {
			const db = this.store().db;
			if (!queuePaused(db)) {
				const busy = new Set([...this.running.values()].map((execution) => execution.lane.id));
				for (const lane of this.lanes()) {
					if (busy.has(lane.id)) continue;
					const items = listQueueItems(db);
					const byId = new Map(items.map((item) => [item.id, item]));
					const next = items.find(
						(item) =>
							item.state === 'queued' &&
							lane.kinds.includes(item.kind) &&
							this.inScope(item, byId) &&
							this.blockedReason(item, byId) === null
					);
					if (!next || !claimQueueItem(db, next.id)) continue;
					busy.add(lane.id);
					this.execute(getQueueItem(db, next.id) ?? next, lane);
				}
			}
		} finally {
			this.pumping = false;
		}
	}

	private isIdle(): boolean {
		if (this.running.size > 0) return false;
		if (this.closed || !this.working) return true;
		const db = this.store().db;
		if (queuePaused(db)) return true;
		const items = listQueueItems(db);
		const byId = new Map(items.map((item) => [item.id, item]));
		return !items.some(
			(item) =>
				item.state === 'queued' &&
				this.inScope(item, byId) &&
				this.blockedReason(item, byId) === null
		);
	}

	private execute(item: StoredQueueItem, lane: QueueLane): void {
		const controller = new AbortController();
		const execution: Execution = {
			item,
			lane,
			controller,
			stop: null,
			progress: null,
			lastProgressEvent: 0,
			ended: Promise.resolve()
		};
		this.running.set(item.id, execution);
		this.changed();
		const context: ExecutionContext = {
			lane,
			signal: controller.signal,
			stopReason: () => execution.stop,
			progress: (done, total, message) => {
				execution.progress = { done, total, message };
				const now = performance.now();
				// A few events a second are enough for a progress bar.
				if (now - execution.lastProgressEvent < 400 && done < total) return;
				execution.lastProgressEvent = now;
				this.events.emit('queue.progress', { itemId: item.id, done, total, message });
			}
		};
		// Called synchronously: a training has started by the time `enqueue` returns, so the
		// caller's record already says `running`.
		let started: Promise<ItemOutcome>;
		try {
			started = this.executors[item.kind](item, context);
		} catch (error) {
			// Refused at once (a training whose worker cannot start): settled before `enqueue`
			// returns, so the caller can answer with the reason.
			this.finish(execution, failedOutcome(error));
			return;
		}
		execution.ended = started
			.catch(failedOutcome)
			.then((outcome) => this.finish(execution, outcome));
	}

	private finish(execution: Execution, outcome: ItemOutcome): void {
		this.running.delete(execution.item.id);
		if (this.closed) return;
		let final: { state: QueueItem['state']; error?: string | null; result?: unknown } = outcome;
		if (outcome.state !== 'done' && execution.stop === 'hold') {
			final = {
				state: 'queued',
				error: 'Paused with the queue; it continues when the queue resumes.'
			};
		} else if (outcome.state !== 'done' && execution.stop === 'cancel') {
			final = { state: 'cancelled', error: 'Cancelled.' };
		}
		const settled = finishQueueItem(this.store().db, execution.item.id, {
			state: final.state,
			error: final.error ?? null,
			result: final.result
		});
		this.changed();
		if (settled && settled.state !== 'queued') this.notify(settled);
		this.pump();
	}

	private notify(item: StoredQueueItem): void {
		for (const resolve of this.waiters.get(item.id) ?? []) resolve(item);
		this.waiters.delete(item.id);
	}

	private changed(): void {
		if (this.closed) return;
		this.events.emit('queue.changed', this.state());
	}

	private require(id: number): StoredQueueItem {
		const item = getQueueItem(this.store().db, id);
		if (!item) throw new AppFailure('NOT_FOUND', `There is no queue item #${id}.`);
		return item;
	}
}
