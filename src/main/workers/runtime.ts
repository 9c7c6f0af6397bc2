import { toAppError, type Result } from '../../core/api/errors';
import {
	isToWorkerMessage,
	type FromWorkerMessage,
	type TaskMap,
	type TaskSpec
} from '../../core/workers/protocol';

/** What a task handler gets besides its input. */
export interface TaskContext<Progress> {
	/** Aborted when the parent cancels this run; long loops should check it. */
	signal: AbortSignal;
	progress(progress: Progress): void;
}

/** One task's implementation inside a worker. */
export type TaskHandler<Spec extends TaskSpec> = (
	input: Spec['input'],
	context: TaskContext<Spec['progress']>
) => Promise<Spec['output']> | Spec['output'];

interface ParentPort {
	postMessage(message: unknown): void;
	on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

/**
 * Serves tasks in a worker process, whichever way it was started: Electron utility processes
 * talk through `process.parentPort`, Node children through `process.send`.
 */
export function serveWorker<Tasks extends TaskMap>(handlers: {
	[K in keyof Tasks]: TaskHandler<Tasks[K]>;
}): void {
	const parentPort = (process as { parentPort?: ParentPort }).parentPort;
	const post = (message: FromWorkerMessage) => {
		if (parentPort) parentPort.postMessage(message);
		else process.send?.(message);
	};
	const running = new Map<number, AbortController>();

	const receive = async (message: unknown) => {
		if (!isToWorkerMessage(message)) return;
		if (message.kind === 'cancel') {
			running.get(message.id)?.abort();
			return;
		}
		const { id, task, input } = message;
		const handler = Object.hasOwn(handlers, task) ? handlers[task as keyof Tasks] : undefined;
		let result: Result<unknown>;
		if (!handler) {
			result = {
				ok: false,
				error: {
					code: 'INTERNAL',
					message: `This worker has no task "${task}"; it knows ${Object.keys(handlers).join(', ')}.`
				}
			};
		} else {
			const controller = new AbortController();
			running.set(id, controller);
			try {
				const value = await handler(input, {
					signal: controller.signal,
					progress: (progress) => post({ kind: 'progress', id, progress })
				});
				result = controller.signal.aborted
					? { ok: false, error: { code: 'CANCELLED', message: `"${task}" was cancelled.` } }
					: { ok: true, value };
			} catch (error) {
				result = controller.signal.aborted
					? { ok: false, error: { code: 'CANCELLED', message: `"${task}" was cancelled.` } }
					: { ok: false, error: toAppError(error) };
			} finally {
				running.delete(id);
			}
		}
		post({ kind: 'done', id, result });
	};

	if (parentPort) parentPort.on('message', (event) => void receive(event.data));
	else {
		process.on('message', (message) => void receive(message));
		// An orphaned child would otherwise linger after its parent died.
		process.on('disconnect', () => process.exit(0));
	}
	post({ kind: 'ready', tasks: Object.keys(handlers) });
}
