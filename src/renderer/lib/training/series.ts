/**
 * Turning logged metrics into chart series: merging the history fetched from `runs.get` with
 * points that arrived live, and thinning long runs so that a chart never draws more than a few
 * thousand points however long the run.
 */
import type { MetricPoint } from '../../../core/api/training';

/** A chart point: x is what the axis shows (the step, or the training time). */
export interface SeriesPoint {
	x: number;
	y: number;
	/** The logged step, where x is not it (on a time axis). */
	step?: number;
	/** The run's training seconds at this step; null when it was logged without a time. */
	seconds?: number | null;
}

/** The metrics a chart can plot. */
export type MetricKey = Exclude<keyof MetricPoint, 'step' | 'seconds'>;

/** How many points a chart draws at most, per series. */
export const maxChartPoints = 2000;

/**
 * Merges two step-ordered histories into one, by step, without duplicates (`incoming` wins on
 * equal steps: it is the fresher copy). Live events can arrive while a fetch is in flight, so
 * neither list is a prefix of the other.
 */
export function mergeMetrics(
	existing: readonly MetricPoint[],
	incoming: readonly MetricPoint[]
): MetricPoint[] {
	const byStep = new Map<number, MetricPoint>();
	for (const point of existing) byStep.set(point.step, point);
	for (const point of incoming) byStep.set(point.step, point);
	return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/**
 * One metric of a history as chart points. JSON carries NaN and infinities as null, so a
 * diverged step arrives as null whatever the schema says; it becomes NaN, a gap in the line.
 */
export function seriesOf(metrics: readonly MetricPoint[], key: MetricKey): SeriesPoint[] {
	return metrics.map((point) => {
		const value: unknown = point[key];
		return {
			x: point.step,
			y: typeof value === 'number' ? value : Number.NaN,
			seconds: point.seconds
		};
	});
}

/**
 * Thins a series to at most `maxPoints` points while keeping its shape: the first and the last
 * point, and in each of the buckets between them the lowest and the highest point, in step
 * order. Spikes and the envelope of a noisy loss therefore survive, which averaging would hide.
 * Non-finite values (a diverging loss) are kept only as first or last points.
 */
export function downsampleMinMax(
	points: readonly SeriesPoint[],
	maxPoints: number = maxChartPoints
): SeriesPoint[] {
	if (points.length <= maxPoints || maxPoints < 4) return points.slice(0, Math.max(maxPoints, 0));
	const first = points[0];
	const last = points[points.length - 1];
	if (!first || !last) return [];
	const interior = points.length - 2;
	const buckets = Math.floor((maxPoints - 2) / 2);
	const out: SeriesPoint[] = [first];
	for (let bucket = 0; bucket < buckets; bucket++) {
		const start = 1 + Math.floor((bucket * interior) / buckets);
		const end = 1 + Math.floor(((bucket + 1) * interior) / buckets);
		let low: SeriesPoint | undefined;
		let high: SeriesPoint | undefined;
		let lowIndex = -1;
		let highIndex = -1;
		for (let index = start; index < end; index++) {
			const point = points[index];
			if (!point || !Number.isFinite(point.y)) continue;
			if (!low || point.y < low.y) {
				low = point;
				lowIndex = index;
			}
			if (!high || point.y > high.y) {
				high = point;
				highIndex = index;
			}
		}
		if (!low || !high) continue;
		if (lowIndex === highIndex) out.push(low);
		else if (lowIndex < highIndex) out.push(low, high);
		else out.push(high, low);
	}
	out.push(last);
	return out;
}

/** A metric of a history, thinned for display. */
export function chartSeries(
	metrics: readonly MetricPoint[],
	key: MetricKey,
	maxPoints: number = maxChartPoints
): SeriesPoint[] {
	return downsampleMinMax(seriesOf(metrics, key), maxPoints);
}
