import { describe, expect, it } from 'vitest';
import type { EvaluationRecord } from '../../../src/core/api/evaluation';
import { parseCsv } from '../../support/csv';
import { evaluateParamsSchema } from '../../../src/core/api/evaluation';
import type { RunRecord } from '../../../src/core/api/training';
import { trainConfigSchema, type TrainConfigInput } from '../../../src/core/training/config';
import {
	accuracyGroups,
	overlaySeries,
	runColor,
	runPalette
} from '../../../src/renderer/lib/runs/compare';
import {
	configDiff,
	flattenConfig,
	sharedSettingCount
} from '../../../src/core/history/config-diff';
import {
	csvField,
	csvLines,
	csvNumber,
	exportFileName,
	latexEscape,
	runsToCsv,
	runsToLatex
} from '../../../src/core/history/export';
import {
	accuracyColumns,
	addTag,
	buildRows,
	controlsOf,
	filterRows,
	formatPercent,
	latestEncoderEvaluations,
	nextSortOrder,
	sortRows,
	type RunRow
} from '../../../src/core/history/table';

function run(
	id: number,
	overrides: Partial<RunRecord> = {},
	config: Partial<TrainConfigInput> = {}
): RunRecord {
	return {
		id,
		name: `run ${id}`,
		status: 'completed',
		kind: 'trained',
		imported: null,
		config: trainConfigSchema.parse({
			source: { kind: 'folder', path: '/data/noise' },
			steps: 100,
			...config
		}),
		sourceLabel: 'folder /data/noise',
		backend: 'wasm',
		adapter: null,
		step: 100,
		steps: 100,
		parameterCount: 1000,
		lastLoss: -2,
		trainSeconds: 10,
		skippedImages: 0,
		error: null,
		tags: [],
		notes: '',
		appVersion: '0.1.0',
		createdAt: `2025-01-${String(10 + id).padStart(2, '0')}T12:00:00.000Z`,
		updatedAt: '2025-02-01T00:00:00.000Z',
		finishedAt: null,
		...overrides
	};
}

let nextEvaluationId = 1;

function evaluation(
	runId: number,
	top1: number | null,
	overrides: Partial<EvaluationRecord> = {}
): EvaluationRecord {
	const id = nextEvaluationId++;
	return {
		id,
		groupId: `g${id}`,
		runId,
		role: 'encoder',
		checkpointStep: 100,
		dataset: 'fashion-mnist-mini',
		protocol: 'linear',
		layer: 'fc6',
		status: top1 === null ? 'running' : 'completed',
		metrics:
			top1 === null
				? null
				: {
						top1,
						top5: null,
						knn: null,
						trainImages: 5000,
						testImages: 1000,
						classes: 10,
						featureDim: 64
					},
		config: evaluateParamsSchema.parse({ runId, dataset: 'fashion-mnist-mini' }),
		error: null,
		seconds: 3,
		createdAt: `2025-03-01T00:00:${String(id % 60).padStart(2, '0')}.000Z`,
		finishedAt: null,
		...overrides
	};
}

const names = (rows: readonly RunRow[]) => rows.map((row) => row.run.name);

/** The five CSV columns of a fashion-mnist-mini accuracy column. */
const accuracyHeader = (protocol: string) =>
	['top-1 (%)', 'random-init (%)', 'real-data (%)', 'gap closed (%)', 'probe']
		.map((what) => `fashion-mnist-mini ${protocol} ${what}`)
		.join(',');
const linearProbe = 'linear probe, fc6, 100 epochs, 4 views, standardised, seed 0';

