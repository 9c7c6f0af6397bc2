import { describe, expect, it } from 'vitest';
import { paperMilestones, trainConfigSchema } from '../../src/core/training/config';
import {
	advancedFields,
	advancedKeys,
	buildStartRequest,
	defaultRunForm,
	effectiveLearningRate,
	formatMilestones,
	parseMilestones,
	type RunFormState
} from '../../src/renderer/lib/training/run-form';

function form(change: (state: RunFormState) => void = () => undefined): RunFormState {
	const state = defaultRunForm(128);
	change(state);
	return state;
}

function errorsOf(state: RunFormState): Record<string, string | undefined> {
	const built = buildStartRequest(state);
	if (built.ok) throw new Error('expected the form to be invalid');
	return built.errors;
}

describe('New run form defaults', () => {
	it('start from the schema’s (the paper’s) defaults and the 105k virtual dataset', () => {
		const state = defaultRunForm(128);
		expect(state.preset).toBe('dead_leaves-mixed');
		expect(state.count).toBe(105_000);
		expect(state.batch).toBe(128);
		expect(state.lr).toBeNull();
		expect(state.bnPerView).toBe(true);
		expect(state.advanced.momentum).toBe(0.9);
		expect(state.advanced.weightDecay).toBe(1e-4);
		expect(state.advanced['augment.cropScaleMin']).toBe(0.08);
		expect(state.advanced['augment.hue']).toBe(0.4);
		expect(parseMilestones(state.milestones)).toEqual([...paperMilestones]);
	});

	it('has a label and a help text citing the paper for every advanced setting', () => {
		expect(advancedFields.map((field) => field.key).sort()).toEqual([...advancedKeys].sort());
		for (const field of advancedFields) {
			expect(field.help.length).toBeGreaterThan(10);
			expect(field.min).toBeLessThan(field.max);
		}
	});
});

describe('building a TrainConfig from the form', () => {
	it('produces the schema’s own parse of the same settings', () => {
		const built = buildStartRequest(form());
		expect(built.ok).toBe(true);
		if (!built.ok) return;
		expect(built.request.name).toBeUndefined();
		const expected = trainConfigSchema.parse({
			source: { kind: 'generator', config: { preset: 'dead_leaves-mixed', size: 128 } },
			steps: 2000
		});
		expect(built.request.config).toEqual(expected);
	});

	it('carries every edited field into the config', () => {
		const built = buildStartRequest(
			form((state) => {
				state.name = '  tiny on leaves  ';
				state.model = 'small';
				state.steps = 500;
				state.batch = 64;
				state.optimizer = 'adam';
				state.lr = 0.002;
				state.backend = 'wasm';
				state.bnPerView = false;
				state.checkpointEvery = 50;
				state.imageSize = 96;
				state.count = 5000;
				state.sourceSeed = 7;
				state.milestones = '0.5; 0.9';
				state.advanced['augment.grayscaleProbability'] = 0;
				state.advanced.seed = 42;
			})
		);
		if (!built.ok) throw new Error(JSON.stringify(built.errors));
		const { config, name } = built.request;
		expect(name).toBe('tiny on leaves');
		expect(config).toMatchObject({
			model: 'small',
			steps: 500,
			batch: 64,
			optimizer: 'adam',
			lr: 0.002,
			backend: 'wasm',
			bnPerView: false,
			checkpointEvery: 50,
			milestones: [0.5, 0.9],
			seed: 42,
			source: {
				kind: 'generator',
				config: { preset: 'dead_leaves-mixed', size: 96 },
				seed: 7,
				count: 5000
			}
		});
		expect(config.augment.grayscaleProbability).toBe(0);
	});

	it('builds a folder source', () => {
		const built = buildStartRequest(
			form((state) => {
				state.sourceKind = 'folder';
				state.folderPath = ' /data/leaves ';
			})
		);
		if (!built.ok) throw new Error(JSON.stringify(built.errors));
		expect(built.request.config.source).toEqual({
			kind: 'folder',
			path: '/data/leaves',
			maxSide: 256
		});
	});

	it('builds a dataset source (its training split), and names a blank or structured one', () => {
		const built = buildStartRequest(
			form((state) => {
				state.sourceKind = 'dataset';
				state.dataset = 'fashion-mnist-mini';
				state.imageSize = null;
			})
		);
		if (!built.ok) throw new Error(JSON.stringify(built.errors));
		expect(built.request.config.source).toEqual({
			kind: 'dataset',
			dataset: 'fashion-mnist-mini',
			splitSeed: 0
		});
		for (const [dataset, message] of [
			[' ', 'Required.'],
			['structured:count-shapes', /structured tasks .* evaluation only/i]
		] as const) {
			const errors = errorsOf(
				form((state) => {
					state.sourceKind = 'dataset';
					state.dataset = dataset;
				})
			);
			expect(errors.dataset).toMatch(message);
		}
	});

	it('keys schema errors by the field that caused them', () => {
		const errors = errorsOf(
			form((state) => {
				state.batch = 3000;
				state.steps = 10.5;
				state.imageSize = 16;
				state.milestones = '0.5, 1.5';
				state.advanced['augment.hue'] = 0.9;
			})
		);
		expect(errors.batch).toBe('At most 2048.');
		expect(errors.steps).toBe('Must be a whole number.');
		expect(errors.imageSize).toBe('At least 32.');
		expect(errors.milestones).toBe('Must be less than 1.');
		expect(errors['augment.hue']).toBe('At most 0.5.');
		expect(Object.keys(errors).sort()).toEqual(
			['augment.hue', 'batch', 'imageSize', 'milestones', 'steps'].sort()
		);
	});

	it('reports blanks, bad milestones, a missing folder and crossed crop ranges', () => {
		const errors = errorsOf(
			form((state) => {
				state.steps = null;
				state.milestones = '0.5, soon';
				state.sourceKind = 'folder';
				state.folderPath = '  ';
				state.advanced['augment.cropScaleMin'] = 0.9;
				state.advanced['augment.cropScaleMax'] = 0.5;
			})
		);
		expect(errors.steps).toBe('Enter a number.');
		expect(errors.milestones).toMatch(/separated by commas/);
		expect(errors.folderPath).toBe('Required.');
		expect(errors['augment.cropScaleMin']).toBe('cropScaleMin must not exceed cropScaleMax.');
	});

	it('says which learning rate a blank field means', () => {
		expect(effectiveLearningRate({ lr: null, optimizer: 'sgd', batch: 768 })).toBeCloseTo(0.36);
		expect(effectiveLearningRate({ lr: null, optimizer: 'sgd', batch: 128 })).toBeCloseTo(0.06);
		expect(effectiveLearningRate({ lr: null, optimizer: 'adam', batch: 128 })).toBe(1e-3);
		expect(effectiveLearningRate({ lr: 0.5, optimizer: 'sgd', batch: 128 })).toBe(0.5);
	});

	it('round-trips milestones through their text form', () => {
		expect(formatMilestones([155 / 200, 170 / 200, 185 / 200])).toBe('0.775, 0.85, 0.925');
		expect(parseMilestones('')).toEqual([]);
		expect(parseMilestones('0.2 0.4')).toEqual([0.2, 0.4]);
		expect(parseMilestones('0.2, x')).toBeNull();
	});
});
