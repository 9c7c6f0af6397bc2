/**
 * A study's results as files: CSV for scripts and spreadsheets (percentages with two decimals,
 * one mean, sd, n and gap-closed column per target), and a LaTeX `tabular` with booktabs rules
 * (mean ± sd per target, the paper's number, the agreement in a comment line).
 */
import type { ResultRow, StudyResults } from '../api/studies';
import { csvLines, latexEscape } from '../history/export';
import { paperCitation } from './paper-reference';

function percent(fraction: number | null | undefined, digits: number): string {
	return fraction === null || fraction === undefined || !Number.isFinite(fraction)
		? ''
		: (fraction * 100).toFixed(digits);
}

/** The results as CSV, rows in the order given (the table's current sort). */
export function studyResultsToCsv(
	results: StudyResults,
	rows: readonly ResultRow[] = results.rows
): string {
	const header = [
		'source',
		'label',
		'family',
		'kind',
		'paper_imagenet100_top1',
		'paper_match',
		...results.targets.flatMap((target) => [
			`${target.label} mean (%)`,
			`${target.label} sd (%)`,
			`${target.label} n`,
			`${target.label} gap closed (%)`
		]),
		...results.extraColumns.map((column) => column.label)
	];
	const records = rows.map((row) => [
		row.key,
		row.label,
		row.family,
		row.kind,
		row.paper ? row.paper.top1.toFixed(1) : '',
		row.paper?.match ?? '',
		...results.targets.flatMap((target) => {
			const cell = row.cells[target.key];
			return [
				percent(cell?.mean, 2),
				percent(cell?.sd, 2),
				String(cell?.n ?? 0),
				percent(cell?.gapClosed, 1)
			];
		}),
		...results.extraColumns.map((column) => {
			const value = column.values[row.key];
			return value === null || value === undefined ? '' : String(value);
		})
	]);
	return csvLines([header, ...records]);
}

/** A p-value as text: three significant digits, or "< 0.001". */
export function formatP(p: number | null): string {
	if (p === null) return '–';
	return p < 0.001 ? '< 0.001' : p.toPrecision(2);
}

/** One sentence of agreement for a target, e.g. "Spearman ρ = 0.83 (n = 6, p = 0.058 exact)…". */
export function agreementSentence(results: StudyResults, targetKey: string): string {
	const agreement = results.agreement[targetKey];
	const rho = agreement?.spearman.value ?? null;
	if (!agreement || rho === null) {
		return `Too few sources with both our result and the paper’s (n = ${agreement?.spearman.n ?? 0}; needs 3) to rank`;
	}
	const { spearman, kendall } = agreement;
	const method =
		spearman.method === 'exact'
			? 'exact permutation'
			: `${(spearman.resamples ?? 0).toLocaleString('en-US')} seeded permutations`;
	return (
		`Spearman ρ = ${rho.toFixed(2)} (p = ${formatP(spearman.p)}), ` +
		`Kendall τ-b = ${(kendall.value ?? Number.NaN).toFixed(2)} (p = ${formatP(kendall.p)}), ` +
		`n = ${spearman.n}, ${method} test`
	);
}

/**
 * The results as a LaTeX tabular (needs `\usepackage{booktabs}`): source, the paper's top-1 and
 * one "mean ± sd" column per target in percent, then the extra columns (realism and diversity,
 * two decimals); `--` where there is no value; a superscript n where fewer repeats completed
 * than the study has.
 */
export function studyResultsToLatex(
	results: StudyResults,
	repeats: number,
	rows: readonly ResultRow[] = results.rows
): string {
	const header = [
		'Source',
		'Paper (IN-100)',
		...results.targets.map((target) => `${latexEscape(target.label)} (\\%)`),
		...results.extraColumns.map((column) => latexEscape(column.label))
	];
	const body = rows.map((row) => [
		latexEscape(row.label) + (row.paper?.match === 'approximate' ? '$^{\\dagger}$' : ''),
		row.paper ? row.paper.top1.toFixed(1) : '--',
		...results.targets.map((target) => {
			const cell = row.cells[target.key];
			if (!cell || cell.mean === null) return '--';
			const mean = percent(cell.mean, 1);
			const spread = cell.sd === null ? '' : ` $\\pm$ ${percent(cell.sd, 1)}`;
			const n = cell.n < repeats ? `$^{n=${cell.n}}$` : '';
			return `${mean}${spread}${n}`;
		}),
		...results.extraColumns.map((column) => {
			const value = column.values[row.key];
			return value === null || value === undefined ? '--' : value.toFixed(2);
		})
	]);
	const agreements = results.targets.map(
		(target) => `% ${latexEscape(target.label)}: ${agreementSentence(results, target.key)}.`
	);
	return [
		`% NoiseLab study: linear-probe top-1, mean $\\pm$ sd over ${repeats} repeat${repeats === 1 ? '' : 's'}; needs \\usepackage{booktabs}.`,
		`% Paper: ${paperCitation.short}, ${paperCitation.metric}. $^{\\dagger}$ approximate match of the paper's dataset.`,
		...agreements,
		`\\begin{tabular}{l${'r'.repeat(1 + results.targets.length + results.extraColumns.length)}}`,
		'\\toprule',
		`${header.join(' & ')} \\\\`,
		'\\midrule',
		...body.map((cells) => `${cells.join(' & ')} \\\\`),
		'\\bottomrule',
		'\\end{tabular}',
		''
	].join('\n');
}

/** A file name for a study export: `noiselab-study-3-paper-noise-models.csv`. */
export function studyExportFileName(
	id: number,
	name: string,
	extension: 'csv' | 'tex' | 'svg' | 'png' | 'json'
): string {
	const slug = name
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '')
		.slice(0, 48);
	return `noiselab-study-${id}${slug ? `-${slug}` : ''}.${extension}`;
}
