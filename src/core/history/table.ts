/**
 * The Runs table as data: one row per run with its accuracy columns, and the sorting and
 * filtering the table offers. Pure, so the export and the tests see exactly what the table shows.
 */
import type { EvaluationRecord } from '../api/evaluation';
import type { RunRecord, RunStatus } from '../api/training';
import type { ModelPresetId } from '../training/config';

/** One accuracy column: a (dataset, protocol) pair that some run has a completed evaluation on. */
export interface AccuracyColumn {
	/** `dataset|protocol`, unique among the columns. */
	key: string;
	dataset: string;
	protocol: EvaluationRecord['protocol'];
}

/** A run as the table shows it. Accuracies are fractions in [0, 1], keyed by column key. */
export interface RunRow {
	run: RunRecord;
	/** The latest completed encoder evaluation per accuracy column (absent: none). */
	evaluations: Record<string, EvaluationRecord>;
	accuracies: Record<string, number>;
}

/** The columns a table can be sorted by; accuracy columns are `acc:` + their key. */
export type SortKey =
	'name' | 'status' | 'source' | 'model' | 'steps' | 'loss' | 'date' | 'tags' | `acc:${string}`;

/** A sort order of the table. */
export interface SortOrder {
	key: SortKey;
	direction: 'asc' | 'desc';
}

/** What the table is narrowed to; empty strings mean "any". */
export interface RunFilter {
	/** Words that must all appear in the name, source label or tags (case-insensitive). */
	text: string;
	status: RunStatus | '';
	model: ModelPresetId | '';
}

/** The filter that keeps every run. */
export const emptyFilter: RunFilter = { text: '', status: '', model: '' };

/** The key of an accuracy column. */
export function accuracyKey(dataset: string, protocol: EvaluationRecord['protocol']): string {
	return `${dataset}|${protocol}`;
}

/**
 * Whether an evaluation measured the run's own encoder: as the encoder evaluated, or as the
 * real-data control of another run's evaluation (then it is still this run's accuracy).
 */
function isUsableEncoderResult(evaluation: EvaluationRecord): boolean {
	return (
		evaluation.role !== 'random-init' &&
		evaluation.status === 'completed' &&
		evaluation.metrics !== null &&
		Number.isFinite(evaluation.metrics.top1)
	);
}

/** Newer first: by creation time, then by id (ids grow, and timestamps can tie). */
function isNewer(candidate: EvaluationRecord, current: EvaluationRecord): boolean {
	const byTime = candidate.createdAt.localeCompare(current.createdAt);
	return byTime > 0 || (byTime === 0 && candidate.id > current.id);
}

/**
 * The accuracy columns of a set of evaluations: one per (dataset, protocol) with at least one
 * completed encoder evaluation, sorted by dataset then protocol (linear before knn).
 */
export function accuracyColumns(evaluations: readonly EvaluationRecord[]): AccuracyColumn[] {
	const columns = new Map<string, AccuracyColumn>();
	for (const evaluation of evaluations) {
		if (!isUsableEncoderResult(evaluation)) continue;
		const key = accuracyKey(evaluation.dataset, evaluation.protocol);
		columns.set(key, { key, dataset: evaluation.dataset, protocol: evaluation.protocol });
	}
	return [...columns.values()].sort(
		(a, b) => a.dataset.localeCompare(b.dataset) || a.protocol.localeCompare(b.protocol)
	);
}

/**
 * For each run, its latest completed evaluation of its own encoder per (dataset, protocol),
 * counting those where it served as another run's real-data control. Running, failed and
 * cancelled evaluations and random-init controls never fill a run's column: the column answers
 * "what did this run's encoder score".
 */
export function latestEncoderEvaluations(
	evaluations: readonly EvaluationRecord[]
): Map<number, Record<string, EvaluationRecord>> {
	const byRun = new Map<number, Record<string, EvaluationRecord>>();
	for (const evaluation of evaluations) {
		if (!isUsableEncoderResult(evaluation)) continue;
		const key = accuracyKey(evaluation.dataset, evaluation.protocol);
		const ofRun = byRun.get(evaluation.runId) ?? {};
		const current = ofRun[key];
		if (!current || isNewer(evaluation, current)) ofRun[key] = evaluation;
		byRun.set(evaluation.runId, ofRun);
	}
	return byRun;
}

/** The table's rows, in the order of `runs`. */
export function buildRows(
	runs: readonly RunRecord[],
	evaluations: readonly EvaluationRecord[]
): RunRow[] {
	const latest = latestEncoderEvaluations(evaluations);
	return runs.map((run) => {
		const ofRun = latest.get(run.id) ?? {};
		const accuracies: Record<string, number> = {};
		for (const [key, evaluation] of Object.entries(ofRun)) {
			if (evaluation.metrics) accuracies[key] = evaluation.metrics.top1;
		}
		return { run, evaluations: ofRun, accuracies };
	});
}

