/**
 * The New run form as data: its fields, their defaults (taken from `trainConfigSchema`, so the
 * form never disagrees with what the worker would assume), help texts that cite the paper, and
 * the translation of the form into a validated {@link TrainConfig} with errors keyed by field.
 */
import { startRunParamsSchema } from '../../../core/api/training';
import type { BackendPreference } from '../../../core/compute/backends';
import {
	baseLearningRate,
	trainConfigSchema,
	type ModelPresetId,
	type TrainConfig
} from '../../../core/training/config';
import {
	addIssues,
	isBlank,
	numberOrUndefined,
	type FieldErrors,
	type Issue
} from '../form-validation';

/** The generator preset a new run starts from: the paper's best small-scale dataset. */
export const defaultSourcePreset = 'dead_leaves-mixed';

/** Steps a new run proposes: long enough for the loss to fall on `tiny`, short enough for a CPU. */
export const defaultSteps = 2000;

/** The numeric settings behind the Advanced disclosure, by config path. */
export const advancedKeys = [
	'momentum',
	'weightDecay',
	'lrDecay',
	'alignAlpha',
	'uniformT',
	'alignWeight',
	'uniformWeight',
	'seed',
	'augment.cropScaleMin',
	'augment.cropScaleMax',
	'augment.cropRatioMin',
	'augment.cropRatioMax',
	'augment.flipProbability',
	'augment.brightness',
	'augment.contrast',
	'augment.saturation',
	'augment.hue',
	'augment.grayscaleProbability'
] as const;

/** One of {@link advancedKeys}. */
export type AdvancedKey = (typeof advancedKeys)[number];

/** How an advanced setting is shown. */
export interface AdvancedField {
	key: AdvancedKey;
	label: string;
	help: string;
	min: number;
	max: number;
	step: number;
	group: 'optimiser' | 'loss' | 'augmentation';
}

