/**
 * A worker process stand-in for service tests: a WorkerChannel whose tasks are answered by a
 * script in this process, so a service runs against the real WorkerClient protocol without
 * starting a process or needing what the real worker needs (a GPU, a trained model).
 */
import type { FromWorkerMessage, ToWorkerMessage } from '../../src/core/workers/protocol';
import type { WorkerChannel } from '../../src/main/workers/host';

/** Answers one `run` message; `reply` sends progress and the final `done`. */
export type TaskScript = (
	message: Extract<ToWorkerMessage, { kind: 'run' }>,
	reply: (message: FromWorkerMessage) => void
) => void;

/** A launcher for a WorkerFactory: every worker it starts answers with `script`. */
export function scriptedLauncher(script: TaskScript): () => WorkerChannel {
	return () => {
		let listener: (message: unknown) => void = () => undefined;
		let exit: (info: { code: number | null; signal: string | null }) => void = () => undefined;
		// Asynchronously, as a process would: the client registers the run before it is answered.
		const reply = (message: FromWorkerMessage) => setImmediate(() => listener(message));
		return {
			pid: undefined,
			send(message: ToWorkerMessage) {
				if (message.kind === 'run') script(message, reply);
			},
			onMessage: (next) => {
				listener = next;
			},
			onExit: (next) => {
				exit = next;
			},
			stderrTail: () => '',
			kill: () => setImmediate(() => exit({ code: 0, signal: null }))
		};
	};
}
