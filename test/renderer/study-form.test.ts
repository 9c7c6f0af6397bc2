import { describe, expect, it } from 'vitest';
import { studySpecSchema } from '../../src/core/api/studies';
import {
	budgetPresets,
	paperSmallTemplate,
	templateSourceUnavailable
} from '../../src/core/studies/templates';
import {
	budgetEdited,
	budgetFields,
	buildStudySpec,
	defaultStudyForm,
	groupTemplateSources,
	type BudgetInfo,
	type TemplateInfo
} from '../../src/renderer/lib/studies/study-form';

const template: TemplateInfo = {
	id: paperSmallTemplate.id,
	label: paperSmallTemplate.label,
	description: paperSmallTemplate.description,
	datasets: [...paperSmallTemplate.datasets],
	sources: paperSmallTemplate.sources.map((source) => ({
		preset: source.preset,
		unavailable: templateSourceUnavailable(source),
		training: null
	}))
};
const budgets: BudgetInfo[] = budgetPresets.map((budget) => ({ ...budget }));
const sketch = budgets.find((budget) => budget.id === 'sketch') as BudgetInfo;

describe('the New study form', () => {
	it('starts with every available source and the sketch budget, and builds a valid spec', () => {
		const form = defaultStudyForm(template, sketch);
		const built = buildStudySpec(form, template, sketch);
		expect(built.ok).toBe(true);
		if (!built.ok) return;
		const spec = studySpecSchema.parse(built.spec);
		const available = template.sources.filter((source) => source.unavailable === null);
		expect(spec.sources.map((source) => source.key)).toEqual(available.map((s) => s.preset));
		expect(spec.budget).toMatchObject({ name: 'sketch', model: 'tiny', steps: 150, batch: 64 });
		expect(spec.evaluation).toMatchObject({ epochs: 30, views: 2, maxTrain: null });
		expect(spec.name).toContain('sketch');
	});

	it('calls an edited budget custom and keeps checkpoints within the run', () => {
		const form = { ...defaultStudyForm(template, sketch), steps: 4, repeats: 1 };
		expect(budgetEdited(form, sketch)).toBe(true);
		const built = buildStudySpec(form, template, sketch);
		expect(built.ok && built.spec.budget).toMatchObject({
			name: 'custom',
			steps: 4,
			checkpointEvery: 4
		});
		const paper = budgets.find((budget) => budget.id === 'paper') as BudgetInfo;
		expect(budgetEdited({ ...form, ...budgetFields(paper) }, paper)).toBe(false);
	});

	it('names every field that is wrong', () => {
		const form = {
			...defaultStudyForm(template, sketch),
			chosen: {},
			steps: null,
			batch: 2,
			repeats: 0,
			maxTrain: 5,
			datasets: []
		};
		const built = buildStudySpec(form, template, sketch);
		expect(built.ok).toBe(false);
		if (built.ok) return;
		expect(Object.keys(built.errors).sort()).toEqual(
			['batch', 'chosen', 'datasets', 'maxTrain', 'repeats', 'steps'].sort()
		);
		expect(built.errors.batch).toContain('got 2');
	});

	it('groups the sources by the paper’s families, controls with the baselines', () => {
		const groups = groupTemplateSources(template);
		expect(groups.map((group) => group.family)).toEqual([
			'Baselines',
			'Procedural',
			'Statistical',
			'Dead leaves',
			'Feature vis.',
			'StyleGAN'
		]);
		expect(groups[0]?.sources.map((source) => source.preset)).toEqual([
			'control-mean_colour',
			'control-white_noise'
		]);
	});
});
