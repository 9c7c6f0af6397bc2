/**
 * The thread side of a {@link ThreadPool}: a thread entry calls {@link serveThread} once with its
 * setup and its task handler. Tasks run one at a time, in the order they arrive.
 */
import { parentPort } from 'node:worker_threads';
import { toAppError } from '../../core/api/errors';
import type { FromThread, ToThread } from './protocol';

/** What a task handler may use besides its task. */
export interface TaskContext<Event> {
	/** Sends an event to the task's `onEvent`. */
	emit(event: Event, transfer?: ArrayBuffer[]): void;
}

/** A thread's behaviour. */
export interface ThreadHandlers<Init, State, Task, Result, Event = never> {
	/** Builds the thread's state from its setup data; a throw fails the pool's start. */
	setup(init: Init): State | Promise<State>;
	/** Runs one task; a throw fails it (an `AppFailure` keeps its code). */
	run(state: State, task: Task, context: TaskContext<Event>): Result | Promise<Result>;
	/** Buffers of a result to move to the pool rather than copy. */
	transfer?(result: Result): ArrayBuffer[];
}

/** Serves tasks on this thread; see {@link ThreadHandlers}. Call once, at the top of an entry. */
export function serveThread<Init, State, Task, Result, Event = never>(
	handlers: ThreadHandlers<Init, State, Task, Result, Event>
): void {
	const port = parentPort;
	if (!port) throw new Error('serveThread must run in a worker thread.');
	const post = (message: FromThread, transfer: ArrayBuffer[] = []) =>
		port.postMessage(message, transfer);
	let state: Promise<State> | null = null;
	// Tasks run one after the other, even when a handler awaits.
	let queue: Promise<void> = Promise.resolve();
	port.on('message', (message: ToThread) => {
		if (message.kind === 'init') {
			state = Promise.resolve().then(() => handlers.setup(message.data as Init));
			state.then(
				() => post({ kind: 'ready' }),
				(error: unknown) => post({ kind: 'failed', id: null, error: toAppError(error) })
			);
			return;
		}
		const { id } = message;
		const task = message.data as Task;
		const ready = state;
		queue = queue.then(async () => {
			try {
				if (!ready) throw new Error('A thread got a task before its setup.');
				const result = await handlers.run(await ready, task, {
					emit: (event, transfer) => post({ kind: 'event', id, data: event }, transfer)
				});
				post({ kind: 'done', id, data: result }, handlers.transfer?.(result) ?? []);
			} catch (error) {
				post({ kind: 'failed', id, error: toAppError(error) });
			}
		});
	});
}