/** The same controls a run's accuracy was measured with: the other members of its group. */
export function controlsOf(
	evaluation: EvaluationRecord,
	evaluations: readonly EvaluationRecord[]
): { randomInit: EvaluationRecord | null; real: EvaluationRecord | null } {
	const find = (role: EvaluationRecord['role']) =>
		evaluations.find(
			(candidate) =>
				candidate.groupId === evaluation.groupId &&
				candidate.role === role &&
				candidate.status === 'completed' &&
				candidate.metrics !== null
		) ?? null;
	return { randomInit: find('random-init'), real: find('real') };
}

/** The value a row sorts by in a column; null sorts last whichever the direction. */
function sortValue(row: RunRow, key: SortKey): string | number | null {
	const run = row.run;
	switch (key) {
		case 'name':
			return run.name;
		case 'status':
			return run.status;
		case 'source':
			return run.sourceLabel;
		case 'model':
			return modelLabel(run);
		case 'steps':
			return run.step;
		case 'loss':
			return run.lastLoss !== null && Number.isFinite(run.lastLoss) ? run.lastLoss : null;
		case 'date':
			return run.createdAt;
		case 'tags':
			return run.tags.length > 0 ? [...run.tags].sort().join(' ') : null;
		default:
			return row.accuracies[key.slice('acc:'.length)] ?? null;
	}
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * The rows sorted by one column. Missing values (no loss yet, no evaluation, no tags) go last
 * in both directions, so flipping the order never buries the runs that have a value. Ties keep
 * the newest run first.
 */
export function sortRows(rows: readonly RunRow[], order: SortOrder): RunRow[] {
	const sign = order.direction === 'asc' ? 1 : -1;
	return [...rows].sort((a, b) => {
		const left = sortValue(a, order.key);
		const right = sortValue(b, order.key);
		if (left === null || right === null) {
			if (left !== right) return left === null ? 1 : -1;
		} else {
			const compared =
				typeof left === 'number' && typeof right === 'number'
					? left - right
					: collator.compare(String(left), String(right));
			if (compared !== 0) return sign * compared;
		}
		return b.run.createdAt.localeCompare(a.run.createdAt) || b.run.id - a.run.id;
	});
}

/** Whether a row passes a filter. */
export function matchesFilter(row: RunRow, filter: RunFilter): boolean {
	const run = row.run;
	if (filter.status && run.status !== filter.status) return false;
	if (filter.model && modelLabel(run) !== filter.model) return false;
	const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
	if (words.length === 0) return true;
	const haystack = [run.name, run.sourceLabel, ...run.tags].join('\n').toLowerCase();
	return words.every((word) => haystack.includes(word));
}

/** The rows that pass a filter, in order. */
export function filterRows(rows: readonly RunRow[], filter: RunFilter): RunRow[] {
	return rows.filter((row) => matchesFilter(row, filter));
}

/** The order a click on a column header asks for: flip the current column, else a sensible start. */
export function nextSortOrder(current: SortOrder, key: SortKey): SortOrder {
	if (current.key === key) {
		return { key, direction: current.direction === 'asc' ? 'desc' : 'asc' };
	}
	// Text reads A→Z and the best loss is the lowest; accuracies, steps and dates are most
	// useful largest or newest first.
	const ascending = ['name', 'status', 'source', 'model', 'tags', 'loss'].includes(key);
	return { key, direction: ascending ? 'asc' : 'desc' };
}

/** An accuracy column's title: `fashion-mnist-mini · linear`. */
export function accuracyTitle(column: Pick<AccuracyColumn, 'dataset' | 'protocol'>): string {
	return `${column.dataset} · ${column.protocol}`;
}

/** An accuracy as a percentage with one decimal (`81.3`), or null when missing. */
export function formatPercent(fraction: number | null | undefined): string | null {
	if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return null;
	return (fraction * 100).toFixed(1);
}

/** A timestamp's date as `2025-01-31` (UTC, as stored). */
export function formatDate(iso: string): string {
	return iso.slice(0, 10);
}

/** A tag list after adding one: trimmed, no duplicates, at most 40 characters (the API's limit). */
export function addTag(tags: readonly string[], tag: string): string[] {
	const cleaned = tag.trim().slice(0, 40);
	if (!cleaned || tags.includes(cleaned)) return [...tags];
	return [...tags, cleaned];
}

/**
 * What a run's encoder is, in one word: its training preset (`tiny`, `alexnet`, …), or an
 * imported encoder's architecture (`resnet50`, `smallalexnet`).
 */
export function modelLabel(run: Pick<RunRecord, 'config' | 'imported'>): string {
	return run.imported ? run.imported.architecture.kind : run.config.model;
}
