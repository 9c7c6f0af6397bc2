/**
 * What charts offer besides drawing (TensorBoard's habits): smoothing, the x axis by step or
 * training time, a read-out of the values under the pointer, and the chart as a PNG file.
 */
import type { Chart } from 'chart.js';
import type { SeriesPoint as ChartPoint } from './training/series';

/** What a metric chart's x axis shows: the logged step, or the run's training time. */
export type XAxisKind = 'step' | 'time';

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
		if (!Number.isFinite(point.y)) return { ...point, y: Number.NaN };
		last = last * w + (1 - w) * point.y;
		debias = debias * w + (1 - w);
		return { ...point, y: last / debias };
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

/**
 * Whether every point of every series has a training time, so the time axis can show them all
 * (runs logged before NoiseLab recorded step times have none).
 */
export function hasTimes(series: readonly { points: readonly ChartPoint[] }[]): boolean {
	return (
		series.some((line) => line.points.length > 0) &&
		series.every((line) =>
			line.points.every((point) => typeof point.seconds === 'number' && point.seconds >= 0)
		)
	);
}

/** A series on the time axis: x becomes the training time, the step is kept for the read-out. */
export function onTimeAxis(points: readonly ChartPoint[]): ChartPoint[] {
	return points.map((point) => ({ ...point, x: point.seconds ?? Number.NaN, step: point.x }));
}

/**
 * A training time on a chart's axis and read-out: `7.5 s` under a minute (a short run's steps
 * are fractions of a second apart, which the quickstart's whole-second clock would hide), else
 * `m:ss` or `h:mm:ss`, compact enough for ticks.
 */
export function formatAxisTime(seconds: number): string {
	if (!Number.isFinite(seconds)) return '?';
	if (seconds < 60) return `${Number(seconds.toPrecision(seconds < 10 ? 2 : 3))} s`;
	const whole = Math.round(seconds);
	const mmss = `${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}:${String(whole % 60).padStart(2, '0')}`;
	return whole < 3600 ? mmss.replace(/^0/, '') : `${Math.floor(whole / 3600)}:${mmss}`;
}

/**
 * The read-out line at `x` (a step, or a training time on the time axis): each series' value at
 * its nearest point, worded by `format`.
 */
export function readout(
	series: readonly { label: string; points: readonly ChartPoint[] }[],
	x: number,
	format: (value: number) => string,
	axis: XAxisKind = 'step'
): string {
	const parts = series.flatMap((line) => {
		const point = pointNearest(line.points, x);
		return point ? [`${line.label} ${Number.isFinite(point.y) ? format(point.y) : '—'}`] : [];
	});
	const at = series.map((line) => pointNearest(line.points, x)).find(Boolean);
	const step = `step ${Math.round(at?.step ?? at?.x ?? x).toLocaleString('en')}`;
	const where = axis === 'time' ? `${formatAxisTime(at?.x ?? x)} (${step})` : step;
	return `${where}: ${parts.join(' · ')}`;
}

/**
 * The read-out of a category chart (bars) at a pointer position: the category under it and each
 * dataset's value there, worded by `format`; null outside the plot.
 */
export function categoryReadout(
	chart: Chart,
	x: number,
	y: number,
	format: (value: number) => string
): string | null {
	const area = chart.chartArea;
	if (x < area.left || x > area.right || y < area.top || y > area.bottom) return null;
	const horizontal = chart.options.indexAxis === 'y';
	const scale = horizontal ? chart.scales.y : chart.scales.x;
	if (!scale) return null;
	const index = Math.round(Number(scale.getValueForPixel(horizontal ? y : x)));
	const label = chart.data.labels?.[index];
	if (label === undefined || label === null) return null;
	const values = chart.data.datasets.flatMap((dataset) => {
		const value: unknown = dataset.data[index];
		return dataset.label === undefined
			? []
			: [`${dataset.label} ${typeof value === 'number' ? format(value) : '—'}`];
	});
	return `${String(label)}: ${values.join(' · ')}`;
}

/** A file name for a chart's PNG: its title in lower case, words joined by dashes. */
export function chartFileName(title: string): string {
	const slug = title
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-|-$/g, '');
	return `${slug || 'chart'}.png`;
}

/** The axes of a bar chart of accuracies: categories on x, 0–100 % on y titled `title`. */
export function percentBarScales(theme: { muted: string; grid: string }, title: string) {
	return {
		x: { ticks: { color: theme.muted }, grid: { display: false } },
		y: {
			min: 0,
			max: 100,
			title: { display: true, text: title, color: theme.muted },
			ticks: { color: theme.muted, stepSize: 20 },
			grid: { color: theme.grid }
		}
	};
}
