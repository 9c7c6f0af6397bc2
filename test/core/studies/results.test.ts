import { describe, expect, it } from 'vitest';
import { evaluateParamsSchema, type EvaluationRecord } from '../../../src/core/api/evaluation';
import {
	sourcePlanSchema,
	studySpecSchema,
	targetKey,
	type StudySpec
} from '../../../src/core/api/studies';
import { realismColumns, recallAccuracyPoints } from '../../../src/core/studies/realism';
import type { RunRecord } from '../../../src/core/api/training';
import { studyResultsToCsv, studyResultsToLatex } from '../../../src/core/studies/export';
import { buildStudyFigure, studyFigureSvg } from '../../../src/core/studies/figure';
import { paperResults } from '../../../src/core/studies/paper-reference';
import { buildStudyResults, type StudyRunLink } from '../../../src/core/studies/results';
import { sortResultRows } from '../../../src/core/studies/table';
import {
	budgetPresets,
	findBudget,
	paperSmallTemplate,
	specFromTemplate,
	templateSourceUnavailable
} from '../../../src/core/studies/templates';
import { trainConfigSchema } from '../../../src/core/training/config';
import { parseCsv } from '../../support/csv';

const spec: StudySpec = studySpecSchema.parse({
	name: 'three sources',
	sources: [
		{
			kind: 'generator',
			key: 'dead_leaves-mixed',
			label: 'dead leaves',
			config: { preset: 'dead_leaves-mixed' }
		},
		{
			kind: 'generator',
			key: 'control-mean_colour',
			label: 'mean colour',
			config: { preset: 'control-mean_colour' }
		},
		{
			kind: 'generator',
			key: 'custom',
			label: 'custom spectrum',
			config: { preset: 'stat-spectrum', params: { sloperange: 1 } }
		},
		{ kind: 'folder', key: 'real', label: 'real photos', path: '/data/real', role: 'real' }
	],
	budget: { ...(findBudget('sketch')?.budget ?? {}), steps: 10 },
	repeats: 3,
	evaluation: { targets: [{ dataset: 'fashion-mnist-mini' }], epochs: 5, views: 1 }
});
const target = spec.evaluation.targets[0] ?? { dataset: '', protocol: 'linear', layer: 'fc6' };
const key = targetKey(target);

let nextId = 1;
function run(seed: number, status: RunRecord['status'] = 'completed'): RunRecord {
	const id = nextId++;
	return {
		id,
		name: `run-${id}`,
		status,
		kind: 'trained',
		imported: null,
		config: trainConfigSchema.parse({
			source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
			steps: 10,
			seed
		}),
		sourceLabel: 'x',
		backend: 'wasm',
		adapter: null,
		step: 10,
		steps: 10,
		parameterCount: 1,
		lastLoss: 1,
		trainSeconds: 1,
		skippedImages: 0,
		error: null,
		tags: [],
		notes: '',
		appVersion: '0',
		createdAt: '2025-01-01T00:00:00Z',
		updatedAt: '2025-01-01T00:00:00Z',
		finishedAt: null
	};
}

let nextEvaluation = 1;
function evaluation(
	runRecord: RunRecord,
	top1: number,
	options: { role?: 'encoder' | 'random-init'; epochs?: number; step?: number | null } = {}
): EvaluationRecord {
	const role = options.role ?? 'encoder';
	return {
		id: nextEvaluation++,
		groupId: `g${runRecord.id}`,
		runId: runRecord.id,
		role,
		checkpointStep:
			role === 'encoder' ? (options.step === undefined ? runRecord.steps : options.step) : null,
		dataset: 'fashion-mnist-mini',
		protocol: 'linear',
		layer: 'fc6',
		status: 'completed',
		metrics: {
			top1,
			top5: null,
			knn: null,
			trainImages: 1,
			testImages: 1,
			classes: 10,
			featureDim: 4
		},
		config: evaluateParamsSchema.parse({
			runId: runRecord.id,
			dataset: 'fashion-mnist-mini',
			epochs: options.epochs ?? 5,
			views: 1
		}),
		error: null,
		seconds: 1,
		createdAt: '2025-01-01T00:00:00Z',
		finishedAt: '2025-01-01T00:00:00Z'
	};
}

