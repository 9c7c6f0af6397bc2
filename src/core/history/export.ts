/**
 * Exporting the Runs table: CSV for spreadsheets and scripts (RFC 4180), and a LaTeX `tabular`
 * with booktabs rules for a paper. Both take the rows the table shows, filtered and sorted.
 */
import type { EvaluationRecord } from '../api/evaluation';
import { gapClosed } from '../evaluation/metrics';
import { probeOf } from '../format';
import {
	controlsOf,
	formatDate,
	formatPercent,
	modelLabel,
	type AccuracyColumn,
	type RunRow
} from './table';

/**
 * A number this module formatted itself, written as it is: a spreadsheet must read `-0.5` in a
 * number column as a number, and digits cannot carry a formula.
 */
export interface CsvNumber {
	readonly number: string;
}

/** A CSV cell: text (user data, made inert by {@link neutraliseCsvText}) or a {@link CsvNumber}. */
export type CsvCell = string | CsvNumber;

/**
 * A finite number as a number cell with `digits` decimals (`null`: as JavaScript prints it);
 * anything else (NaN, ±Infinity) is text, so it is neutralised like text.
 */
export function csvNumber(value: number, digits: number | null = null): CsvCell {
	if (!Number.isFinite(value)) return String(value);
	return { number: digits === null ? String(value) : value.toFixed(digits) };
}

/**
 * Text made inert for spreadsheets (OWASP's CSV injection rule): NUL characters removed, and a
 * cell that starts with `=`, `+`, `-`, `@`, tab or CR prefixed with a single quote, so that no
 * spreadsheet evaluates it as a formula (`=HYPERLINK(…)` stays visible text). Only text cells
 * get this: numbers are written by {@link csvNumber} and never start with a formula character
 * other than a minus sign, which a number column must keep.
 */
export function neutraliseCsvText(text: string): string {
	const clean = text.replaceAll('\0', '');
	return /^[=+\-@\t\r]/.test(clean) ? `'${clean}` : clean;
}

/**
 * One CSV field (RFC 4180 §2): text neutralised, then quoted when it holds a comma, a double
 * quote, CR or LF, with inner quotes doubled. Leading and trailing spaces are kept as they are,
 * inside quotes.
 */