describe('accuracy columns', () => {
	it('takes the latest completed encoder evaluation per dataset and protocol', () => {
		const evaluations = [
			evaluation(1, 0.5, { createdAt: '2025-03-01T00:00:00.000Z' }),
			evaluation(1, 0.7, { createdAt: '2025-03-02T00:00:00.000Z' }),
			// Newer, but not completed or not the encoder: ignored.
			evaluation(1, null, { createdAt: '2025-03-03T00:00:00.000Z' }),
			evaluation(1, 0.9, { createdAt: '2025-03-04T00:00:00.000Z', status: 'failed' }),
			evaluation(1, 0.1, { createdAt: '2025-03-05T00:00:00.000Z', role: 'random-init' }),
			evaluation(1, 0.6, { protocol: 'knn' }),
			evaluation(2, 0.4, { dataset: 'structured:count' })
		];
		const latest = latestEncoderEvaluations(evaluations);
		expect(latest.get(1)?.['fashion-mnist-mini|linear']?.metrics?.top1).toBe(0.7);
		expect(latest.get(1)?.['fashion-mnist-mini|knn']?.metrics?.top1).toBe(0.6);
		expect(Object.keys(latest.get(2) ?? {})).toEqual(['structured:count|linear']);
		expect(accuracyColumns(evaluations).map((column) => column.key)).toEqual([
			'fashion-mnist-mini|knn',
			'fashion-mnist-mini|linear',
			'structured:count|linear'
		]);
		const rows = buildRows([run(1), run(2), run(3)], evaluations);
		expect(rows.map((row) => row.accuracies)).toEqual([
			{ 'fashion-mnist-mini|linear': 0.7, 'fashion-mnist-mini|knn': 0.6 },
			{ 'structured:count|linear': 0.4 },
			{}
		]);
	});

	it('breaks a timestamp tie by the higher id', () => {
		const at = '2025-03-01T00:00:00.000Z';
		const first = evaluation(1, 0.2, { createdAt: at });
		const second = evaluation(1, 0.3, { createdAt: at });
		expect(
			latestEncoderEvaluations([second, first]).get(1)?.['fashion-mnist-mini|linear']?.id
		).toBe(second.id);
	});

	it('finds the controls of the same group and computes the gap closed', () => {
		const encoder = evaluation(1, 0.6, { groupId: 'shared' });
		const random = evaluation(1, 0.2, { groupId: 'shared', role: 'random-init' });
		const real = evaluation(9, 0.8, { groupId: 'shared', role: 'real' });
		const otherGroup = evaluation(1, 0.5, { role: 'random-init' });
		const all = [encoder, random, real, otherGroup];
		expect(controlsOf(encoder, all)).toEqual({ randomInit: random, real });
		const groups = accuracyGroups([run(1), run(2)], all);
		expect(groups).toHaveLength(1);
		const [first, second] = groups[0]?.runs ?? [];
		expect(first).toMatchObject({ encoder: 0.6, randomInit: 0.2, real: 0.8, color: runPalette[0] });
		expect(first?.gapClosed).toBeCloseTo(2 / 3, 10);
		expect(second).toMatchObject({ encoder: null, randomInit: null, real: null, gapClosed: null });
	});
});