/** Three repeats of four sources with known accuracies, plus distractors that must not count. */
function fixture() {
	const links: StudyRunLink[] = [];
	const evaluations: EvaluationRecord[] = [];
	const accuracies: Record<string, number[]> = {
		'dead_leaves-mixed': [0.77, 0.78, 0.79],
		'control-mean_colour': [0.66, 0.68, 0.7],
		custom: [0.74, 0.75, 0.76],
		real: [0.85, 0.86, 0.87]
	};
	const random = [0.7, 0.71, 0.72];
	for (let repeat = 0; repeat < 3; repeat++) {
		for (const [sourceKey, values] of Object.entries(accuracies)) {
			const runRecord = run(repeat);
			links.push({ sourceKey, repeat, run: runRecord });
			evaluations.push(evaluation(runRecord, values[repeat] as number));
			if (sourceKey === 'dead_leaves-mixed') {
				evaluations.push(evaluation(runRecord, random[repeat] as number, { role: 'random-init' }));
				// Distractors: other probe settings and a mid-training checkpoint.
				evaluations.push(evaluation(runRecord, 0.1, { epochs: 99 }));
				evaluations.push(evaluation(runRecord, 0.2, { step: 5 }));
			}
		}
	}
	return { links, evaluations };
}

describe('study results', () => {
	const { links, evaluations } = fixture();
	const results = buildStudyResults(spec, links, evaluations);
	const row = (rowKey: string) => results.rows.find((candidate) => candidate.key === rowKey);

	it('summarises each source over its repeats, from evaluations made with the study’s settings', () => {
		const cell = row('dead_leaves-mixed')?.cells[key];
		expect(cell?.values).toEqual([0.77, 0.78, 0.79]);
		expect(cell?.n).toBe(3);
		expect(cell?.mean).toBeCloseTo(0.78, 12);
		expect(cell?.sd).toBeCloseTo(0.01, 12);
		expect(row('random-init')?.cells[key]?.mean).toBeCloseTo(0.71, 12);
		expect(row('random-init')?.kind).toBe('random-init');
		expect(row('real')?.kind).toBe('real');
	});

	it('closes the gap between random init and the real-data control', () => {
		// (0.78 − 0.71) / (0.86 − 0.71) = 0.07 / 0.15.
		expect(row('dead_leaves-mixed')?.cells[key]?.gapClosed).toBeCloseTo(0.07 / 0.15, 12);
		expect(row('control-mean_colour')?.cells[key]?.gapClosed).toBeCloseTo(-0.03 / 0.15, 12);
		expect(row('real')?.cells[key]?.gapClosed).toBeNull();
	});

	it('puts the paper’s number beside presets used as they are, not customised ones', () => {
		expect(row('dead_leaves-mixed')?.paper).toMatchObject({ top1: 38.9, match: 'same' });
		expect(row('control-mean_colour')?.paper).toMatchObject({ top1: 5.0, match: 'approximate' });
		expect(row('random-init')?.paper?.top1).toBe(21.1);
		expect(row('custom')?.paper).toBeNull();
		expect(row('real')?.paper).toBeNull();
	});

	it('ranks the rows both have against the paper: Spearman and Kendall with n', () => {
		// Ours: mean colour 0.68 < random 0.71 < dead leaves 0.78; paper: 5.0 < 21.1 < 38.9.
		const agreement = results.agreement[key];
		expect(agreement?.rows.sort()).toEqual([
			'control-mean_colour',
			'dead_leaves-mixed',
			'random-init'
		]);
		expect(agreement?.spearman).toMatchObject({ value: 1, n: 3, method: 'exact' });
		expect(agreement?.spearman.p).toBeCloseTo(1 / 3, 12);
		expect(agreement?.kendall.value).toBe(1);
	});

	it('leaves out runs that did not complete', () => {
		const partial = links.map((link) =>
			link.sourceKey === 'custom' && link.repeat === 2
				? { ...link, run: { ...link.run, status: 'diverged' as const } }
				: link
		);
		const cell = buildStudyResults(spec, partial, evaluations).rows.find((r) => r.key === 'custom')
			?.cells[key];
		expect(cell?.n).toBe(2);
		expect(cell?.values).toEqual([0.74, 0.75]);
	});

	it('sorts by a target’s mean, the paper or the name, rows without a value last', () => {
		const byMean = sortResultRows(results.rows, `target:${key}`, 'desc').map((r) => r.key);
		expect(byMean).toEqual([
			'real',
			'dead_leaves-mixed',
			'custom',
			'random-init',
			'control-mean_colour'
		]);
		const byPaper = sortResultRows(results.rows, 'paper', 'asc').map((r) => r.key);
		expect(byPaper).toEqual([
			'control-mean_colour',
			'random-init',
			'dead_leaves-mixed',
			'custom',
			'real'
		]);
		expect(
			sortResultRows(results.rows, 'paper', 'desc')
				.slice(-2)
				.map((r) => r.key)
		).toEqual(['custom', 'real']);
	});

	it('exports CSV with mean, sd, n and gap closed per target in percent', () => {
		const rows = parseCsv(studyResultsToCsv(results));
		const header = rows[0] ?? [];
		const line = rows.find((cells) => cells[0] === 'dead_leaves-mixed') ?? [];
		const at = (name: string) => line[header.indexOf(name)];
		expect(at('paper_imagenet100_top1')).toBe('38.9');
		expect(at('fashion-mnist-mini mean (%)')).toBe('78.00');
		expect(at('fashion-mnist-mini sd (%)')).toBe('1.00');
		expect(at('fashion-mnist-mini n')).toBe('3');
		expect(at('fashion-mnist-mini gap closed (%)')).toBe('46.7');
		expect(rows).toHaveLength(1 + results.rows.length);
	});

	it('exports LaTeX with booktabs rules, mean ± sd and the agreement', () => {
		const latex = studyResultsToLatex(results, 3);
		expect(latex).toContain('\\toprule');
		expect(latex).toContain('\\bottomrule');
		expect(latex).toContain('dead leaves & 38.9 & 78.0 $\\pm$ 1.0 \\\\');
		expect(latex).toContain('mean colour$^{\\dagger}$ & 5.0 &');
		expect(latex).toContain('Spearman ρ = 1.00');
	});

	it('draws the figure grouped by family in the paper’s order, ours beside the paper’s', () => {
		const figure = buildStudyFigure(results, key);
		expect(figure.groups.map((group) => group.family)).toEqual([
			'Baselines',
			'Statistical',
			'Dead leaves',
			'Real images'
		]);
		const baselines = figure.groups[0]?.bars ?? [];
		expect(baselines.map((bar) => bar.key)).toEqual(['random-init', 'control-mean_colour']);
		expect(baselines[0]?.ours?.mean).toBeCloseTo(71, 9);
		expect(baselines[0]?.paper).toBe(21.1);
		const svg = studyFigureSvg(figure);
		expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
		// One bar per value on each side: 5 of ours, 3 of the paper's.
		expect(svg.match(/<rect x=/g)).toHaveLength(8);
		expect(svg).toContain('Paper: ImageNet-100 top-1 (%)');
		expect(svg).toContain('dead leaves: 78.0%');
	});
});