/** Labels, ranges and paper defaults of the advanced settings, in display order. */
export const advancedFields: readonly AdvancedField[] = [
	{
		key: 'momentum',
		label: 'Momentum',
		help: 'SGD momentum. Paper: 0.9.',
		min: 0,
		max: 0.999,
		step: 0.01,
		group: 'optimiser'
	},
	{
		key: 'weightDecay',
		label: 'Weight decay',
		help: 'Coupled L2 on every parameter, as PyTorch’s SGD. Paper: 1e-4.',
		min: 0,
		max: 0.1,
		step: 0.00001,
		group: 'optimiser'
	},
	{
		key: 'lrDecay',
		label: 'LR decay factor',
		help: 'The learning rate is multiplied by this at each milestone. Paper: 0.1.',
		min: 0.001,
		max: 1,
		step: 0.01,
		group: 'optimiser'
	},
	{
		key: 'seed',
		label: 'Run seed',
		help: 'Initial weights, data order and augmentations: the same seed and settings give the same run.',
		min: 0,
		max: 2 ** 32 - 1,
		step: 1,
		group: 'optimiser'
	},
	{
		key: 'alignAlpha',
		label: 'Alignment α',
		help: 'Exponent of the alignment term mean ‖x − y‖^α. Paper: 2.',
		min: 0.01,
		max: 4,
		step: 0.1,
		group: 'loss'
	},
	{
		key: 'uniformT',
		label: 'Uniformity t',
		help: 'Temperature of the uniformity term log mean exp(−t‖x − y‖²). Paper: 2.',
		min: 0.01,
		max: 10,
		step: 0.1,
		group: 'loss'
	},
	{
		key: 'alignWeight',
		label: 'Alignment weight',
		help: 'Weight of the alignment term in the loss. Paper: 1.',
		min: 0,
		max: 10,
		step: 0.1,
		group: 'loss'
	},
	{
		key: 'uniformWeight',
		label: 'Uniformity weight',
		help: 'Weight of the uniformity term (the mean over both views). Paper: 1.',
		min: 0,
		max: 10,
		step: 0.1,
		group: 'loss'
	},
	{
		key: 'augment.cropScaleMin',
		label: 'Crop area, min',
		help: 'RandomResizedCrop: smallest share of the image a crop covers. Paper: 0.08.',
		min: 0.01,
		max: 1,
		step: 0.01,
		group: 'augmentation'
	},
	{
		key: 'augment.cropScaleMax',
		label: 'Crop area, max',
		help: 'Largest share of the image a crop covers. Paper: 1.',
		min: 0.01,
		max: 1,
		step: 0.01,
		group: 'augmentation'
	},
	{
		key: 'augment.cropRatioMin',
		label: 'Crop aspect, min',
		help: 'Aspect ratio, drawn log-uniformly. Paper: 3/4.',
		min: 0.1,
		max: 10,
		step: 0.01,
		group: 'augmentation'
	},
	{
		key: 'augment.cropRatioMax',
		label: 'Crop aspect, max',
		help: 'Paper: 4/3.',
		min: 0.1,
		max: 10,
		step: 0.01,
		group: 'augmentation'
	},
	{
		key: 'augment.flipProbability',
		label: 'Flip probability',
		help: 'Horizontal flip. Paper: 0.5.',
		min: 0,
		max: 1,
		step: 0.05,
		group: 'augmentation'
	},
	{
		key: 'augment.brightness',
		label: 'Brightness jitter',
		help: 'Factor drawn from [1 − b, 1 + b]; the four jitters run always, in random order. Paper: 0.4.',
		min: 0,
		max: 1,
		step: 0.05,
		group: 'augmentation'
	},
	{
		key: 'augment.contrast',
		label: 'Contrast jitter',
		help: 'Factor drawn from [1 − c, 1 + c]. Paper: 0.4.',
		min: 0,
		max: 1,
		step: 0.05,
		group: 'augmentation'
	},
	{
		key: 'augment.saturation',
		label: 'Saturation jitter',
		help: 'Factor drawn from [1 − s, 1 + s]. Paper: 0.4.',
		min: 0,
		max: 1,
		step: 0.05,
		group: 'augmentation'
	},
	{
		key: 'augment.hue',
		label: 'Hue jitter',
		help: 'Shift drawn from [−h, h] of a full turn. Paper: 0.4.',
		min: 0,
		max: 0.5,
		step: 0.05,
		group: 'augmentation'
	},
	{
		key: 'augment.grayscaleProbability',
		label: 'Grayscale probability',
		help: 'Chance a view is turned to luma. Paper: 0.2.',
		min: 0,
		max: 1,
		step: 0.05,
		group: 'augmentation'
	}
];

/** Help texts of the main fields. */
export const fieldHelp = {
	source:
		'A virtual dataset is generated on the fly from (seed, index): nothing is written to disk. The paper trains on 105,000 images.',
	imageSize: 'Side of the generated images; crops are taken from them. Paper: 128 px.',
	count: 'Images in the virtual dataset; every epoch reshuffles them. Paper: 105,000.',
	sourceSeed: 'Seeds image i of the dataset; the same seed gives the same images.',
	folderPath: 'A folder of images: an exported noise dataset, or real photos for the control.',
	dataset:
		'A dataset NoiseLab evaluates on (IDX, CIFAR, class folders, the bundled Fashion-MNIST): only its training split is used, so its test split stays unseen. This is the real-data control, the ceiling of the gap closed.',
	maxSide: 'Larger images are scaled so their shorter side is at most this.',
	steps: 'One step is one batch of positive pairs. The paper runs 200 epochs of 137 steps (27.4k).',
	batch: 'Positive pairs per step. Paper: 768. The uniformity loss depends on it.',
	lr: 'Blank: the paper’s rule, 0.12·B/256 for SGD (0.36 at B = 768), 1e-3 for Adam.',
	milestones:
		'Fractions of the run at which the learning rate decays. Paper: epochs 155, 170, 185 of 200 = 0.775, 0.85, 0.925.',
	bnPerView:
		'The paper trained on two GPUs, so batch norm saw each view apart. Off: statistics over both views.',
	checkpointEvery: 'A checkpoint is also written at the end, and when the run is paused.',
	backend: 'Auto picks the fastest backend that works here; Settings shows why others do not.'
} as const;

