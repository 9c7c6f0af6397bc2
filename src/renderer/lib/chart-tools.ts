/**
 * What every metric chart offers besides drawing (TensorBoard's habits): smoothing, a read-out of
 * the values under the pointer, and the chart as a PNG file.
 */

import type { SeriesPoint as ChartPoint } from './training/series';

/**
 * TensorBoard's smoothing: an exponential moving average with weight `weight` (0 = none, 0.99 =
 * heavy), debiased so that the first points are not pulled towards 0. Non-finite values (a
 * diverged step) stay gaps and do not poison the average.
 */
export function smoothSeries(points: readonly ChartPoint[], weight: number): ChartPoint[] {
	if (!(weight > 0)) return points.slice();
	const w = Math.min(weight, 0.999);
	let last = 0;
	let debias = 0;
	return points.map((point) => {
		if (!Number.isFinite(point.y)) return { x: point.x, y: Number.NaN };
		last = last * w + (1 - w) * point.y;
		debias = debias * w + (1 - w);
		return { x: point.x, y: last / debias };
	});
}

/** The point of `points` nearest to step `x` (points ordered by x), or null when empty. */
export function pointNearest(points: readonly ChartPoint[], x: number): ChartPoint | null {
	let low = 0;
	let high = points.length - 1;
	if (high < 0) return null;
	while (low < high) {
		const middle = (low + high) >> 1;
		if ((points[middle] as ChartPoint).x < x) low = middle + 1;
		else high = middle;
	}
	const after = points[low] as ChartPoint;
	const before = points[low - 1];
	return before && Math.abs(before.x - x) <= Math.abs(after.x - x) ? before : after;
}

/** The read-out line for step `x`: each series' value there, worded by `format`. */
export function readout(
	series: readonly { label: string; points: readonly ChartPoint[] }[],
	x: number,
	format: (value: number) => string
): string {
	const parts = series.flatMap((line) => {
		const point = pointNearest(line.points, x);
		return point ? [`${line.label} ${Number.isFinite(point.y) ? format(point.y) : '—'}`] : [];
	});
	const step = series.map((line) => pointNearest(line.points, x)).find(Boolean)?.x ?? x;
	return `step ${Math.round(step).toLocaleString('en')}: ${parts.join(' · ')}`;
}

/** A file name for a chart's PNG: its title in lower case, words joined by dashes. */
export function chartFileName(title: string): string {
	const slug = title
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-|-$/g, '');
	return `${slug || 'chart'}.png`;
}