describe('sorting and filtering', () => {
	const rows = buildRows(
		[
			run(1, { name: 'beta', lastLoss: -1.5, tags: ['paper'] }),
			run(2, { name: 'Alpha', lastLoss: null, status: 'running', step: 20 }),
			run(3, { name: 'run 10', lastLoss: -3 }, { model: 'small' }),
			run(4, { name: 'run 9', lastLoss: Number.NaN, sourceLabel: 'dead_leaves-mixed (virtual)' })
		],
		[evaluation(1, 0.55), evaluation(3, 0.61)]
	);

	it('puts missing values last in both directions', () => {
		expect(names(sortRows(rows, { key: 'loss', direction: 'asc' }))).toEqual([
			'run 10',
			'beta',
			// No loss yet and a NaN loss: last, newest first.
			'run 9',
			'Alpha'
		]);
		expect(names(sortRows(rows, { key: 'loss', direction: 'desc' }))).toEqual([
			'beta',
			'run 10',
			'run 9',
			'Alpha'
		]);
		const byAccuracy = sortRows(rows, { key: 'acc:fashion-mnist-mini|linear', direction: 'asc' });
		expect(names(byAccuracy)).toEqual(['beta', 'run 10', 'run 9', 'Alpha']);
		const byTags = sortRows(rows, { key: 'tags', direction: 'desc' });
		expect(names(byTags)[0]).toBe('beta');
	});

	it('sorts text case-insensitively with numbers in numeric order', () => {
		expect(names(sortRows(rows, { key: 'name', direction: 'asc' }))).toEqual([
			'Alpha',
			'beta',
			'run 9',
			'run 10'
		]);
		expect(names(sortRows(rows, { key: 'date', direction: 'desc' }))).toEqual([
			'run 9',
			'run 10',
			'Alpha',
			'beta'
		]);
		expect(names(sortRows(rows, { key: 'steps', direction: 'asc' }))[0]).toBe('Alpha');
	});

	it('flips the order on a second click and starts text ascending, figures descending', () => {
		expect(nextSortOrder({ key: 'date', direction: 'desc' }, 'date')).toEqual({
			key: 'date',
			direction: 'asc'
		});
		expect(nextSortOrder({ key: 'date', direction: 'desc' }, 'name').direction).toBe('asc');
		expect(nextSortOrder({ key: 'date', direction: 'desc' }, 'loss').direction).toBe('asc');
		expect(nextSortOrder({ key: 'name', direction: 'asc' }, 'acc:x|linear').direction).toBe('desc');
	});

	it('filters by every word over name, source and tags, and by status and model', () => {
		const by = (text: string, status: RunRecord['status'] | '' = '', model: '' | 'small' = '') =>
			names(filterRows(rows, { text, status, model }));
		expect(by('')).toHaveLength(4);
		expect(by('PAPER')).toEqual(['beta']);
		expect(by('dead leaves')).toEqual(['run 9']);
		expect(by('dead squares')).toEqual([]);
		expect(by('dead_leaves virtual')).toEqual(['run 9']);
		expect(by('run')).toEqual(['run 10', 'run 9']);
		expect(by('', 'running')).toEqual(['Alpha']);
		expect(by('', '', 'small')).toEqual(['run 10']);
		expect(by('folder', 'completed', 'small')).toEqual(['run 10']);
	});

	it('adds tags trimmed, once, within the API limit', () => {
		expect(addTag(['a'], '  b ')).toEqual(['a', 'b']);
		expect(addTag(['a'], 'a')).toEqual(['a']);
		expect(addTag(['a'], '   ')).toEqual(['a']);
		expect(addTag([], 'x'.repeat(50))).toEqual(['x'.repeat(40)]);
	});
});

describe('config diff', () => {
	it('flattens nested objects to sorted dotted paths with arrays as leaves', () => {
		expect(
			flattenConfig({ b: 1, a: { z: 'sgd', y: [0.5, 0.75], x: { deep: true } }, e: {}, n: null })
		).toEqual({
			'a.x.deep': 'true',
			'a.y': '[0.5,0.75]',
			'a.z': 'sgd',
			b: '1',
			e: '{}',
			n: 'null'
		});
	});

	it('lists only the paths that differ, including those some configs lack', () => {
		const generator = {
			source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' }, count: 64 },
			steps: 100,
			batch: 8
		};
		const spectrum = {
			source: { kind: 'generator', config: { preset: 'stat-spectrum' }, count: 64 },
			steps: 100,
			batch: 16
		};
		const folder = { source: { kind: 'folder', path: '/x' }, steps: 100, batch: 8 };
		expect(configDiff([generator, spectrum])).toEqual([
			{ path: 'batch', values: ['8', '16'] },
			{ path: 'source.config.preset', values: ['dead_leaves-mixed', 'stat-spectrum'] }
		]);
		expect(sharedSettingCount([generator, spectrum])).toBe(3);
		expect(configDiff([generator, folder]).map((difference) => difference.path)).toEqual([
			'source.config.preset',
			'source.count',
			'source.kind',
			'source.path'
		]);
		expect(configDiff([generator, folder])[3]?.values).toEqual([null, '/x']);
		expect(configDiff([generator, structuredClone(generator)])).toEqual([]);
	});

	it('finds the one real difference between two full run configurations', () => {
		const a = run(1).config;
		const b = run(2, {}, { augment: { hue: 0.1 }, milestones: [0.5] }).config;
		expect(configDiff([a, b])).toEqual([
			{ path: 'augment.hue', values: ['0.4', '0.1'] },
			{ path: 'milestones', values: ['[0.775,0.85,0.925]', '[0.5]'] }
		]);
	});
});

