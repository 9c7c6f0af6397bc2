/**
 * The messages between a {@link ThreadPool} and its threads (`serveThread`): one setup message,
 * then tasks, each answered by any number of events and one result or failure.
 */
import type { AppError } from '../../core/api/errors';

/** Messages to a thread. */
export type ToThread =
	{ kind: 'init'; data: unknown } | { kind: 'task'; id: number; data: unknown };

/** Messages from a thread. `failed` with `id: null` is a failed setup. */
export type FromThread =
	| { kind: 'ready' }
	| { kind: 'event'; id: number; data: unknown }
	| { kind: 'done'; id: number; data: unknown }
	| { kind: 'failed'; id: number | null; error: AppError };
