/**
 * A pool of `worker_threads` running one entry file: each thread gets a setup message, then runs
 * one task at a time; a task answers with events and one result. The dataset export, the
 * training data threads and the training replicas all run on it.
 *
 * A thread that dies is never waited for: an uncaught exception, an unreadable message or an
 * unexpected exit breaks the pool, every task in flight or queued rejects with WORKER_CRASHED
 * (naming the thread and the exit code or error), later tasks reject at once, and the other
 * threads are stopped. Idle threads do not keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import { AppFailure } from '../../core/api/errors';
import type { FromThread, ToThread } from './protocol';

/** How to start a pool. */
export interface ThreadPoolOptions {
	/** The built thread entry, e.g. `dist/workers/generate-thread.cjs`; it calls `serveThread`. */
	file: string;
	/** Threads to start (at least 1). */
	size: number;
	/** What a thread is called in errors: 'export thread', 'training data thread', … */
	label: string;
	/** The setup data of thread `index` (structured-cloned; may hold SharedArrayBuffers). */
	init?: (index: number) => unknown;
}

/** Options of one task. */
export interface RunOptions<Event> {
	/** Run on this thread (0-based); by default the first thread that is free. */
	thread?: number;
	/** Buffers moved to the thread instead of copied. */
	transfer?: ArrayBuffer[];
	/** Called with each event the task emits, in order, before it settles. */
	onEvent?: (event: Event) => void;
}

interface Pending {
	id: number;
	data: unknown;
	transfer: ArrayBuffer[];
	onEvent: ((event: never) => void) | undefined;
	resolve: (value: never) => void;
	reject: (error: AppFailure) => void;
}

interface Slot {
	index: number;
	worker: Worker;
	ready: boolean;
	exited: boolean;
	current: Pending | null;
	/** Tasks asked for this thread in particular. */
	queue: Pending[];
}

/** A started pool; see the module comment. `Task`, `Result` and `Event` are the thread's types. */
export class ThreadPool<Task, Result, Event = never> {
	private readonly slots: Slot[] = [];
	/** Tasks for whichever thread is free first. */
	private readonly shared: Pending[] = [];
	private readonly crashListeners = new Set<(failure: AppFailure) => void>();
	private nextId = 0;
	private broken: AppFailure | null = null;
	private closed = false;
	private settleStart: { resolve: () => void; reject: (error: AppFailure) => void } | null = null;

	private constructor(private readonly options: ThreadPoolOptions) {}

