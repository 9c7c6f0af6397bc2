import type { EvaluationRecord } from './api/evaluation';

/** Formats a duration for progress displays: `42 s`, `3 min 05 s`, `2 h 07 min`. */
export function formatDuration(seconds: number): string {
	if (!Number.isFinite(seconds) || seconds < 0) return '?';
	const whole = Math.round(seconds);
	if (whole < 60) return `${whole} s`;
	if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
	return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

/** A byte count in MiB, with one decimal unless whole: `20 MiB`, `18.5 MiB`. */
export function formatMiB(bytes: number): string {
	const mib = bytes / 2 ** 20;
	return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}

/**
 * An accuracy (a fraction in [0, 1]) as every table and chart shows it: a percentage with one
 * decimal, `73.4%`; `—` when missing.
 */
export function formatAccuracy(fraction: number | null | undefined): string {
	if (fraction == null || !Number.isFinite(fraction)) return '—';
	return `${(fraction * 100).toFixed(1)}%`;
}

/**
 * The gap closed (a fraction: 0 at random init, 1 at the real-data control) as every table
 * shows it: a whole percentage, `46%`, `−12%`, `112%`; `—` when null.
 */
export function formatGapClosed(gap: number | null | undefined): string {
	if (gap == null || !Number.isFinite(gap)) return '—';
	const percent = Math.round(gap * 100);
	return `${percent < 0 ? '−' : ''}${Math.abs(percent)}%`;
}

/** How a stored evaluation was probed (see {@link describeProbe}). */
export function probeOf(
	evaluation: Pick<EvaluationRecord, 'config' | 'protocol' | 'layer'>
): string {
	return describeProbe({
		...evaluation.config,
		protocol: evaluation.protocol,
		layer: evaluation.layer
	});
}

/** The settings that decide an accuracy, as {@link describeProbe} reads them. */
export interface ProbeSettings {
	protocol: 'linear' | 'knn';
	layer?: string | undefined;
	epochs: number;
	views: number;
	standardize: boolean;
	knnK: readonly number[];
	maxTrain: number | null;
	seed: number;
}

/**
 * How an accuracy was measured, shown next to it wherever it appears (two floors differ when
 * their probes did): `linear probe, fc6, 100 epochs, 4 views, standardised, seed 0`.
 */
export function describeProbe(settings: ProbeSettings): string {
	const parts =
		settings.protocol === 'linear' ? ['linear probe'] : [`kNN k = ${settings.knnK.join(', ')}`];
	if (settings.layer) parts.push(settings.layer);
	if (settings.protocol === 'linear') {
		parts.push(
			`${settings.epochs} epoch${settings.epochs === 1 ? '' : 's'}`,
			`${settings.views} view${settings.views === 1 ? '' : 's'}`
		);
	}
	parts.push(settings.standardize ? 'standardised' : 'raw features');
	if (settings.maxTrain !== null) {
		parts.push(`at most ${settings.maxTrain.toLocaleString('en-US')} training images`);
	}
	parts.push(`seed ${settings.seed}`);
	return parts.join(', ');
}
