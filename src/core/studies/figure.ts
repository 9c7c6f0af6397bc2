/**
 * The paper's bar chart redrawn for a study: horizontal bars grouped by family, our top-1 on one
 * target beside the paper's ImageNet-100 top-1, in two panels that share the rows (the two are
 * on different datasets, so each panel has its own axis). The model feeds the chart.js view;
 * `studyFigureSvg` draws the same model as a standalone SVG for export.
 */
import type { StudyResults } from '../api/studies';
import { paperCitation, paperFamilies } from './paper-reference';

/** One row of the figure. */
export interface FigureBar {
	key: string;
	label: string;
	/** Our mean and sd as percentages; null when not measured yet. */
	ours: { mean: number; sd: number | null; n: number } | null;
	/** The paper's top-1 in percent, or null. */
	paper: number | null;
	approximate: boolean;
}

/** The bars of one family. */
export interface FigureGroup {
	family: string;
	bars: FigureBar[];
}

/** Everything the figure shows. */
export interface StudyFigure {
	targetKey: string;
	oursTitle: string;
	paperTitle: string;
	groups: FigureGroup[];
	/** Axis ends (percent), rounded up to a multiple of 10. */
	oursMax: number;
	paperMax: number;
	caption: string;
}

const familyOrder: readonly string[] = [...paperFamilies.slice(0, -1), 'Other', 'Real images'];

/** The figure of a study's results on one target. */
export function buildStudyFigure(results: StudyResults, targetKey: string): StudyFigure {
	const target = results.targets.find((candidate) => candidate.key === targetKey);
	const groups = new Map<string, FigureBar[]>();
	for (const row of results.rows) {
		const cell = row.cells[targetKey];
		const bar: FigureBar = {
			key: row.key,
			label: row.label,
			ours:
				cell && cell.mean !== null
					? { mean: cell.mean * 100, sd: cell.sd === null ? null : cell.sd * 100, n: cell.n }
					: null,
			paper: row.paper?.top1 ?? null,
			approximate: row.paper?.match === 'approximate'
		};
		groups.set(row.family, [...(groups.get(row.family) ?? []), bar]);
	}
	const rank = (family: string) => {
		const index = familyOrder.indexOf(family);
		return index === -1 ? familyOrder.length : index;
	};
	const ordered = [...groups]
		.sort(([a], [b]) => rank(a) - rank(b))
		.map(([family, bars]) => ({ family, bars }));
	const bars = ordered.flatMap((group) => group.bars);
	const ceiling = (values: number[]) => Math.max(10, Math.ceil(Math.max(0, ...values) / 10) * 10);
	return {
		targetKey,
		oursTitle: `Ours: ${target?.label ?? targetKey} top-1 (%)`,
		paperTitle: 'Paper: ImageNet-100 top-1 (%)',
		groups: ordered,
		oursMax: ceiling(bars.map((bar) => (bar.ours ? bar.ours.mean + (bar.ours.sd ?? 0) : 0))),
		paperMax: ceiling(bars.map((bar) => bar.paper ?? 0)),
		caption: `Bars: mean over repeats, whiskers ± sd. Paper: ${paperCitation.short} (${paperCitation.source}) † approximate match.`
	};
}

function xml(text: string): string {
	return text
		.replaceAll('&', '&amp;')
		.replaceAll('<', '&lt;')
		.replaceAll('>', '&gt;')
		.replaceAll('"', '&quot;');
}

function fixed(value: number): string {
	return Number(value.toFixed(2)).toString();
}

/** Colours of the exported figure (light, print-friendly). */
export const figureColours = {
	ours: '#2f6fdb',
	paper: '#8a9099',
	text: '#1f2328',
	grid: '#d8dde3'
};

/** The figure as a standalone SVG document. */
export function studyFigureSvg(figure: StudyFigure): string {
	const rowHeight = 20;
	const headerHeight = 22;
	const labelWidth = 230;
	const panelWidth = 300;
	const gap = 40;
	const top = 56;
	const rows = figure.groups.reduce((sum, group) => sum + group.bars.length, 0);
	const plotHeight = rows * rowHeight + figure.groups.length * headerHeight;
	const width = labelWidth + 2 * panelWidth + gap + 30;
	const height = top + plotHeight + 70;
	const panels = [
		{ x: labelWidth, max: figure.oursMax, title: figure.oursTitle, colour: figureColours.ours },
		{
			x: labelWidth + panelWidth + gap,
			max: figure.paperMax,
			title: figure.paperTitle,
			colour: figureColours.paper
		}
	];
	const parts: string[] = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
		`<rect width="${width}" height="${height}" fill="#ffffff"/>`
	];
	for (const panel of panels) {
		parts.push(
			`<text x="${panel.x}" y="${top - 30}" font-weight="bold" fill="${figureColours.text}">${xml(panel.title)}</text>`
		);
		for (let tick = 0; tick <= panel.max; tick += panel.max > 50 ? 20 : 10) {
			const x = panel.x + (tick / panel.max) * panelWidth;
			parts.push(
				`<line x1="${fixed(x)}" y1="${top - 6}" x2="${fixed(x)}" y2="${top + plotHeight}" stroke="${figureColours.grid}"/>`,
				`<text x="${fixed(x)}" y="${top - 10}" text-anchor="middle" fill="${figureColours.text}" font-size="10">${tick}</text>`
			);
		}
	}
	let y = top;
	for (const group of figure.groups) {
		parts.push(
			`<text x="4" y="${y + headerHeight - 7}" font-weight="bold" fill="${figureColours.text}">${xml(group.family)}</text>`
		);
		y += headerHeight;
		for (const bar of group.bars) {
			const middle = y + rowHeight / 2;
			parts.push(
				`<text x="${labelWidth - 8}" y="${middle + 4}" text-anchor="end" fill="${figureColours.text}">${xml(bar.label)}${bar.approximate ? ' †' : ''}</text>`
			);
			const values = [
				{ panel: panels[0], value: bar.ours?.mean ?? null, sd: bar.ours?.sd ?? null },
				{ panel: panels[1], value: bar.paper, sd: null }
			];
			for (const { panel, value, sd } of values) {
				if (!panel) continue;
				if (value === null) {
					parts.push(
						`<text x="${panel.x + 4}" y="${middle + 4}" fill="${figureColours.paper}" font-size="10">–</text>`
					);
					continue;
				}
				const scale = (v: number) =>
					panel.x + (Math.max(0, Math.min(v, panel.max)) / panel.max) * panelWidth;
				const end = scale(value);
				parts.push(
					`<rect x="${panel.x}" y="${fixed(y + 3)}" width="${fixed(end - panel.x)}" height="${rowHeight - 6}" fill="${panel.colour}"><title>${xml(`${bar.label}: ${value.toFixed(1)}%`)}</title></rect>`,
					`<text x="${fixed(end + 4)}" y="${middle + 4}" fill="${figureColours.text}" font-size="10">${value.toFixed(1)}</text>`
				);
				if (sd !== null) {
					const low = scale(value - sd);
					const high = scale(value + sd);
					parts.push(
						`<path d="M${fixed(low)} ${middle}H${fixed(high)}M${fixed(low)} ${middle - 4}V${middle + 4}M${fixed(high)} ${middle - 4}V${middle + 4}" stroke="${figureColours.text}" fill="none"/>`
					);
				}
			}
			y += rowHeight;
		}
	}
	parts.push(
		`<text x="4" y="${top + plotHeight + 24}" fill="${figureColours.text}" font-size="10">${xml(figure.caption)}</text>`,
		'</svg>',
		''
	);
	return parts.join('\n');
}
