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

/** Draws each point's source name to its right (chart.js has no point labels of its own). */
const pointLabels: Plugin<'scatter'> = {
	id: 'noiselabPointLabels',
	afterDatasetsDraw(chart) {
		const { ctx } = chart;
		ctx.save();
		ctx.font = '11px sans-serif';
		ctx.textBaseline = 'middle';
		chart.data.datasets.forEach((dataset, datasetIndex) => {
			const meta = chart.getDatasetMeta(datasetIndex);
			meta.data.forEach((element, index) => {
				const point = dataset.data[index] as { label?: string } | undefined;
				if (!point?.label) return;
				ctx.fillStyle = (dataset.borderColor as string | undefined) ?? '#444';
				ctx.fillText(point.label, element.x + 6, element.y);
			});
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
					max: 1,
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