	/**
	 * Starts `size` threads and resolves once every one has finished its setup. Rejects with the
	 * setup's own error when a thread's setup fails, or WORKER_CRASHED when one dies first; no
	 * thread is left running then.
	 */
	static async start<Task, Result, Event = never>(
		options: ThreadPoolOptions
	): Promise<ThreadPool<Task, Result, Event>> {
		if (!Number.isInteger(options.size) || options.size < 1) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`A thread pool needs a whole number of threads of at least 1; got ${options.size}.`
			);
		}
		const pool = new ThreadPool<Task, Result, Event>(options);
		const started = new Promise<void>((resolve, reject) => {
			pool.settleStart = { resolve, reject };
		});
		for (let index = 0; index < options.size; index++) pool.spawn(index);
		try {
			await started;
		} catch (error) {
			await pool.close();
			throw error;
		}
		return pool;
	}

	/** Threads in the pool. */
	get size(): number {
		return this.slots.length;
	}

	/** Threads that have not exited (0 after {@link close}). */
	get live(): number {
		return this.slots.filter((slot) => !slot.exited).length;
	}

	/** The failure that broke the pool, if one did. */
	get failure(): AppFailure | null {
		return this.broken;
	}

	/**
	 * Runs `task` and resolves with its result. Rejects with the thread's error when the task
	 * fails, WORKER_CRASHED when a thread dies (this one or another: the pool is then broken) and
	 * CANCELLED when the pool is closed first.
	 */
	run(task: Task, options: RunOptions<Event> = {}): Promise<Result> {
		if (this.broken) return Promise.reject(this.broken);
		if (this.closed) return Promise.reject(closedFailure(this.options.label));
		const { thread } = options;
		if (thread !== undefined && this.slots[thread] === undefined) {
			return Promise.reject(
				new AppFailure(
					'INVALID_REQUEST',
					`There is no ${this.options.label} ${thread}; the pool has ${this.slots.length}.`
				)
			);
		}
		return new Promise<Result>((resolve, reject) => {
			const pending: Pending = {
				id: this.nextId++,
				data: task,
				transfer: options.transfer ?? [],
				onEvent: options.onEvent as ((event: never) => void) | undefined,
				resolve: resolve as (value: never) => void,
				reject
			};
			if (thread === undefined) {
				this.shared.push(pending);
				for (const slot of this.slots) this.pump(slot);
			} else {
				const slot = this.slots[thread] as Slot;
				slot.queue.push(pending);
				this.pump(slot);
			}
		});
	}

	/**
	 * Calls `listener` once if a thread dies (before the tasks are rejected), e.g. to release
	 * threads that wait for the dead one in shared memory. Returns the unsubscribe function.
	 */
	onCrash(listener: (failure: AppFailure) => void): () => void {
		this.crashListeners.add(listener);
		return () => this.crashListeners.delete(listener);
	}

	/** Stops every thread; tasks in flight or queued reject with CANCELLED. Idempotent. */
	async close(): Promise<void> {
		if (!this.closed) {
			this.closed = true;
			this.rejectAll(closedFailure(this.options.label));
		}
		await Promise.all(this.slots.map((slot) => this.stop(slot)));
	}

	private spawn(index: number): void {
		const { options } = this;
		const worker = new Worker(options.file);
		const slot: Slot = { index, worker, ready: false, exited: false, current: null, queue: [] };
		this.slots.push(slot);
		worker.on('message', (message: FromThread) => this.onMessage(slot, message));
		worker.on('error', (error) =>
			this.crash(slot, `The ${options.label} ${index} failed: ${error.message}`)
		);
		worker.on('messageerror', (error) =>
			this.crash(slot, `The ${options.label} ${index} sent an unreadable message: ${error.message}`)
		);
		worker.on('exit', (code) => {
			slot.exited = true;
			this.crash(slot, `The ${options.label} ${index} stopped (exit code ${code}).`);
		});
		const init: ToThread = { kind: 'init', data: options.init?.(index) };
		worker.postMessage(init);
	}

	private onMessage(slot: Slot, message: FromThread): void {
		if (message.kind === 'ready') {
			slot.ready = true;
			// Idle threads must not keep the process alive; a thread with work holds a reference.
			slot.worker.unref();
			if (this.slots.every((each) => each.ready)) {
				this.settleStart?.resolve();
				this.settleStart = null;
			}
			this.pump(slot);
			return;
		}
		if (message.kind === 'failed' && message.id === null) {
			const failure = new AppFailure(message.error.code, message.error.message);
			if (this.settleStart) {
				this.settleStart.reject(failure);
				this.settleStart = null;
			} else this.crash(slot, failure.message);
			return;
		}
		const current = slot.current;
		if (!current || current.id !== message.id) {
			this.crash(slot, `The ${this.options.label} ${slot.index} answered a task it was not given.`);
			return;
		}
		if (message.kind === 'event') {
			current.onEvent?.(message.data as never);
			return;
		}
		slot.current = null;
		if (message.kind === 'done') current.resolve(message.data as never);
		else current.reject(new AppFailure(message.error.code, message.error.message));
		if (!slot.current) slot.worker.unref();
		this.pump(slot);
	}

	/** Hands the thread its next task, if it is free and one is waiting. */
	private pump(slot: Slot): void {
		if (!slot.ready || slot.current || this.broken || this.closed) return;
		const next = slot.queue.shift() ?? this.shared.shift();
		if (!next) return;
		slot.current = next;
		slot.worker.ref();
		const message: ToThread = { kind: 'task', id: next.id, data: next.data };
		slot.worker.postMessage(message, next.transfer);
	}

	private crash(slot: Slot, message: string): void {
		if (this.closed || this.broken) return;
		const failure = new AppFailure('WORKER_CRASHED', message);
		this.broken = failure;
		if (this.settleStart) {
			this.settleStart.reject(
				new AppFailure('WORKER_CRASHED', `A ${this.options.label} could not start: ${message}`)
			);
			this.settleStart = null;
		}
		for (const listener of this.crashListeners) listener(failure);
		this.rejectAll(failure);
		for (const other of this.slots) if (other !== slot) void this.stop(other);
	}

	private rejectAll(failure: AppFailure): void {
		const pending = [
			...this.slots.flatMap((slot) => (slot.current ? [slot.current] : [])),
			...this.slots.flatMap((slot) => slot.queue),
			...this.shared
		];
		for (const slot of this.slots) {
			slot.current = null;
			slot.queue.length = 0;
		}
		this.shared.length = 0;
		for (const task of pending) task.reject(failure);
	}

	private async stop(slot: Slot): Promise<void> {
		if (slot.exited) return;
		await slot.worker.terminate();
		slot.exited = true;
	}
}

function closedFailure(label: string): AppFailure {
	return new AppFailure('CANCELLED', `The ${label}s were stopped.`);
}