describe('realism and diversity in the study table', () => {
	const { links, evaluations } = fixture();
	const plan = (sourceKey: string, realism?: { precision: number; recall: number }) =>
		sourcePlanSchema.parse({
			key: sourceKey,
			label: sourceKey,
			unavailable: null,
			data: 'stream',
			why: '',
			imagesPerSecondPerCore: null,
			firstImageSeconds: null,
			slowerThanLimit: false,
			generationSeconds: 0,
			trainingSeconds: 0,
			...(realism
				? {
						realism: {
							...realism,
							k: 3,
							samples: 500,
							dataset: 'fashion-mnist-mini',
							layer: 'fc6',
							encoderLabel: 'random init (tiny, seed 0)',
							measuredAt: '2025-01-01T00:00:00Z'
						}
					}
				: {})
		});

	it('adds no columns before any source is measured', () => {
		expect(realismColumns([plan('dead_leaves-mixed'), plan('custom')])).toEqual([]);
	});

	it('adds precision and recall columns, empty where a source is not measured, and plots recall against accuracy', () => {
		const columns = realismColumns([
			plan('dead_leaves-mixed', { precision: 0.4, recall: 0.3 }),
			plan('control-mean_colour', { precision: 0.9, recall: 0.05 }),
			plan('custom'),
			plan('real', { precision: 0.8, recall: 0.75 })
		]);
		expect(columns.map((column) => column.label)).toEqual([
			'precision (realism)',
			'recall (diversity)'
		]);
		expect(columns[1]?.values).toEqual({
			'dead_leaves-mixed': 0.3,
			'control-mean_colour': 0.05,
			custom: null,
			real: 0.75
		});
		const results = buildStudyResults(spec, links, evaluations, columns);
		const csv = parseCsv(studyResultsToCsv(results));
		const header = csv[0] ?? [];
		const line = csv.find((cells) => cells[0] === 'control-mean_colour') ?? [];
		expect(line[header.indexOf('recall (diversity)')]).toBe('0.05');
		expect(csv.find((cells) => cells[0] === 'custom')?.[header.indexOf('recall (diversity)')]).toBe(
			''
		);
		expect(studyResultsToLatex(results, 3)).toContain(
			'dead leaves & 38.9 & 78.0 $\\pm$ 1.0 & 0.40 & 0.30 \\\\'
		);
		// Random init has no images and `custom` no measurement: three points, in table order.
		expect(recallAccuracyPoints(results, key)).toEqual([
			{ source: 'dead leaves', recall: 0.3, precision: 0.4, accuracy: expect.closeTo(0.78, 12) },
			{ source: 'mean colour', recall: 0.05, precision: 0.9, accuracy: expect.closeTo(0.68, 12) },
			{ source: 'real photos', recall: 0.75, precision: 0.8, accuracy: expect.closeTo(0.86, 12) }
		]);
	});
});

