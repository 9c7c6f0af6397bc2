import { describe, expect, it } from 'vitest';
import { evaluateParamsSchema, type EvalDatasetInfo } from '../../src/core/api/evaluation';
import type { RunRecord, RunStatus } from '../../src/core/api/training';
import { trainConfigSchema } from '../../src/core/training/config';
import {
	buildEvaluateRequest,
	defaultEvalForm,
	parseKnnK,
	pickDefaultDataset,
	pickDefaultRun,
	realControlRequest,
	realDataRuns,
	type EvalFormState
} from '../../src/renderer/lib/evaluation/eval-form';

const generatorConfig = trainConfigSchema.parse({
	source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
	steps: 10
});
const folderConfig = trainConfigSchema.parse({
	source: { kind: 'folder', path: '/photos' },
	steps: 10
});

function run(id: number, status: RunStatus, createdAt: string, folder = false): RunRecord {
	return {
		id,
		name: `run ${id}`,
		status,
		kind: 'trained',
		imported: null,
		config: folder ? folderConfig : generatorConfig,
		sourceLabel: '',
		backend: 'wasm',
		adapter: null,
		step: status === 'running' ? 3 : 10,
		steps: 10,
		parameterCount: null,
		lastLoss: null,
		trainSeconds: 1,
		skippedImages: 0,
		error: null,
		tags: [],
		notes: '',
		appVersion: '0',
		createdAt,
		updatedAt: createdAt,
		finishedAt: null
	};
}

function dataset(name: string, available: boolean): EvalDatasetInfo {
	return {
		name,
		kind: name.startsWith('structured:') ? 'structured' : 'builtin',
		description: name,
		available,
		detail: '',
		classes: null,
		trainCount: null,
		testCount: null
	};
}

function form(change: (state: EvalFormState) => void = () => undefined): EvalFormState {
	const state = defaultEvalForm(7, 'fashion-mnist-mini');
	change(state);
	return state;
}

function errorsOf(state: EvalFormState): Record<string, string | undefined> {
	const built = buildEvaluateRequest(state);
	if (built.ok) throw new Error('expected the form to be invalid');
	return built.errors;
}

describe('default run and dataset', () => {
	it('proposes the newest completed run, even when a newer one is still running', () => {
		const runs = [
			run(1, 'completed', '2024-01-01T00:00:00Z'),
			run(2, 'completed', '2024-01-03T00:00:00Z'),
			run(3, 'running', '2024-01-05T00:00:00Z'),
			run(4, 'failed', '2024-01-04T00:00:00Z')
		];
		expect(pickDefaultRun(runs)).toBe(2);
	});

	it('falls back to a stopped run with steps, then to the newest, then to none', () => {
		expect(
			pickDefaultRun([
				run(1, 'running', '2024-01-05T00:00:00Z'),
				run(2, 'paused', '2024-01-02T00:00:00Z')
			])
		).toBe(2);
		expect(
			pickDefaultRun([
				run(1, 'running', '2024-01-01T00:00:00Z'),
				run(2, 'failed', '2024-01-02T00:00:00Z')
			])
		).toBe(2);
		expect(pickDefaultRun([])).toBeNull();
	});

	it('proposes the bundled subset, or the first available dataset when it is missing', () => {
		const all = [
			dataset('fashion-mnist', false),
			dataset('fashion-mnist-mini', true),
			dataset('structured:count-shapes', true)
		];
		expect(pickDefaultDataset(all)).toBe('fashion-mnist-mini');
		expect(
			pickDefaultDataset([
				dataset('fashion-mnist-mini', false),
				dataset('fashion-mnist', false),
				dataset('structured:count-shapes', true)
			])
		).toBe('structured:count-shapes');
	});

	it('offers only runs trained on an image folder as the real-data control, never the run itself', () => {
		const runs = [
			run(1, 'completed', '2024-01-01T00:00:00Z', true),
			run(2, 'completed', '2024-01-02T00:00:00Z'),
			run(3, 'completed', '2024-01-03T00:00:00Z', true)
		];
		expect(realDataRuns(runs, 3).map((candidate) => candidate.id)).toEqual([1]);
		expect(realDataRuns(runs, null).map((candidate) => candidate.id)).toEqual([1, 3]);
	});
});

