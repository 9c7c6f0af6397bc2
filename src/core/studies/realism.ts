/**
 * Realism and diversity in a study (the paper's analysis of why some noise works): each source's
 * improved precision and recall against real images become two columns of the results table,
 * and recall against accuracy a scatter with one point per source.
 */
import type { SourcePlan, StudyResults } from '../api/studies';
import type { ExtraColumn } from './results';

/** The keys of the two columns in `results.extraColumns`. */
export const realismColumnKeys = {
	precision: 'realism-precision',
	recall: 'realism-recall'
} as const;

/**
 * The precision (realism) and recall (diversity) columns, values by source key (null where not
 * measured); none at all before any source is measured.
 */
export function realismColumns(plan: readonly SourcePlan[]): ExtraColumn[] {
	const measured = plan.filter((source) => source.realism !== undefined);
	if (measured.length === 0) return [];
	const column = (key: string, label: string, pick: 'precision' | 'recall'): ExtraColumn => ({
		key,
		label,
		values: Object.fromEntries(plan.map((source) => [source.key, source.realism?.[pick] ?? null]))
	});
	return [
		column(realismColumnKeys.precision, 'precision (realism)', 'precision'),
		column(realismColumnKeys.recall, 'recall (diversity)', 'recall')
	];
}

/** One source of the recall-against-accuracy scatter; scores and accuracy as fractions. */
export interface RealismPoint {
	source: string;
	recall: number;
	precision: number | null;
	accuracy: number;
}

/** The sources that have both a recall and a mean accuracy on the target, in table order. */
export function recallAccuracyPoints(results: StudyResults, targetKey: string): RealismPoint[] {
	const column = (key: string) => results.extraColumns.find((candidate) => candidate.key === key);
	const recall = column(realismColumnKeys.recall);
	const precision = column(realismColumnKeys.precision);
	if (!recall) return [];
	return results.rows.flatMap((row) => {
		const value = recall.values[row.key];
		const accuracy = row.cells[targetKey]?.mean;
		if (value === null || value === undefined || accuracy === null || accuracy === undefined) {
			return [];
		}
		return [
			{
				source: row.label,
				recall: value,
				precision: precision?.values[row.key] ?? null,
				accuracy
			}
		];
	});
}
