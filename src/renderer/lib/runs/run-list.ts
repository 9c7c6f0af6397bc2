/**
 * The runs list every area shows, as pure functions over records: one order (newest first) and
 * how a `runs.changed` record or a `runs.progress` event updates it. `RunsStore` applies them.
 */
import type { RunProgress, RunRecord } from '../../../core/api/training';

/** Newest first: by creation time, then by id (runs created in the same millisecond). */
export function newestFirst(runs: readonly RunRecord[]): RunRecord[] {
	return [...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
}

/** The list with `run` added or replaced, newest first. */
export function upsertRun(runs: readonly RunRecord[], run: RunRecord): RunRecord[] {
	return newestFirst([...runs.filter((candidate) => candidate.id !== run.id), run]);
}

/**
 * The list with a live progress applied to its run (step, backend, skipped images, loss); null
 * when the run is not in the list (started elsewhere: the list must be fetched again).
 */
export function applyRunProgress(
	runs: readonly RunRecord[],
	progress: RunProgress
): RunRecord[] | null {
	if (!runs.some((run) => run.id === progress.runId)) return null;
	return runs.map((run) =>
		run.id === progress.runId
			? {
					...run,
					step: progress.step,
					steps: progress.steps,
					backend: progress.backend ?? run.backend,
					skippedImages: progress.skippedImages,
					lastLoss: progress.metric?.loss ?? run.lastLoss
				}
			: run
	);
}
