import path from 'node:path';
import { fail, type AppError, type Result } from '../../core/api/errors';
import {
	isFromWorkerMessage,
	type FromWorkerMessage,
	type TaskMap,
	type ToWorkerMessage
} from '../../core/workers/protocol';

/** How a worker process ended. */
export interface WorkerExit {
	code: number | null;
	signal: string | null;
}

/**
 * The few things the host needs from a process. Electron's `utilityProcess.fork` and Node's
 * `child_process.fork` each provide one (see the launchers beside this file).
 */
export interface WorkerChannel {
	readonly pid: number | undefined;
	send(message: ToWorkerMessage): void;
	onMessage(listener: (message: unknown) => void): void;
	onExit(listener: (exit: WorkerExit) => void): void;
	/** The last few kilobytes the worker wrote to stderr, for crash messages. */
	stderrTail(): string;
	kill(): void;
}

/** Starts a worker process from a built entry file. */
export type WorkerLauncher = (entryFile: string, options: { name: string }) => WorkerChannel;

/** Options of one task run. */
export interface RunOptions<Progress> {
	onProgress?: (progress: Progress) => void;
	/** Aborting sends a cancel to the worker; the run then resolves with CANCELLED. */
	signal?: AbortSignal;
	/** Give up (and cancel) after this long, resolving with WORKER_TIMEOUT. */
	timeoutMs?: number;
	/** How long the worker may take to honour a cancel before it is killed (default 5 s). */
	cancelGraceMs?: number;
}

interface PendingRun {
	task: string;
	resolve(result: Result<unknown>): void;
	onProgress: ((progress: unknown) => void) | undefined;
}

/** How long a worker gets to honour a cancel before it is killed, unless a run says otherwise. */
const defaultCancelGraceMs = 5_000;

/**
 * A running worker with typed tasks. A crash (the process exits while it should be running)
 * resolves every pending run with WORKER_CRASHED and notifies `onCrash` listeners; the parent
 * process carries on.
 */
export class WorkerClient<Tasks extends TaskMap> {
	private nextId = 1;
	private readonly pending = new Map<number, PendingRun>();
	private readonly crashListeners = new Set<(error: AppError) => void>();
	private exited: WorkerExit | null = null;
	private stopping = false;
	private killReason: string | null = null;

	/** Wraps a started channel; `name` is used in messages ("the probe worker …"). */
	constructor(
		readonly name: string,
		private readonly channel: WorkerChannel
	) {
		channel.onMessage((message) => {
			if (isFromWorkerMessage(message)) this.receive(message);
		});
		channel.onExit((exit) => this.handleExit(exit));
	}

	/** Whether the process is still running. */
	get alive(): boolean {
		return this.exited === null;
	}

	/** Runs a task in the worker. Never rejects: failures come back as a failed Result. */
	run<K extends keyof Tasks & string>(
		task: K,
		input: Tasks[K]['input'],
		options: RunOptions<Tasks[K]['progress']> = {}
	): Promise<Result<Tasks[K]['output']>> {
		if (this.exited) {
			return Promise.resolve(fail('WORKER_CRASHED', `${this.describe()} is not running.`));
		}
		const id = this.nextId++;
		return new Promise<Result<unknown>>((resolve) => {
			const cleanups: (() => void)[] = [];
			const finish = (result: Result<unknown>) => {
				if (!this.pending.delete(id)) return;
				for (const cleanup of cleanups) cleanup();
				resolve(result);
			};
			this.pending.set(id, {
				task,
				resolve: finish,
				onProgress: options.onProgress as ((progress: unknown) => void) | undefined
			});
			const cancel = (result: Result<unknown>) => {
				this.channel.send({ kind: 'cancel', id });
				const graceMs = options.cancelGraceMs ?? defaultCancelGraceMs;
				const grace = setTimeout(() => {
					if (!this.pending.has(id)) return;
					finish(result);
					this.kill(`it ignored a cancel request for "${task}" for ${graceMs / 1000} s`);
				}, graceMs);
				cleanups.push(() => clearTimeout(grace));
			};
			const { signal, timeoutMs } = options;
			if (signal) {
				const onAbort = () => cancel(fail('CANCELLED', `"${task}" was cancelled.`));
				if (signal.aborted) onAbort();
				else {
					signal.addEventListener('abort', onAbort, { once: true });
					cleanups.push(() => signal.removeEventListener('abort', onAbort));
				}
			}
			if (timeoutMs !== undefined) {
				const timer = setTimeout(() => {
					const timedOut = fail(
						'WORKER_TIMEOUT',
						`${this.describe()} did not finish "${task}" within ${Math.round(timeoutMs / 1000)} s.`
					);
					cancel(timedOut);
					// Report the timeout now; the cancel only tidies up the worker.
					finish(timedOut);
				}, timeoutMs);
				cleanups.push(() => clearTimeout(timer));
			}
			this.channel.send({ kind: 'run', id, task, input });
		}) as Promise<Result<Tasks[K]['output']>>;
	}

