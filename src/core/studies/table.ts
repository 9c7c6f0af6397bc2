/**
 * Sorting the rows of a study's results table, apart from how the rows are built so that the
 * renderer can sort without loading the generator registry.
 */
import type { ResultRow } from '../api/studies';

/** What the results table can be sorted by: spec order, name, the paper, or a target's mean. */
export type ResultSortKey = 'order' | 'label' | 'paper' | `target:${string}`;

/**
 * Rows sorted by a key; rows without a value go last in either direction, and ties keep the
 * study's order.
 */
export function sortResultRows(
	rows: readonly ResultRow[],
	key: ResultSortKey,
	direction: 'asc' | 'desc'
): ResultRow[] {
	const order = new Map(rows.map((row, index) => [row.key, index]));
	const value = (row: ResultRow): number | string | null => {
		if (key === 'order') return order.get(row.key) ?? 0;
		if (key === 'label') return row.label.toLowerCase();
		if (key === 'paper') return row.paper?.top1 ?? null;
		return row.cells[key.slice('target:'.length)]?.mean ?? null;
	};
	const sign = direction === 'asc' ? 1 : -1;
	return [...rows].sort((a, b) => {
		const va = value(a);
		const vb = value(b);
		if (va === null || vb === null) {
			if (va === vb) return (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0);
			return va === null ? 1 : -1;
		}
		const compared = va < vb ? -1 : va > vb ? 1 : 0;
		return compared * sign || (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0);
	});
}
