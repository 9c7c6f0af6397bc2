/**
 * The New study form as plain data, and the study spec it builds: a template's sources (each a
 * checkbox), a named budget whose numbers can be edited (then it becomes `custom`), repeats and
 * evaluation datasets. Pure, so it is tested without a browser.
 */
import type { StudyBudget, StudySpecInput } from '../../../core/api/studies';
import type { GeneratorRequirement } from '../../../core/api/trained-encoders';
import { paperResultFor } from '../../../core/studies/paper-reference';
import type { ModelPresetId } from '../../../core/training/config';

/** A template as `studies.templates` describes it. */
export interface TemplateInfo {
	id: string;
	label: string;
	description: string;
	datasets: string[];
	sources: {
		preset: string;
		unavailable: string | null;
		/** The training that would make an unavailable source usable, to queue with `runs.start`. */
		training: GeneratorRequirement['training'];
	}[];
}

/** A budget as `studies.templates` describes it. */
export interface BudgetInfo {
	id: string;
	label: string;
	description: string;
	budget: StudyBudget;
	evaluation: { epochs: number; views: number };
}

/** What the form holds. Numbers are numbers or null while a field is empty. */
export interface StudyFormState {
	name: string;
	templateId: string;
	/** Which of the template's sources are in the study. */
	chosen: Record<string, boolean>;
	budgetId: string;
	model: ModelPresetId;
	optimizer: 'sgd' | 'adam';
	steps: number | null;
	batch: number | null;
	images: number | null;
	epochs: number | null;
	views: number | null;
	/** At most this many probe training images; null uses them all. */
	maxTrain: number | null;
	repeats: number | null;
	datasets: string[];
}

/** Field name → what is wrong with it. */
export type StudyFormErrors = Partial<Record<keyof StudyFormState, string>>;

/** The form for a template and a budget: every available source chosen, the budget's numbers. */
export function defaultStudyForm(template: TemplateInfo, budget: BudgetInfo): StudyFormState {
	return {
		name: '',
		templateId: template.id,
		chosen: Object.fromEntries(
			template.sources.map((source) => [source.preset, source.unavailable === null])
		),
		...budgetFields(budget),
		maxTrain: null,
		repeats: 3,
		datasets: [...template.datasets]
	};
}

/** The budget's numbers as form fields (choosing a budget fills them). */
export function budgetFields(
	budget: BudgetInfo
): Pick<
	StudyFormState,
	'budgetId' | 'model' | 'optimizer' | 'steps' | 'batch' | 'images' | 'epochs' | 'views'
> {
	return {
		budgetId: budget.id,
		model: budget.budget.model,
		optimizer: budget.budget.optimizer,
		steps: budget.budget.steps,
		batch: budget.budget.batch,
		images: budget.budget.images,
		epochs: budget.evaluation.epochs,
		views: budget.evaluation.views
	};
}

/** Whether the form's numbers differ from its named budget's. */
export function budgetEdited(form: StudyFormState, budget: BudgetInfo): boolean {
	const fields = budgetFields(budget);
	return (Object.keys(fields) as (keyof typeof fields)[]).some((key) => form[key] !== fields[key]);
}

function wholeNumber(
	value: number | null,
	min: number,
	max: number,
	what: string
): string | undefined {
	if (value === null || !Number.isFinite(value)) return `Enter the ${what}.`;
	if (!Number.isInteger(value) || value < min || value > max) {
		return `The ${what} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}; got ${value}.`;
	}
	return undefined;
}

/** Validates the form and builds the spec `studies.estimate` and `studies.create` take. */
export function buildStudySpec(
	form: StudyFormState,
	template: TemplateInfo,
	budget: BudgetInfo
): { ok: true; spec: StudySpecInput } | { ok: false; errors: StudyFormErrors } {
	const errors: StudyFormErrors = {};
	const sources = template.sources.filter(
		(source) => source.unavailable === null && form.chosen[source.preset]
	);
	if (sources.length === 0) errors.chosen = 'Choose at least one source.';
	const checks: [keyof StudyFormState, string | undefined][] = [
		['steps', wholeNumber(form.steps, 1, 10_000_000, 'number of steps')],
		['batch', wholeNumber(form.batch, 4, 2048, 'batch')],
		['images', wholeNumber(form.images, 1, 10_000_000, 'number of images')],
		['epochs', wholeNumber(form.epochs, 1, 300, 'number of probe epochs')],
		['views', wholeNumber(form.views, 1, 32, 'number of probe views')],
		['repeats', wholeNumber(form.repeats, 1, 20, 'number of repeats')],
		[
			'maxTrain',
			form.maxTrain === null
				? undefined
				: wholeNumber(form.maxTrain, 10, 10_000_000, 'number of probe training images')
		]
	];
	for (const [field, message] of checks) if (message) errors[field] = message;
	if (form.datasets.length === 0) errors.datasets = 'Choose at least one evaluation dataset.';
	if (form.name.trim().length > 80) errors.name = 'Keep the name to 80 characters.';
	if (Object.keys(errors).length > 0) return { ok: false, errors };
	const edited = budgetEdited(form, budget);
	const name =
		form.name.trim() ||
		`${template.label} · ${edited ? 'custom' : budget.label.toLowerCase()} · ${form.repeats} seed${form.repeats === 1 ? '' : 's'}`;
	return {
		ok: true,
		spec: {
			name: name.slice(0, 80),
			template: template.id,
			sources: sources.map((source) => ({
				kind: 'generator',
				key: source.preset,
				label: source.preset,
				config: { preset: source.preset }
			})),
			budget: {
				...budget.budget,
				name: edited ? 'custom' : budget.budget.name,
				model: form.model,
				optimizer: form.optimizer,
				steps: form.steps as number,
				batch: form.batch as number,
				images: form.images as number,
				checkpointEvery: Math.min(budget.budget.checkpointEvery, form.steps as number)
			},
			repeats: form.repeats as number,
			evaluation: {
				targets: form.datasets.map((dataset) => ({ dataset })),
				epochs: form.epochs as number,
				views: form.views as number,
				maxTrain: form.maxTrain
			}
		}
	};
}

/** The figure family a template source is listed under: the paper's, or Baselines for controls. */
export function templateSourceFamily(preset: string): string {
	const paper = paperResultFor(preset);
	if (paper) return paper.family;
	return preset.startsWith('control-') ? 'Baselines' : 'Other';
}

/** Template sources grouped by family, in the template's order. */
export function groupTemplateSources(
	template: TemplateInfo
): { family: string; sources: TemplateInfo['sources'] }[] {
	const groups: { family: string; sources: TemplateInfo['sources'] }[] = [];
	for (const source of template.sources) {
		const family = templateSourceFamily(source.preset);
		const group = groups.find((candidate) => candidate.family === family);
		if (group) group.sources.push(source);
		else groups.push({ family, sources: [source] });
	}
	return groups;
}