export function csvField(cell: CsvCell): string {
	const value = typeof cell === 'string' ? neutraliseCsvText(cell) : cell.number;
	if (!/[",\r\n]/.test(value) && value.trim() === value) return value;
	return `"${value.replaceAll('"', '""')}"`;
}

/** Lines of fields as CSV: CRLF between records and after the last one, as RFC 4180 writes. */
export function csvLines(records: readonly (readonly CsvCell[])[]): string {
	return records.map((record) => record.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function lossText(loss: number | null, digits: number): string {
	if (loss === null) return '';
	return Number.isFinite(loss) ? loss.toFixed(digits) : String(loss);
}

function percentCell(fraction: number | null | undefined): CsvCell {
	return fraction == null || !Number.isFinite(fraction) ? '' : csvNumber(fraction * 100, 2);
}

/** The five cells of an accuracy column: top-1, its controls, the gap closed and the probe. */
function accuracyCells(
	evaluation: EvaluationRecord | undefined,
	evaluations: readonly EvaluationRecord[]
): CsvCell[] {
	if (!evaluation?.metrics) return ['', '', '', '', ''];
	const top1 = evaluation.metrics.top1;
	const { randomInit, real } = controlsOf(evaluation, evaluations);
	const random = randomInit?.metrics?.top1 ?? null;
	const ceiling = real?.metrics?.top1 ?? null;
	const gap = random === null || ceiling === null ? null : gapClosed(top1, random, ceiling);
	return [
		percentCell(top1),
		percentCell(random),
		percentCell(ceiling),
		percentCell(gap),
		probeOf(evaluation)
	];
}

/**
 * The table as CSV: every run field a reader may want; per accuracy column the top-1, the
 * random-init and real-data controls measured with it and the gap closed, as percentages with
 * two decimals (empty when missing), and the probe settings; tags joined with `; `, notes
 * verbatim except that text which a spreadsheet would run as a formula is neutralised
 * ({@link csvField}). `evaluations` are all of them, to find each accuracy's controls.
 */
export function runsToCsv(
	rows: readonly RunRow[],
	columns: readonly AccuracyColumn[],
	evaluations: readonly EvaluationRecord[]
): string {
	const header = [
		'id',
		'name',
		'status',
		'source',
		'model',
		'step',
		'steps',
		'final_loss',
		...columns.flatMap((column) =>
			['top-1 (%)', 'random-init (%)', 'real-data (%)', 'gap closed (%)', 'probe'].map(
				(what) => `${column.dataset} ${column.protocol} ${what}`
			)
		),
		'created',
		'tags',
		'notes'
	];
	const records = rows.map(({ run, evaluations: latest }): CsvCell[] => [
		csvNumber(run.id),
		run.name,
		run.status,
		run.sourceLabel,
		modelLabel(run),
		csvNumber(run.step),
		csvNumber(run.steps),
		run.lastLoss === null ? '' : csvNumber(run.lastLoss, 6),
		...columns.flatMap((column) => accuracyCells(latest[column.key], evaluations)),
		run.createdAt,
		run.tags.join('; '),
		run.notes
	]);
	return csvLines([header, ...records]);
}

const latexSpecials: Record<string, string> = {
	'&': '\\&',
	'%': '\\%',
	$: '\\$',
	'#': '\\#',
	_: '\\_',
	'{': '\\{',
	'}': '\\}',
	'~': '\\textasciitilde{}',
	'^': '\\textasciicircum{}',
	'\\': '\\textbackslash{}'
};

/**
 * Text made safe for LaTeX: the ten special characters escaped in one pass (so the braces of
 * `\textbackslash{}` are not escaped again), and line breaks turned into spaces.
 */
export function latexEscape(text: string): string {
	return text
		.replace(/[&%$#_{}~^\\]/g, (char) => latexSpecials[char] ?? char)
		.replace(/\s*[\r\n]+\s*/g, ' ');
}

/**
 * The table as a LaTeX `tabular` (needs `\usepackage{booktabs}`): run, source, model, steps,
 * final loss and one column per accuracy in percent with one decimal, the best of each column in
 * bold; `--` where a run has no value.
 */
export function runsToLatex(rows: readonly RunRow[], columns: readonly AccuracyColumn[]): string {
	const best = new Map<string, number>();
	for (const column of columns) {
		const values = rows
			.map((row) => row.accuracies[column.key])
			.filter((value): value is number => value !== undefined && Number.isFinite(value));
		// Compared as printed: two runs that both show 81.3 are both the best.
		if (values.length > 1) best.set(column.key, Number(formatPercent(Math.max(...values))));
	}
	const header = [
		'Run',
		'Source',
		'Model',
		'Steps',
		'Final loss',
		...columns.map((column) => `${latexEscape(`${column.dataset} ${column.protocol}`)} (\\%)`)
	];
	const body = rows.map(({ run, accuracies }) => [
		latexEscape(run.name),
		latexEscape(run.sourceLabel),
		latexEscape(modelLabel(run)),
		String(run.step),
		lossText(run.lastLoss, 4) || '--',
		...columns.map((column) => {
			const shown = formatPercent(accuracies[column.key]);
			if (shown === null) return '--';
			return best.get(column.key) === Number(shown) ? `\\textbf{${shown}}` : shown;
		})
	]);
	const spec = `lll${'r'.repeat(2 + columns.length)}`;
	return [
		'% NoiseLab runs; needs \\usepackage{booktabs}.',
		`\\begin{tabular}{${spec}}`,
		'\\toprule',
		`${header.join(' & ')} \\\\`,
		'\\midrule',
		...body.map((cells) => `${cells.join(' & ')} \\\\`),
		'\\bottomrule',
		'\\end{tabular}',
		''
	].join('\n');
}

/** A file name for an export: `noiselab-runs-2025-01-31.csv`. */
export function exportFileName(extension: 'csv' | 'tex', isoNow: string): string {
	return `noiselab-runs-${formatDate(isoNow)}.${extension}`;
}
