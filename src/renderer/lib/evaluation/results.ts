/**
 * How the Evaluate area reads stored evaluations: one row per group (an encoder and its
 * controls, started together), the gap-closed score, and the wording of accuracies and roles.
 */
import { gapClosed as gapClosedOf } from '../../../core/evaluation/metrics';
import { formatDuration } from '../../../core/format';
import type {
	EvaluationProgress,
	EvaluationRecord,
	EvaluationRole
} from '../../../core/api/evaluation';

/** Roles in the order the table and the chart show them. */
export const roleOrder: readonly EvaluationRole[] = ['encoder', 'random-init', 'real'];

/** Each role in words. */
export const roleLabels: Record<EvaluationRole, string> = {
	encoder: 'Encoder',
	'random-init': 'Random init',
	real: 'Real data'
};

/** One evaluation group as the results table shows it. */
export interface EvaluationGroupRow {
	groupId: string;
	/** The run whose encoder was measured (the `encoder` role's run). */
	runId: number;
	dataset: string;
	protocol: EvaluationRecord['protocol'];
	layer: EvaluationRecord['layer'];
	createdAt: string;
	byRole: Partial<Record<EvaluationRole, EvaluationRecord>>;
	/** `running` while any member runs, else `failed` when any failed, else the members' own. */
	status: EvaluationRecord['status'];
	/** The gap closed by the encoder, or null (see {@link gapClosedReason}). */
	gap: number | null;
}

/** The gap closed, null when any figure is missing (see core's {@link gapClosedOf} for the rest). */
export function gapClosed(
	noise: number | null | undefined,
	random: number | null | undefined,
	real: number | null | undefined
): number | null {
	if (noise == null || random == null || real == null) return null;
	return gapClosedOf(noise, random, real);
}

/** Why a group has no gap-closed score, for the tooltip of its `—`; null when it has one. */
export function gapClosedReason(
	noise: number | null | undefined,
	random: number | null | undefined,
	real: number | null | undefined
): string | null {
	if (gapClosed(noise, random, real) !== null) return null;
	if (real == null) return 'Needs a real-data control: evaluate with a run trained on real images.';
	if (random == null) return 'Needs the random-init control.';
	if (noise == null) return 'The encoder has no result.';
	return 'The real-data control does not beat random init here, so the ratio means nothing.';
}

function top1Of(record: EvaluationRecord | undefined): number | null {
	return record?.status === 'completed' ? (record.metrics?.top1 ?? null) : null;
}

function groupStatus(records: readonly EvaluationRecord[]): EvaluationRecord['status'] {
	if (records.some((record) => record.status === 'running')) return 'running';
	if (records.some((record) => record.status === 'failed')) return 'failed';
	if (records.some((record) => record.status === 'cancelled')) return 'cancelled';
	return 'completed';
}

/** The top-1 of each role of a row, null where a role is absent or has no result. */
export function rowTop1(row: EvaluationGroupRow): Record<EvaluationRole, number | null> {
	return {
		encoder: top1Of(row.byRole.encoder),
		'random-init': top1Of(row.byRole['random-init']),
		real: top1Of(row.byRole.real)
	};
}

/**
 * Groups evaluations into rows by `groupId`, newest group first. A group's run is its encoder's;
 * when a role appears twice (it should not), the later record wins.
 */
export function groupEvaluations(records: readonly EvaluationRecord[]): EvaluationGroupRow[] {
	const groups = new Map<string, EvaluationRecord[]>();
	for (const record of records) {
		const members = groups.get(record.groupId);
		if (members) members.push(record);
		else groups.set(record.groupId, [record]);
	}
	const rows = [...groups.entries()].map(([groupId, members]): EvaluationGroupRow => {
		const ordered = [...members].sort((a, b) => a.id - b.id);
		const byRole: EvaluationGroupRow['byRole'] = {};
		for (const record of ordered) byRole[record.role] = record;
		const first = byRole.encoder ?? (ordered[0] as EvaluationRecord);
		const createdAt = ordered.reduce(
			(earliest, record) => (record.createdAt < earliest ? record.createdAt : earliest),
			first.createdAt
		);
		const row: EvaluationGroupRow = {
			groupId,
			runId: first.runId,
			dataset: first.dataset,
			protocol: first.protocol,
			layer: first.layer,
			createdAt,
			byRole,
			status: groupStatus(ordered),
			gap: null
		};
		const top1 = rowTop1(row);
		row.gap = gapClosed(top1.encoder, top1['random-init'], top1.real);
		return row;
	});
	const newestId = (row: EvaluationGroupRow) =>
		Math.max(...Object.values(row.byRole).map((record) => record.id));
	return rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || newestId(b) - newestId(a));
}

/** Replaces (or adds) one record in a list, keeping the list's other records as they were. */
export function upsertEvaluation(
	records: readonly EvaluationRecord[],
	record: EvaluationRecord
): EvaluationRecord[] {
	const index = records.findIndex((candidate) => candidate.id === record.id);
	if (index === -1) return [record, ...records];
	return records.map((candidate, at) => (at === index ? record : candidate));
}

/** The kNN k's present in a row's results, ascending. */
export function rowKnnKs(row: EvaluationGroupRow): string[] {
	const ks = new Set<string>();
	for (const record of Object.values(row.byRole)) {
		for (const k of Object.keys(record.metrics?.knn ?? {})) ks.add(k);
	}
	return [...ks].sort((a, b) => Number(a) - Number(b));
}

/** Progress of one evaluation as a fraction in [0, 1], counting the phases in order. */
export function evaluationProgressFraction(progress: EvaluationProgress | undefined): number {
	if (!progress) return 0;
	const phases: EvaluationProgress['phase'][] = ['loading', 'features', 'training', 'scoring'];
	const phase = phases.indexOf(progress.phase);
	const within = progress.total > 0 ? Math.min(1, Math.max(0, progress.done / progress.total)) : 0;
	return (phase + within) / phases.length;
}

/**
 * Seconds left in a phase at its pace so far; null until a second of it has passed and some of
 * it is done (no guess from nothing), and once it is done.
 */
export function phaseSecondsLeft(
	progress: Pick<EvaluationProgress, 'done' | 'total'>,
	elapsedSeconds: number
): number | null {
	const { done, total } = progress;
	if (done <= 0 || done >= total || elapsedSeconds < 1) return null;
	return (elapsedSeconds / done) * (total - done);
}

/**
 * What a running evaluation is doing: the worker's message (it names the phase itself, so it is
 * not prefixed again), the count when there is one, and the time left when known.
 */
export function progressText(progress: EvaluationProgress, secondsLeft: number | null): string {
	const parts = [progress.message];
	if (progress.total > 0) {
		parts.push(
			`${progress.done.toLocaleString('en-US')} / ${progress.total.toLocaleString('en-US')}`
		);
	}
	if (secondsLeft !== null) parts.push(`about ${formatDuration(secondsLeft)} left`);
	return parts.join(' · ');
}

/** Elapsed seconds as a clock: `0:42`, `4:05`, `1:02:03`. */
export function formatClock(seconds: number): string {
	const whole = Math.max(0, Math.floor(seconds));
	const hours = Math.floor(whole / 3600);
	const minutes = Math.floor((whole % 3600) / 60);
	const rest = String(whole % 60).padStart(2, '0');
	return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}