/** Everything the form edits. Numbers are null while their input is blank. */
export interface RunFormState {
	name: string;
	sourceKind: 'generator' | 'folder' | 'dataset';
	preset: string;
	imageSize: number | null;
	count: number | null;
	sourceSeed: number | null;
	folderPath: string;
	maxSide: number | null;
	/** A dataset's built-in name or folder, for the `dataset` source. */
	dataset: string;
	model: ModelPresetId;
	steps: number | null;
	batch: number | null;
	optimizer: 'sgd' | 'adam';
	/** Blank means the paper's rule (see {@link baseLearningRate}). */
	lr: number | null;
	backend: BackendPreference;
	bnPerView: boolean;
	checkpointEvery: number | null;
	/** Comma-separated fractions. */
	milestones: string;
	advanced: Record<AdvancedKey, number | null>;
}

/** Errors by field: a main field's name, an {@link AdvancedKey}, or `form` for the rest. */
export type FormErrors = FieldErrors;

function schemaDefaults(): TrainConfig {
	return trainConfigSchema.parse({
		source: { kind: 'generator', config: { preset: defaultSourcePreset } },
		steps: defaultSteps
	});
}

function readAdvanced(config: TrainConfig, key: AdvancedKey): number {
	if (key.startsWith('augment.')) {
		return config.augment[key.slice('augment.'.length) as keyof TrainConfig['augment']];
	}
	return config[key as Exclude<AdvancedKey, `augment.${string}`>];
}

/** A fresh form with the schema's defaults; `imageSize` is the preset's own size when known. */
export function defaultRunForm(presetSize: number | null = 128): RunFormState {
	const config = schemaDefaults();
	const source = config.source.kind === 'generator' ? config.source : null;
	return {
		name: '',
		sourceKind: 'generator',
		preset: defaultSourcePreset,
		imageSize: presetSize,
		count: source?.count ?? 105_000,
		sourceSeed: source?.seed ?? 0,
		folderPath: '',
		maxSide: 256,
		dataset: 'fashion-mnist-mini',
		model: config.model,
		steps: config.steps,
		batch: config.batch,
		optimizer: config.optimizer,
		lr: config.lr,
		backend: config.backend,
		bnPerView: config.bnPerView,
		checkpointEvery: config.checkpointEvery,
		milestones: formatMilestones(config.milestones),
		advanced: Object.fromEntries(
			advancedKeys.map((key) => [key, readAdvanced(config, key)])
		) as Record<AdvancedKey, number>
	};
}

/** Milestones as the form shows them: `0.775, 0.85, 0.925`. */
export function formatMilestones(milestones: readonly number[]): string {
	return milestones.map((value) => String(Number(value.toPrecision(6)))).join(', ');
}

/** Parses `0.775, 0.85` into numbers; null when an entry is not a number. Blank is no decay. */
export function parseMilestones(text: string): number[] | null {
	const parts = text
		.split(/[,;\s]+/)
		.map((part) => part.trim())
		.filter((part) => part !== '');
	const values = parts.map(Number);
	return values.every((value) => Number.isFinite(value)) ? values : null;
}

/** The learning rate a run would start from, for the lr field's placeholder. */
export function effectiveLearningRate(
	form: Pick<RunFormState, 'lr' | 'optimizer' | 'batch'>
): number {
	return baseLearningRate({ lr: form.lr, optimizer: form.optimizer, batch: form.batch ?? 0 });
}

const milestoneNoun = { one: 'milestone', many: 'milestones' };

const sourceFieldByKey: Record<string, string> = {
	count: 'count',
	seed: 'sourceSeed',
	path: 'folderPath',
	maxSide: 'maxSide',
	dataset: 'dataset'
};

