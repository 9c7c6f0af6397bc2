/**
 * The chart behind the recall-against-accuracy scatter: one point per noise source, its recall
 * (diversity) or precision (realism) against the real images on x and its probe accuracy on y,
 * each labelled with the source's name beside it.
 */
import type { ChartConfiguration, Plugin } from 'chart.js';

/** One source of a study: its scores, as fractions in [0, 1]. */
export interface RecallAccuracyPoint {
	source: string;
	recall: number;
	accuracy: number;
	/** Shown in the tooltip, and on x when the chart plots precision. */
	precision?: number | null;
}

/** Options of {@link recallAccuracyChart}. */
export interface ScatterOptions {
	/** Which score goes on x (default recall). */
	x?: 'recall' | 'precision';
	/** The y axis title, e.g. "fashion-mnist-mini top-1 (%)". */
	accuracyLabel?: string;
	/** Point and label colour. */
	colour?: string;
}

/** A label to place: its point on the canvas and its text's size, in pixels. */
export interface LabelBox {
	x: number;
	y: number;
	width: number;
	height: number;
}

/** Where a label's box goes: its top-left corner. */
export interface LabelPlacement {
	left: number;
	top: number;
}

/**
 * Places point labels so that none overlaps another (sources with close scores crowd together):
 * each label goes right of its point, else left, else a line or more above or below, the first
 * free place in that order inside `area`; a label with no free place keeps the right side.
 */
export function placeLabels(
	labels: readonly LabelBox[],
	area: { left: number; right: number; top: number; bottom: number },
	gap = 6
): LabelPlacement[] {
	const placed: { left: number; top: number; right: number; bottom: number }[] = [];
	const free = (box: (typeof placed)[number]) =>
		box.left >= area.left &&
		box.right <= area.right &&
		box.top >= area.top &&
		box.bottom <= area.bottom &&
		placed.every(
			(other) =>
				box.right <= other.left ||
				box.left >= other.right ||
				box.bottom <= other.top ||
				box.top >= other.bottom
		);
	return labels.map((label) => {
		const box = (left: number, shift: number) => {
			const top = label.y - label.height / 2 + shift * label.height;
			return { left, top, right: left + label.width, bottom: top + label.height };
		};
		const right = label.x + gap;
		const left = label.x - gap - label.width;
		let chosen = box(right, 0);
		search: for (const shift of [0, -1, 1, -2, 2, -3, 3]) {
			for (const side of [right, left]) {
				const candidate = box(side, shift);
				if (free(candidate)) {
					chosen = candidate;
					break search;
				}
			}
		}
		placed.push(chosen);
		return { left: chosen.left, top: chosen.top };
	});
}

/** Draws each point's source name beside it, without overlaps (chart.js has no point labels). */
const pointLabels: Plugin<'scatter'> = {
	id: 'noiselabPointLabels',
	afterDatasetsDraw(chart) {
		const { ctx, chartArea } = chart;
		ctx.save();
		ctx.font = '11px sans-serif';
		ctx.textBaseline = 'top';
		const height = 13;
		const labels: (LabelBox & { text: string; colour: string })[] = [];
		chart.data.datasets.forEach((dataset, datasetIndex) => {
			const meta = chart.getDatasetMeta(datasetIndex);
			meta.data.forEach((element, index) => {
				const point = dataset.data[index] as { label?: string } | undefined;
				if (!point?.label) return;
				labels.push({
					text: point.label,
					colour: (dataset.borderColor as string | undefined) ?? '#444',
					x: element.x,
					y: element.y,
					width: ctx.measureText(point.label).width,
					height
				});
			});
		});
		const placements = placeLabels(labels, chartArea);
		labels.forEach((label, index) => {
			const placement = placements[index];
			if (!placement) return;
			ctx.fillStyle = label.colour;
			ctx.strokeStyle = label.colour;
			const middle = placement.top + height / 2;
			if (Math.abs(middle - label.y) > height / 2) {
				// Moved off its point's line: a thin leader says whose label it is.
				const end = placement.left > label.x ? placement.left : placement.left + label.width;
				ctx.lineWidth = 0.5;
				ctx.beginPath();
				ctx.moveTo(label.x, label.y);
				ctx.lineTo(end, middle);
				ctx.stroke();
			}
			ctx.fillText(label.text, placement.left, placement.top + 1);
		});
		ctx.restore();
	}
};

/** The scatter's chart.js configuration; points with a non-finite score are left out. */
export function recallAccuracyChart(
	points: readonly RecallAccuracyPoint[],
	options: ScatterOptions = {}
): ChartConfiguration<'scatter'> {
	const axis = options.x ?? 'recall';
	const colour = options.colour ?? '#3a6df0';
	const data = points
		.map((point) => ({
			x: axis === 'recall' ? point.recall : (point.precision ?? Number.NaN),
			y: point.accuracy * 100,
			label: point.source,
			recall: point.recall,
			precision: point.precision ?? null
		}))
		.filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y));
	return {
		type: 'scatter',
		data: {
			datasets: [
				{
					label: 'Noise sources',
					data,
					borderColor: colour,
					backgroundColor: colour,
					pointRadius: 4,
					pointHoverRadius: 6
				}
			]
		},
		options: {
			scales: {
				x: {
					type: 'linear',
					min: 0,
					// Scores of noise are often small: the axis ends a little past the largest, ≤ 1.
					max: Math.min(
						1,
						Math.ceil((Math.max(0, ...data.map((point) => point.x)) + 0.05) * 10) / 10
					),
					title: {
						display: true,
						text: axis === 'recall' ? 'recall (diversity)' : 'precision (realism)'
					}
				},
				y: {
					type: 'linear',
					title: { display: true, text: options.accuracyLabel ?? 'linear-probe top-1 (%)' }
				}
			},
			plugins: {
				legend: { display: false },
				tooltip: {
					callbacks: {
						label: (item) => {
							const point = item.raw as (typeof data)[number];
							const precision =
								point.precision === null ? '' : `, precision ${point.precision.toFixed(3)}`;
							return `${point.label}: recall ${point.recall.toFixed(3)}${precision}, ${point.y.toFixed(1)}%`;
						}
					}
				}
			}
		},
		plugins: [pointLabels]
	};
}