describe('building the evaluations.start request', () => {
	it('gives the schema’s own defaults (the paper’s: fc6, 100 epochs) for an untouched form', () => {
		const built = buildEvaluateRequest(form());
		expect(built.ok).toBe(true);
		if (!built.ok) return;
		// The schema leaves the layer to the encoder (fc6, or avgpool for a ResNet-50); the form
		// names the paper's fc6, which a ResNet-50 reads as avgpool (the same depth).
		expect(built.request).toEqual({
			...evaluateParamsSchema.parse({ runId: 7, dataset: 'fashion-mnist-mini' }),
			layer: 'fc6'
		});
		expect(built.request.epochs).toBe(100);
		expect(built.request.randomInit).toBe(true);
		expect(built.request.maxTrain).toBeNull();
	});

	it('carries every edited setting through, parsing the kNN k’s', () => {
		const built = buildEvaluateRequest(
			form((state) => {
				state.protocol = 'knn';
				state.layer = 'conv5';
				state.randomInit = false;
				state.realRunId = 3;
				state.knnK = '5, 50;  500';
				state.temperature = 0.1;
				state.maxTrain = 300;
				state.epochs = 10;
				state.views = 1;
				state.standardize = false;
				state.seed = 42;
				state.dataset = '  /data/photos ';
			})
		);
		expect(built.ok).toBe(true);
		if (!built.ok) return;
		expect(built.request).toEqual({
			runId: 7,
			dataset: '/data/photos',
			protocol: 'knn',
			layer: 'conv5',
			randomInit: false,
			realRunId: 3,
			epochs: 10,
			views: 1,
			standardize: false,
			knnK: [5, 50, 500],
			temperature: 0.1,
			maxTrain: 300,
			seed: 42
		});
	});

	it('ignores the kNN fields for a linear probe, even when they are invalid', () => {
		const built = buildEvaluateRequest(
			form((state) => {
				state.knnK = 'twenty';
				state.temperature = null;
			})
		);
		expect(built.ok).toBe(true);
		if (built.ok) expect(built.request.knnK).toEqual([20, 200]);
	});

	it('keys each problem by the field that caused it, with the schema’s bounds', () => {
		const errors = errorsOf(
			form((state) => {
				state.runId = null;
				state.epochs = 0;
				state.views = 2.5;
				state.maxTrain = 5;
				state.seed = null;
			})
		);
		expect(errors.runId).toBe('Choose a run to evaluate.');
		expect(errors.epochs).toBe('At least 1.');
		expect(errors.views).toBe('Must be a whole number.');
		expect(errors.maxTrain).toBe('At least 10.');
		expect(errors.seed).toBe('Enter a number.');
	});

	it('rejects bad kNN settings only under the kNN protocol', () => {
		const errors = errorsOf(
			form((state) => {
				state.protocol = 'knn';
				state.knnK = '1, 2, 3, 4, 5';
				state.temperature = 0;
			})
		);
		expect(errors.knnK).toBe('At most 4 values.');
		expect(errors.temperature).toBe('Must be more than 0.');
		expect(errorsOf(form((state) => ((state.protocol = 'knn'), (state.knnK = '20, x')))).knnK).toBe(
			'Use whole numbers separated by commas.'
		);
		expect(errorsOf(form((state) => (state.dataset = ' '))).dataset).toBe('Choose a dataset.');
	});

	it('parses k lists with commas, semicolons or spaces', () => {
		expect(parseKnnK('20, 200')).toEqual([20, 200]);
		expect(parseKnnK(' 1;2 3 ')).toEqual([1, 2, 3]);
		expect(parseKnnK('')).toEqual([]);
		expect(parseKnnK('7, k')).toBeNull();
	});
});

describe('training the real-data control from Evaluate', () => {
	it('trains on the evaluated dataset’s training split with the evaluated run’s budget', () => {
		const evaluated = { ...run(4, 'completed', '2026-01-01'), name: 'noise' };
		const form = { ...defaultEvalForm(4, 'fashion-mnist-mini'), seed: 7 };
		const built = realControlRequest(evaluated, form);
		expect(built.ok).toBe(true);
		if (!built.ok) return;
		const { source, ...budget } = built.request.config;
		const { source: noiseSource, ...evaluatedBudget } = evaluated.config;
		void noiseSource;
		expect(budget).toEqual(evaluatedBudget);
		// The evaluation's seed splits a folder without a split: the control never sees its test set.
		expect(source).toEqual({ kind: 'dataset', dataset: 'fashion-mnist-mini', splitSeed: 7 });
		expect(built.request.name).toBe('Real data: fashion-mnist-mini (budget of noise)');
	});

	it('says why it cannot: no run, an imported encoder, a structured task', () => {
		const form = defaultEvalForm(null, 'fashion-mnist-mini');
		expect(realControlRequest(null, form)).toEqual({
			ok: false,
			reason: 'Choose the run to evaluate first: the control copies its budget.'
		});
		const imported = { ...run(2, 'completed', '2026-01-01'), kind: 'imported' as const };
		expect(realControlRequest(imported, form)).toMatchObject({ ok: false });
		const structured = realControlRequest(run(3, 'completed', '2026-01-01'), {
			...form,
			dataset: 'structured:count-shapes'
		});
		expect(structured).toMatchObject({ ok: false, reason: expect.stringMatching(/structured/i) });
	});

	it('offers runs trained on a dataset as the real-data control', () => {
		const real = {
			...run(5, 'completed', '2026-01-02'),
			config: trainConfigSchema.parse({
				source: { kind: 'dataset', dataset: 'fashion-mnist-mini' },
				steps: 10
			})
		};
		expect(realDataRuns([run(1, 'completed', '2026-01-01'), real], null).map((r) => r.id)).toEqual([
			5
		]);
	});
});