describe('CSV export', () => {
	it('quotes fields with commas, quotes, CR or LF (RFC 4180) and leaves others bare', () => {
		expect(csvField('plain')).toBe('plain');
		expect(csvField('a,b')).toBe('"a,b"');
		expect(csvField('say "hi"')).toBe('"say ""hi"""');
		expect(csvField('two\nlines')).toBe('"two\nlines"');
		expect(csvField('cr\rhere')).toBe('"cr\rhere"');
		expect(csvField(' padded ')).toBe('" padded "');
		expect(csvField('')).toBe('');
		expect(
			csvLines([
				['a', 'b'],
				['1', 'x,y']
			])
		).toBe('a,b\r\n1,"x,y"\r\n');
	});

	it('neutralises text a spreadsheet would run as a formula, and strips NUL (OWASP)', () => {
		expect(csvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
		expect(csvField('@SUM(1+1)')).toBe("'@SUM(1+1)");
		expect(csvField('-2+3')).toBe("'-2+3");
		expect(csvField('+1')).toBe("'+1");
		expect(csvField('\tcmd')).toBe("'\tcmd");
		expect(csvField('\r=1')).toBe(`"'\r=1"`);
		expect(csvField('a\0b')).toBe('ab');
		expect(csvField('\0=1')).toBe("'=1");
		// Text that only contains such characters later on is left alone.
		expect(csvField('a-b=c')).toBe('a-b=c');
		// Numbers we formatted keep their sign: -0.5 in a number column stays a number.
		expect(csvField(csvNumber(-0.5))).toBe('-0.5');
		expect(csvField(csvNumber(-2, 6))).toBe('-2.000000');
		// Non-finite values are text, and neutralised like text.
		expect(csvField(csvNumber(-Infinity))).toBe("'-Infinity");
	});

	it('neutralises formula payloads in every text column of the runs table', () => {
		const evaluations = [evaluation(1, 0.5)];
		const runs = [
			run(1, {
				name: '=HYPERLINK("http://x","y")',
				tags: ['@SUM(1+1)'],
				notes: '-2+3',
				lastLoss: -0.5
			})
		];
		const csv = runsToCsv(buildRows(runs, evaluations), accuracyColumns(evaluations), evaluations);
		const record = parseCsv(csv)[1] ?? [];
		expect(record[1]).toBe(`'=HYPERLINK("http://x","y")`);
		expect(record[7]).toBe('-0.500000');
		expect(record.at(-2)).toBe("'@SUM(1+1)");
		expect(record.at(-1)).toBe("'-2+3");
		for (const cell of record) expect(cell).not.toMatch(/^[=+@\t\r]/);
	});

	it('writes each accuracy with its controls, the gap closed and the probe settings', () => {
		const encoder = evaluation(1, 0.6, { groupId: 'g' });
		const evaluations = [
			encoder,
			evaluation(1, 0.2, { groupId: 'g', role: 'random-init' }),
			evaluation(3, 0.9, { groupId: 'g', role: 'real' })
		];
		const rows = buildRows([run(1), run(3)], evaluations);
		const records = parseCsv(runsToCsv(rows, accuracyColumns(evaluations), evaluations));
		const header = records[0] ?? [];
		const cell = (record: number, name: string) => records[record]?.[header.indexOf(name)];
		expect(header).toEqual(
			expect.arrayContaining([
				'fashion-mnist-mini linear top-1 (%)',
				'fashion-mnist-mini linear random-init (%)',
				'fashion-mnist-mini linear real-data (%)',
				'fashion-mnist-mini linear gap closed (%)',
				'fashion-mnist-mini linear probe'
			])
		);
		expect(cell(1, 'fashion-mnist-mini linear top-1 (%)')).toBe('60.00');
		expect(cell(1, 'fashion-mnist-mini linear random-init (%)')).toBe('20.00');
		expect(cell(1, 'fashion-mnist-mini linear real-data (%)')).toBe('90.00');
		expect(cell(1, 'fashion-mnist-mini linear gap closed (%)')).toBe('57.14');
		expect(cell(1, 'fashion-mnist-mini linear probe')).toBe(
			'linear probe, fc6, 100 epochs, 4 views, standardised, seed 0'
		);
		// The real-data run's own accuracy is the one it scored as the control.
		expect(cell(2, 'fashion-mnist-mini linear top-1 (%)')).toBe('90.00');
	});

	it('writes the table with one column per accuracy in percent', () => {
		const evaluations = [evaluation(1, 0.81234), evaluation(2, 0.5, { protocol: 'knn' })];
		const runs = [
			run(1, { name: 'A, "quoted"', tags: ['x', 'y'], notes: 'line 1\nline 2' }),
			run(2, { lastLoss: null })
		];
		const csv = runsToCsv(buildRows(runs, evaluations), accuracyColumns(evaluations), evaluations);
		const lines = csv.split('\r\n');
		expect(lines[0]).toBe(
			'id,name,status,source,model,step,steps,final_loss,' +
				accuracyHeader('knn') +
				',' +
				accuracyHeader('linear') +
				',created,tags,notes'
		);
		expect(lines[1]).toBe(
			'1,"A, ""quoted""",completed,folder /data/noise,tiny,100,100,-2.000000,,,,,,81.23,,,,' +
				`"${linearProbe}",2025-01-11T12:00:00.000Z,x; y,"line 1\nline 2"`
		);
		expect(lines[2]).toBe(
			'2,run 2,completed,folder /data/noise,tiny,100,100,,50.00,,,,' +
				'"kNN k = 20, 200, fc6, standardised, seed 0",,,,,,2025-01-12T12:00:00.000Z,,'
		);
		expect(lines[3]).toBe('');
		expect(lines).toHaveLength(4);
	});
});

describe('LaTeX export', () => {
	it('escapes the ten special characters in one pass', () => {
		expect(latexEscape('a & b % c $ d # e _ f { g } h ~ i ^ j \\ k')).toBe(
			'a \\& b \\% c \\$ d \\# e \\_ f \\{ g \\} h \\textasciitilde{} i \\textasciicircum{} j \\textbackslash{} k'
		);
		expect(latexEscape('\\{}')).toBe('\\textbackslash{}\\{\\}');
		expect(latexEscape('two\n  lines')).toBe('two lines');
	});

	it('writes a booktabs tabular with percentages to one decimal and the best in bold', () => {
		const evaluations = [
			evaluation(1, 0.81234),
			evaluation(2, 0.6),
			evaluation(1, 0.456, { dataset: 'structured:count' })
		];
		const runs = [run(1, { name: 'dead_leaves #1' }), run(2, { lastLoss: null })];
		const latex = runsToLatex(buildRows(runs, evaluations), accuracyColumns(evaluations));
		expect(latex.split('\n')).toEqual([
			'% NoiseLab runs; needs \\usepackage{booktabs}.',
			'\\begin{tabular}{lllrrrr}',
			'\\toprule',
			'Run & Source & Model & Steps & Final loss & fashion-mnist-mini linear (\\%) & structured:count linear (\\%) \\\\',
			'\\midrule',
			'dead\\_leaves \\#1 & folder /data/noise & tiny & 100 & -2.0000 & \\textbf{81.2} & 45.6 \\\\',
			'run 2 & folder /data/noise & tiny & 100 & -- & 60.0 & -- \\\\',
			'\\bottomrule',
			'\\end{tabular}',
			''
		]);
	});

	it('formats percentages and file names', () => {
		expect(formatPercent(0.8125)).toBe('81.3');
		expect(formatPercent(null)).toBeNull();
		expect(formatPercent(Number.NaN)).toBeNull();
		expect(exportFileName('tex', '2025-06-07T10:00:00.000Z')).toBe('noiselab-runs-2025-06-07.tex');
	});
});

describe('overlaid curves', () => {
	it('gives each run its colour and thins long histories', () => {
		const metrics = Array.from({ length: 5000 }, (_, step) => ({
			step,
			loss: Math.sin(step),
			align: 1,
			uniform: -3,
			lr: 0.1,
			imagesPerSecond: 10,
			seconds: null
		}));
		const lines = overlaySeries([run(1), run(2)], { 1: metrics }, 'loss', 100);
		expect(lines.map((line) => [line.label, line.color])).toEqual([
			['run 1', runColor(0)],
			['run 2', runColor(1)]
		]);
		expect(lines[0]?.points.length).toBeLessThanOrEqual(100);
		expect(lines[0]?.points.at(-1)).toEqual({ x: 4999, y: Math.sin(4999), seconds: null });
		expect(lines[1]?.points).toEqual([]);
		expect(runColor(runPalette.length)).toBe(runPalette[0]);
	});
});