	/** Listens for crashes; returns the function that stops listening. */
	onCrash(listener: (error: AppError) => void): () => void {
		this.crashListeners.add(listener);
		return () => this.crashListeners.delete(listener);
	}

	/** Stops the worker on purpose; pending runs resolve with CANCELLED, which is no crash. */
	stop(): void {
		if (this.exited) return;
		this.stopping = true;
		for (const run of [...this.pending.values()]) {
			run.resolve(fail('CANCELLED', `${this.describe()} was stopped while running "${run.task}".`));
		}
		this.channel.kill();
	}

	private kill(reason: string): void {
		this.killReason = reason;
		this.channel.kill();
	}

	private describe(): string {
		return `The ${this.name} worker${this.channel.pid ? ` (pid ${this.channel.pid})` : ''}`;
	}

	private receive(message: FromWorkerMessage): void {
		if (message.kind === 'ready') return;
		const run = this.pending.get(message.id);
		if (!run) return; // A late message for a run that already finished (timed out, cancelled).
		if (message.kind === 'progress') run.onProgress?.(message.progress);
		else run.resolve(message.result);
	}

	private handleExit(exit: WorkerExit): void {
		this.exited = exit;
		if (this.stopping) return;
		const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
		const tasks = [...this.pending.values()].map((run) => `"${run.task}"`);
		const during = tasks.length > 0 ? ` while running ${tasks.join(', ')}` : '';
		const because = this.killReason ? ` because ${this.killReason}` : '';
		const tail = this.channel.stderrTail().trim();
		const error: AppError = {
			code: 'WORKER_CRASHED',
			message:
				`${this.describe()} stopped unexpectedly${during}: it ${how}${because}.` +
				(tail ? ` Its last output: ${tail.slice(-600)}` : '')
		};
		for (const run of [...this.pending.values()]) run.resolve({ ok: false, error });
		for (const listener of this.crashListeners) listener(error);
	}
}

/** Starts named workers from a folder of built entry files (`<name>.cjs`). */
export class WorkerFactory {
	/** `workersDir` holds the built entries; `launcher` picks the process kind. */
	constructor(
		private readonly launcher: WorkerLauncher,
		readonly workersDir: string
	) {}

	/** Starts the worker built from `src/main/workers/entries/<name>.ts`. */
	start<Tasks extends TaskMap>(name: string): WorkerClient<Tasks> {
		const file = path.join(this.workersDir, `${name}.cjs`);
		return new WorkerClient<Tasks>(name, this.launcher(file, { name }));
	}
}

/** Keeps the last `limit` characters of a stream, for crash messages. */
export function tailBuffer(limit = 4096): { push(chunk: Buffer | string): void; read(): string } {
	let text = '';
	return {
		push(chunk) {
			text = (text + chunk.toString()).slice(-limit);
		},
		read: () => text
	};
}
