/**
 * Study templates and budgets. The paper template lists every small-scale dataset of the paper
 * that has a preset, FractalDB, and the trivial controls; a budget fixes the encoder, steps,
 * batch and dataset size for all of them, from a few minutes per source on a laptop CPU to the
 * paper's 200 epochs of 105k images at batch 768.
 */
import type {
	StudyBudget,
	StudyEvaluation,
	StudySourceInput,
	StudySpecInput
} from '../api/studies';
import { findPreset } from '../generators/registry';

/** A named budget: training and probe settings that fit a kind of machine and time. */
export interface BudgetPreset {
	id: 'sketch' | 'overnight' | 'paper';
	label: string;
	/** Who it is for and what it costs, for the UI and `--help`. */
	description: string;
	budget: StudyBudget;
	/** Probe settings that match the budget's scale. */
	evaluation: Pick<StudyEvaluation, 'epochs' | 'views'>;
}

/** Steps per epoch of the paper: ceil(105,000 / 768). */
const paperStepsPerEpoch = Math.ceil(105_000 / 768);

/**
 * The budgets. `sketch` is the issue's hand trial (tiny encoder, 150 Adam steps of 64 pairs,
 * 30 probe epochs), which ranks dead leaves above random init above mean colour on Fashion-MNIST;
 * 2,000 distinct images keep the slow generators to minutes. `paper` is the paper's protocol.
 */
export const budgetPresets: readonly BudgetPreset[] = [
	{
		id: 'sketch',
		label: 'Sketch',
		description:
			'Minutes per source on a laptop CPU: tiny encoder, 150 Adam steps of 64 pairs on 2,000 images per source; 30 probe epochs. Enough to see the ranking, with repeats to trust it.',
		budget: {
			name: 'sketch',
			model: 'tiny',
			optimizer: 'adam',
			lr: null,
			steps: 150,
			batch: 64,
			images: 2_000,
			checkpointEvery: 50,
			cacheFormat: 'png'
		},
		evaluation: { epochs: 30, views: 2 }
	},
	{
		id: 'overnight',
		label: 'Overnight',
		description:
			'A night on a laptop CPU: small encoder, 3,000 Adam steps of 128 pairs on 20,000 images per source; the paper’s 100 probe epochs.',
		budget: {
			name: 'overnight',
			model: 'small',
			optimizer: 'adam',
			lr: null,
			steps: 3_000,
			batch: 128,
			images: 20_000,
			checkpointEvery: 500,
			cacheFormat: 'png'
		},
		evaluation: { epochs: 100, views: 4 }
	},
	{
		id: 'paper',
		label: 'Paper',
		description: `The paper’s protocol, for GPU backends: AlexNet, SGD at 0.12·B/256, 200 epochs of 105,000 images at batch 768 (${(200 * paperStepsPerEpoch).toLocaleString('en-US')} steps); 100 probe epochs. Cached datasets are JPEG at quality 95, as the paper’s.`,
		budget: {
			name: 'paper',
			model: 'alexnet',
			optimizer: 'sgd',
			lr: null,
			steps: 200 * paperStepsPerEpoch,
			batch: 768,
			images: 105_000,
			checkpointEvery: 10 * paperStepsPerEpoch,
			cacheFormat: 'jpg'
		},
		evaluation: { epochs: 100, views: 4 }
	}
];

/** The budget preset with this id, or undefined. */
export function findBudget(id: string): BudgetPreset | undefined {
	return budgetPresets.find((budget) => budget.id === id);
}

/** A source a template proposes. */
export interface TemplateSource {
	preset: string;
	/** What the preset needs before it can be used, shown while it is unavailable. */
	needs?: string;
}

/** A study template. */
export interface StudyTemplate {
	id: string;
	label: string;
	description: string;
	sources: readonly TemplateSource[];
	/** Evaluation targets it proposes (datasets, linear probe on fc6). */
	datasets: readonly string[];
}

