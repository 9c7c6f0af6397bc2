/** How the Training lab words runs: statuses, durations, sizes, rates and which controls apply. */
import {
	resumableStatuses,
	type RunEstimate,
	type RunRecord,
	type RunStatus
} from '../../../core/api/training';
import { formatDuration } from '../../../core/format';
import { engineLabel } from '../../../core/training/parallelism';

/**
 * Each status as words and a symbol, so that a badge never relies on its colour alone. `tone`
 * picks the colour: `active` is running, `ok` done, `warn` needs a decision, `error` broke.
 */
export const statusPresentation: Record<
	RunStatus,
	{ label: string; symbol: string; tone: 'active' | 'ok' | 'warn' | 'error' | 'muted' }
> = {
	queued: { label: 'Queued', symbol: '⋯', tone: 'muted' },
	running: { label: 'Running', symbol: '▶', tone: 'active' },
	paused: { label: 'Paused', symbol: '❚❚', tone: 'warn' },
	interrupted: { label: 'Interrupted', symbol: '↯', tone: 'warn' },
	completed: { label: 'Completed', symbol: '✓', tone: 'ok' },
	cancelled: { label: 'Cancelled', symbol: '■', tone: 'muted' },
	failed: { label: 'Failed', symbol: '✕', tone: 'error' },
	diverged: { label: 'Diverged', symbol: '⚠', tone: 'error' }
};

/** Which run controls make sense in a status. */
export function runControls(status: RunStatus): {
	pause: boolean;
	resume: boolean;
	cancel: boolean;
} {
	const resumable = resumableStatuses.includes(status);
	return {
		// Pausing a queued run takes it out of the queue.
		pause: status === 'running' || status === 'queued',
		resume: resumable,
		cancel: status === 'running' || status === 'queued' || resumable
	};
}

/** Whether a run can still change: its dashboard listens for live progress. */
export function isLive(status: RunStatus): boolean {
	return status === 'running';
}

/**
 * A duration as an estimate: whole minutes between a minute and an hour (`12 min`), where the
 * seconds of {@link formatDuration} would claim a precision a warm-up cannot give.
 */
export function formatApproxDuration(seconds: number): string {
	if (Number.isFinite(seconds) && seconds >= 60 && seconds < 3600) {
		return `${Math.round(seconds / 60)} min`;
	}
	return formatDuration(seconds);
}

/** A throughput with sensible precision: `210 img/s`, `7.5 img/s`. */
export function formatRate(imagesPerSecond: number): string {
	if (!Number.isFinite(imagesPerSecond)) return '? img/s';
	const digits = imagesPerSecond >= 100 ? 0 : imagesPerSecond >= 10 ? 1 : 2;
	return `${imagesPerSecond.toFixed(digits)} img/s`;
}

/**
 * The result of `runs.estimate` in one line: `≈ 12 min on wasm (210 img/s)`, or
 * `… on wasm, 2 replicas (…)`.
 */
export function formatEstimate(estimate: RunEstimate): string {
	const rate = formatRate(estimate.imagesPerSecond);
	const engine = engineLabel(estimate.backend, estimate.replicas);
	return `≈ ${formatApproxDuration(estimate.totalSeconds)} on ${engine} (${rate})`;
}

/** A file size: `812 B`, `4.2 MB`, `1.3 GB` (powers of 1000, as file managers show). */
export function formatBytes(bytes: number): string {
	if (bytes < 1000) return `${bytes} B`;
	const units = ['kB', 'MB', 'GB', 'TB'];
	let value = bytes / 1000;
	let unit = 0;
	while (value >= 1000 && unit < units.length - 1) {
		value /= 1000;
		unit++;
	}
	return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit] ?? 'TB'}`;
}

/** A loss value for lists and headers. */
export function formatLoss(loss: number | null, digits = 4): string {
	if (loss === null) return '—';
	if (!Number.isFinite(loss)) return String(loss);
	return loss.toFixed(digits);
}

/**
 * Epochs done at a step, for a virtual dataset whose size is known; null for a folder source
 * (its size is known only to the worker, which reports the epoch live).
 */
export function epochAt(run: Pick<RunRecord, 'config' | 'step'>): number | null {
	const { source, batch } = run.config;
	if (source.kind !== 'generator') return null;
	return (run.step * batch) / source.count;
}

/** The share of a run's steps done, in [0, 1]. */
export function progressFraction(run: Pick<RunRecord, 'step' | 'steps'>): number {
	return run.steps > 0 ? Math.min(1, Math.max(0, run.step / run.steps)) : 0;
}

/** A run as a picker option: "name — completed, 1,200 steps", or "name — imported resnet50". */
export function runOptionLabel(run: RunRecord): string {
	if (run.imported) return `${run.name} — imported ${run.imported.architecture.kind}`;
	return `${run.name} — ${statusPresentation[run.status].label.toLowerCase()}, ${run.step.toLocaleString()} steps`;
}
