/**
 * A comparison of runs as data: a colour per run, the overlaid training curves, and per
 * (dataset, protocol) each run's accuracy next to the controls it was measured with.
 */
import type { EvaluationRecord } from '../../../core/api/evaluation';
import type { MetricPoint, RunRecord } from '../../../core/api/training';
import { gapClosed } from '../../../core/evaluation/metrics';
import { probeOf } from '../../../core/format';
import { chartSeries, type MetricKey, type SeriesPoint } from '../training/series';
import {
	accuracyColumns,
	controlsOf,
	latestEncoderEvaluations,
	type AccuracyColumn
} from '../../../core/history/table';

/**
 * Run colours (Tableau 10's first eight): told apart by most colour-blind readers, and legible
 * on the light and the dark surface alike.
 */
export const runPalette = [
	'#4e79a7',
	'#f28e2b',
	'#e15759',
	'#59a14f',
	'#b07aa1',
	'#76b7b2',
	'#edc948',
	'#9c755f'
] as const;

/** The colour of the i-th compared run (the palette repeats past eight runs). */
export function runColor(index: number): string {
	return runPalette[index % runPalette.length] ?? runPalette[0];
}

/** Points per line in an overlay: several runs share a chart, so each gets fewer. */
export const overlayPointsPerRun = 600;

/** One run's line in an overlaid chart. */
export interface OverlaySeries {
	label: string;
	color: string;
	points: SeriesPoint[];
}

/** One metric of each compared run, thinned, one colour per run (in the order of `runs`). */
export function overlaySeries(
	runs: readonly Pick<RunRecord, 'id' | 'name'>[],
	metricsByRun: Readonly<Record<number, readonly MetricPoint[]>>,
	key: MetricKey,
	maxPoints: number = overlayPointsPerRun
): OverlaySeries[] {
	return runs.map((run, index) => ({
		label: run.name,
		color: runColor(index),
		points: chartSeries(metricsByRun[run.id] ?? [], key, maxPoints)
	}));
}

/** One run's figures in one accuracy chart. Accuracies are fractions; null: not measured. */
export interface RunAccuracy {
	runId: number;
	name: string;
	color: string;
	encoder: number | null;
	randomInit: number | null;
	real: number | null;
	/** `(noise − random) / (real − random)`, when both controls were measured. */
	gapClosed: number | null;
	/** How the encoder's accuracy was probed ({@link probeOf}); null when not measured. */
	probe: string | null;
}

/** The accuracies of the compared runs on one (dataset, protocol). */
export interface AccuracyGroup {
	column: AccuracyColumn;
	runs: RunAccuracy[];
}

/**
 * Per (dataset, protocol) that at least one compared run was evaluated on: each run's latest
 * completed encoder accuracy and the random-init and real-data controls of that same evaluation
 * group, so that every bar sits next to the baselines it was measured against.
 */
export function accuracyGroups(
	runs: readonly Pick<RunRecord, 'id' | 'name'>[],
	evaluations: readonly EvaluationRecord[]
): AccuracyGroup[] {
	const ids = new Set(runs.map((run) => run.id));
	const latest = latestEncoderEvaluations(evaluations);
	const columns = accuracyColumns(evaluations.filter((evaluation) => ids.has(evaluation.runId)));
	return columns.map((column) => ({
		column,
		runs: runs.map((run, index) => {
			const evaluation = latest.get(run.id)?.[column.key] ?? null;
			const controls = evaluation
				? controlsOf(evaluation, evaluations)
				: { randomInit: null, real: null };
			const encoder = evaluation?.metrics?.top1 ?? null;
			const randomInit = controls.randomInit?.metrics?.top1 ?? null;
			const real = controls.real?.metrics?.top1 ?? null;
			return {
				runId: run.id,
				name: run.name,
				color: runColor(index),
				encoder,
				randomInit,
				real,
				gapClosed:
					encoder !== null && randomInit !== null && real !== null
						? gapClosed(encoder, randomInit, real)
						: null,
				probe: evaluation ? probeOf(evaluation) : null
			};
		})
	}));
}

/** The x axis end of an overlay: the longest compared run. */
export function longestRun(runs: readonly Pick<RunRecord, 'steps'>[]): number {
	return runs.reduce((longest, run) => Math.max(longest, run.steps), 0);
}