/**
 * The paper's comparison at small scale, in the order of its bar chart: baselines, FractalDB,
 * the statistical models, dead leaves, feature visualisations and untrained StyleGANs.
 */
export const paperSmallTemplate: StudyTemplate = {
	id: 'paper-small',
	label: 'Paper: noise models (small scale)',
	description:
		'Every small-scale dataset of the paper plus FractalDB, mean colour and white noise controls, with the same encoder and budget; random init is always the lower control. Ranked against the paper’s ImageNet-100 numbers.',
	sources: [
		{ preset: 'control-mean_colour' },
		{ preset: 'control-white_noise' },
		{ preset: 'fractaldb-1k' },
		{ preset: 'stat-spectrum' },
		{ preset: 'stat-wmm' },
		{ preset: 'stat-spectrum_color' },
		{ preset: 'stat-spectrum_color_wmm' },
		{ preset: 'dead_leaves-squares' },
		{ preset: 'dead_leaves-oriented' },
		{ preset: 'dead_leaves-mixed' },
		{ preset: 'dead_leaves-textures' },
		{ preset: 'feature_vis-random' },
		{
			preset: 'feature_vis-dead_leaves',
			needs:
				'feature visualisations of an encoder trained on dead_leaves-mixed (a feature-vis generator that takes a trained run)'
		},
		{ preset: 'stylegan-random' },
		{ preset: 'stylegan-highfreq' },
		{ preset: 'stylegan-sparse' },
		{ preset: 'stylegan-oriented' }
	],
	datasets: ['fashion-mnist-mini']
};

/** Every template. */
export const studyTemplates: readonly StudyTemplate[] = [paperSmallTemplate];

/** The template with this id, or undefined. */
export function findTemplate(id: string): StudyTemplate | undefined {
	return studyTemplates.find((template) => template.id === id);
}

/** Why a template source cannot be used in this build, or null when it can. */
export function templateSourceUnavailable(source: TemplateSource): string | null {
	if (findPreset(source.preset)) return null;
	return `Not available in this build: needs ${source.needs ?? `the preset ${source.preset}`}.`;
}

/** A study source for a preset, keyed and labelled by the preset's name. */
export function presetSource(preset: string): StudySourceInput {
	return { kind: 'generator', key: preset, label: preset, config: { preset } };
}

/**
 * A study spec from a template and a budget: the template's available sources (or `only`
 * those named), its datasets (or `datasets`), the budget's training and probe settings.
 * `unavailable` names sources that cannot generate yet on this machine (preset → why, e.g. no
 * run trained on dead leaves for `feature_vis-dead_leaves`): they are left out, and naming one
 * in `only` is an error that says why.
 */
export function specFromTemplate(
	template: StudyTemplate,
	budget: BudgetPreset,
	options: {
		name?: string;
		repeats?: number;
		only?: readonly string[];
		datasets?: readonly string[];
		unavailable?: Readonly<Record<string, string>>;
	} = {}
): StudySpecInput {
	const why = (source: TemplateSource) =>
		templateSourceUnavailable(source) ??
		(options.unavailable && Object.hasOwn(options.unavailable, source.preset)
			? options.unavailable[source.preset]
			: null) ??
		null;
	const chosen =
		options.only === undefined
			? template.sources.filter((source) => why(source) === null)
			: options.only.map((preset) => {
					const source = template.sources.find((candidate) => candidate.preset === preset);
					if (!source) throw new RangeError(`${preset} is not a source of ${template.label}.`);
					const reason = why(source);
					if (reason !== null) throw new RangeError(`${preset} cannot be used yet: ${reason}`);
					return source;
				});
	return {
		name: options.name ?? `${template.label} · ${budget.label.toLowerCase()}`,
		template: template.id,
		sources: chosen.map((source) => presetSource(source.preset)),
		budget: budget.budget,
		repeats: options.repeats ?? 1,
		evaluation: {
			targets: (options.datasets ?? template.datasets).map((dataset) => ({ dataset })),
			...budget.evaluation
		}
	};
}