/** The form field an issue of `startRunParamsSchema` belongs to. */
function fieldOf(issue: Issue): string {
	const path = issue.path.map(String);
	if (path[0] === 'name') return 'name';
	const [, first, second, third] = path;
	if (first === undefined) return 'form';
	if (first === 'source') {
		if (second === 'config') return third === 'size' ? 'imageSize' : 'preset';
		return (second && sourceFieldByKey[second]) ?? 'form';
	}
	if (first === 'milestones') return 'milestones';
	if (first === 'augment') {
		if (second) return `augment.${second}`;
		// The cross-field checks name the field that breaks them in their message.
		return /cropScale/.test(issue.message) ? 'augment.cropScaleMin' : 'augment.cropRatioMin';
	}
	return first;
}

function requiredNumbers(form: RunFormState): FormErrors {
	const errors: FormErrors = {};
	const required: [string, number | null][] = [
		['steps', form.steps],
		['batch', form.batch],
		['checkpointEvery', form.checkpointEvery],
		...advancedKeys.map((key): [string, number | null] => [key, form.advanced[key]])
	];
	if (form.sourceKind === 'generator') {
		required.push(
			['imageSize', form.imageSize],
			['count', form.count],
			['sourceSeed', form.sourceSeed]
		);
	} else if (form.sourceKind === 'folder') {
		required.push(['maxSide', form.maxSide]);
	}
	for (const [field, value] of required) {
		if (isBlank(value)) errors[field] = 'Enter a number.';
	}
	return errors;
}

/** What `runs.start` takes, once the form is valid. */
export interface StartRequest {
	name?: string;
	config: TrainConfig;
}

/**
 * Turns the form into a run request, validated by the contract's own schema. On failure every
 * problem is keyed by the field that caused it.
 */
export function buildStartRequest(
	form: RunFormState
): { ok: true; request: StartRequest } | { ok: false; errors: FormErrors } {
	const errors = requiredNumbers(form);
	const milestones = parseMilestones(form.milestones);
	if (milestones === null) errors.milestones = 'Use numbers between 0 and 1, separated by commas.';
	const advanced = (key: AdvancedKey) => numberOrUndefined(form.advanced[key]);
	const source =
		form.sourceKind === 'generator'
			? {
					kind: 'generator' as const,
					config: { preset: form.preset, size: numberOrUndefined(form.imageSize) },
					seed: numberOrUndefined(form.sourceSeed),
					count: numberOrUndefined(form.count)
				}
			: form.sourceKind === 'folder'
				? {
						kind: 'folder' as const,
						path: form.folderPath.trim(),
						maxSide: numberOrUndefined(form.maxSide)
					}
				: { kind: 'dataset' as const, dataset: form.dataset.trim() };
	const name = form.name.trim();
	const parsed = startRunParamsSchema.safeParse({
		...(name === '' ? {} : { name }),
		config: {
			source,
			model: form.model,
			steps: numberOrUndefined(form.steps),
			batch: numberOrUndefined(form.batch),
			optimizer: form.optimizer,
			lr: numberOrUndefined(form.lr) ?? null,
			momentum: advanced('momentum'),
			weightDecay: advanced('weightDecay'),
			milestones: milestones ?? [],
			lrDecay: advanced('lrDecay'),
			bnPerView: form.bnPerView,
			alignAlpha: advanced('alignAlpha'),
			uniformT: advanced('uniformT'),
			alignWeight: advanced('alignWeight'),
			uniformWeight: advanced('uniformWeight'),
			augment: {
				cropScaleMin: advanced('augment.cropScaleMin'),
				cropScaleMax: advanced('augment.cropScaleMax'),
				cropRatioMin: advanced('augment.cropRatioMin'),
				cropRatioMax: advanced('augment.cropRatioMax'),
				flipProbability: advanced('augment.flipProbability'),
				brightness: advanced('augment.brightness'),
				contrast: advanced('augment.contrast'),
				saturation: advanced('augment.saturation'),
				hue: advanced('augment.hue'),
				grayscaleProbability: advanced('augment.grayscaleProbability')
			},
			checkpointEvery: numberOrUndefined(form.checkpointEvery),
			seed: advanced('seed'),
			backend: form.backend
		}
	});
	if (!parsed.success) addIssues(errors, parsed.error.issues, fieldOf, milestoneNoun);
	if (!parsed.success || Object.keys(errors).length > 0) return { ok: false, errors };
	return { ok: true, request: parsed.data };
}
