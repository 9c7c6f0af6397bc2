/**
 * The bundle-reader worker: reads and checks a run bundle (a file from anywhere) away from the
 * main process, so that a huge, hostile or damaged file cannot freeze the app or exhaust its
 * memory. One process per import; what it returns is safe to write.
 */
import type { TaskSpec } from '../../../core/workers/protocol';
import { readRunBundle, type RunBundle } from '../../training/bundle-reader';
import { serveWorker } from '../runtime';

/** The bundle-reader worker's tasks. */
export type BundleReaderTasks = {
	read: TaskSpec<{ path: string }, RunBundle, never>;
};

serveWorker<BundleReaderTasks>({
	read: ({ path }) => readRunBundle(path)
});
