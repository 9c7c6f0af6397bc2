/**
 * Messages between a parent process (Electron main or the web server) and a worker process.
 * The same messages travel over Electron's utilityProcess port and Node's child_process IPC.
 */
import type { Result } from '../api/errors';

/** The shape of one task a worker can run. */
export interface TaskSpec<Input = unknown, Output = unknown, Progress = unknown> {
	input: Input;
	output: Output;
	progress: Progress;
}

/** A worker's tasks by name; each worker entry declares its own. */
export type TaskMap = Record<string, TaskSpec>;

/** Parent to worker. */
export type ToWorkerMessage =
	{ kind: 'run'; id: number; task: string; input: unknown } | { kind: 'cancel'; id: number };

/** Worker to parent. */
export type FromWorkerMessage =
	| { kind: 'ready'; tasks: string[] }
	| { kind: 'progress'; id: number; progress: unknown }
	| { kind: 'done'; id: number; result: Result<unknown> };

/** Narrows an unknown message (from another process) to a {@link FromWorkerMessage}. */
export function isFromWorkerMessage(message: unknown): message is FromWorkerMessage {
	if (typeof message !== 'object' || message === null) return false;
	const kind = (message as { kind?: unknown }).kind;
	return kind === 'ready' || kind === 'progress' || kind === 'done';
}

/** Narrows an unknown message (from the parent) to a {@link ToWorkerMessage}. */
export function isToWorkerMessage(message: unknown): message is ToWorkerMessage {
	if (typeof message !== 'object' || message === null) return false;
	const { kind, id } = message as { kind?: unknown; id?: unknown };
	return (kind === 'run' || kind === 'cancel') && typeof id === 'number';
}