describe('templates and budgets', () => {
	it('lists every paper preset with a published number, plus FractalDB and the controls', () => {
		const presets = paperSmallTemplate.sources.map((source) => source.preset);
		for (const name of Object.keys(paperResults)) {
			if (name !== 'random-init') expect(presets).toContain(name);
		}
		expect(presets).toContain('control-white_noise');
	});

	it('marks a source this build lacks as unavailable, naming what it needs', () => {
		expect(templateSourceUnavailable({ preset: 'no-such-preset', needs: 'a generator X' })).toBe(
			'Not available in this build: needs a generator X.'
		);
		const present = paperSmallTemplate.sources.find((s) => s.preset === 'dead_leaves-mixed');
		expect(present && templateSourceUnavailable(present)).toBeNull();
	});

	it('leaves out the template’s sources that cannot generate yet, and refuses them when named', () => {
		const sketch = findBudget('sketch');
		if (!sketch) throw new Error('no sketch budget');
		const unavailable = { 'feature_vis-dead_leaves': 'No run has trained on dead_leaves-mixed.' };
		const all = specFromTemplate(paperSmallTemplate, sketch, { unavailable });
		const keys = all.sources.map((source) => source.key);
		expect(keys).not.toContain('feature_vis-dead_leaves');
		expect(keys).toHaveLength(paperSmallTemplate.sources.length - 1);
		expect(() =>
			specFromTemplate(paperSmallTemplate, sketch, {
				unavailable,
				only: ['dead_leaves-mixed', 'feature_vis-dead_leaves']
			})
		).toThrow(
			'feature_vis-dead_leaves cannot be used yet: No run has trained on dead_leaves-mixed.'
		);
	});

	it('builds valid specs from every budget, the paper budget at the paper’s scale', () => {
		for (const budget of budgetPresets) {
			const parsed = studySpecSchema.safeParse(
				specFromTemplate(paperSmallTemplate, budget, { repeats: 3, only: ['dead_leaves-mixed'] })
			);
			expect(parsed.success).toBe(true);
		}
		const paper = findBudget('paper')?.budget;
		expect(paper).toMatchObject({
			model: 'alexnet',
			optimizer: 'sgd',
			batch: 768,
			images: 105_000,
			steps: 200 * 137
		});
	});

	it('refuses a spec whose sources share a key', () => {
		const parsed = studySpecSchema.safeParse({
			...spec,
			sources: [spec.sources[0], spec.sources[0]]
		});
		expect(parsed.success).toBe(false);
		expect(parsed.error?.issues[0]?.message).toContain('used twice');
	});
});
