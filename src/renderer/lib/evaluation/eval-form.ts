/**
 * The Evaluate form as data: its defaults (taken from `evaluateParamsSchema`, so the form never
 * disagrees with what the worker would assume), help texts that say what the paper does, which
 * runs and datasets it proposes first, and the translation into a validated request.
 */
import {
	evaluateParamsSchema,
	type EvalDatasetInfo,
	type EvaluateParams
} from '../../../core/api/evaluation';
import {
	startRunParamsSchema,
	type RunRecord,
	type RunStatus,
	type StartRunParams
} from '../../../core/api/training';
import type { FeatureLayer } from '../../../core/encoders/architecture';
import { isBlank, numberOrUndefined, addIssues, type FieldErrors } from '../form-validation';
import { newestFirst } from '../runs/run-list';

/** The dataset proposed first: bundled, so it works offline on first launch. */
export const defaultDatasetName = 'fashion-mnist-mini';

/** Everything the Evaluate form edits. Numbers are null while their input is blank. */
export interface EvalFormState {
	runId: number | null;
	dataset: string;
	protocol: EvaluateParams['protocol'];
	layer: FeatureLayer;
	randomInit: boolean;
	/** A run trained on a real image folder, evaluated alongside as the upper control. */
	realRunId: number | null;
	epochs: number | null;
	views: number | null;
	standardize: boolean;
	/** Comma-separated k's of the kNN protocol, e.g. `20, 200`. */
	knnK: string;
	temperature: number | null;
	/** Blank uses every training image. */
	maxTrain: number | null;
	seed: number | null;
}

/** Errors by form field (`runId`, `epochs`, …, or `form` for the rest). */
export type EvalFormErrors = FieldErrors;

/** The settings behind the Advanced disclosure, by form field: it opens when one is invalid. */
export const evalAdvancedKeys = [
	'epochs',
	'views',
	'knnK',
	'temperature',
	'maxTrain',
	'seed'
] as const;

/** Help texts of the form's fields, saying what the paper does. */
export const evalFieldHelp = {
	run: 'The encoder to measure: its latest checkpoint is frozen and only a classifier on top is trained.',
	dataset:
		'Real images the encoder never saw. The bundled Fashion-MNIST subset works offline; structured tasks are generated.',
	protocol:
		'Linear probe: softmax regression on frozen features, as the paper. kNN: cosine nearest neighbours, a fast second opinion.',
	layer:
		'Features from this block; conv blocks are global-average-pooled. The paper probes fc6, the first fully connected layer.',
	randomInit: 'The same architecture and seed, untrained: the floor any learned encoder must beat.',
	realRun:
		'A run trained on a real image folder: the ceiling. With it the result shows the gap closed.',
	epochs:
		'Linear-probe epochs. Paper: 100 epochs of Adam (lr 1e-3, β 0.5/0.999), lr ×0.2 at 60% and 80%.',
	views:
		'Cached augmented crops per training image, one per epoch in turn. The paper draws a fresh crop every epoch; each view costs one encoder pass.',
	standardize:
		'Not in the paper: z-scores features, since untrained and barely trained encoders give tiny fc6 features that score chance at CPU-sized probe budgets.',
	knnK: 'Neighbours that vote (cosine similarity, temperature-weighted); up to 4 values. Usual: 20, 200.',
	temperature: 'Votes are weighted by exp(similarity / T). Usual: 0.07.',
	maxTrain:
		'Use at most this many training images (stratified by class) to keep a CPU evaluation short. Blank: all.',
	seed: 'Seeds the subset, the crops and the probe’s initial weights: the same seed gives the same result.'
} as const;

function schemaDefaults(runId: number): EvaluateParams {
	return evaluateParamsSchema.parse({ runId, dataset: defaultDatasetName });
}

/** Statuses whose runs normally have a checkpoint to evaluate. */
const finishedStatuses: readonly RunStatus[] = ['completed', 'paused', 'cancelled', 'interrupted'];

/**
 * The run proposed first: the newest completed one, else the newest that stopped another way
 * (which usually left a checkpoint), else the newest of all; null when there are none.
 */
export function pickDefaultRun(runs: readonly RunRecord[]): number | null {
	const newest = newestFirst(runs);
	const completed = newest.find((run) => run.status === 'completed');
	const stopped = newest.find((run) => finishedStatuses.includes(run.status) && run.step > 0);
	return (completed ?? stopped ?? newest[0])?.id ?? null;
}

/** The dataset proposed first: the bundled subset when available, else the first available one. */
export function pickDefaultDataset(datasets: readonly EvalDatasetInfo[]): string {
	const bundled = datasets.find((dataset) => dataset.name === defaultDatasetName);
	if (bundled?.available) return bundled.name;
	return datasets.find((dataset) => dataset.available)?.name ?? defaultDatasetName;
}

/**
 * The candidates for the real-data control: runs trained on a real image folder or a dataset's
 * training split, and imported encoders (an ImageNet ResNet-50 is the classic reference).
 */
export function realDataRuns(runs: readonly RunRecord[], excludeId: number | null): RunRecord[] {
	return runs.filter(
		(run) =>
			(run.kind === 'imported' || run.config.source.kind !== 'generator') && run.id !== excludeId
	);
}

/**
 * The run that "Train the real-data control" starts: the evaluated run's budget (model, steps,
 * batch, optimiser, augmentations, seed) on the training split of the dataset being evaluated,
 * split with the evaluation's seed so the control never trains on the test images. Null run,
 * imported encoders and structured tasks have no such control; the reason says why.
 */
export function realControlRequest(
	run: RunRecord | null,
	form: Pick<EvalFormState, 'dataset' | 'seed'>
): { ok: true; request: StartRunParams } | { ok: false; reason: string } {
	if (run === null) {
		return {
			ok: false,
			reason: 'Choose the run to evaluate first: the control copies its budget.'
		};
	}
	if (run.kind === 'imported') {
		return {
			ok: false,
			reason: 'An imported encoder has no training budget to copy; pick a trained run.'
		};
	}
	const dataset = form.dataset.trim();
	if (dataset === '' || dataset.startsWith('structured:')) {
		return {
			ok: false,
			reason: 'Structured tasks are generated for evaluation only; choose a real dataset.'
		};
	}
	const label = dataset.startsWith('/')
		? (dataset.split('/').filter(Boolean).at(-1) ?? dataset)
		: dataset;
	const name = `Real data: ${label} (budget of ${run.name})`;
	const parsed = startRunParamsSchema.safeParse({
		name: name.length > 80 ? `${name.slice(0, 79)}…` : name,
		config: {
			...run.config,
			source: { kind: 'dataset', dataset, splitSeed: form.seed ?? 0 }
		}
	});
	return parsed.success
		? { ok: true, request: parsed.data }
		: { ok: false, reason: parsed.error.issues[0]?.message ?? 'The run’s settings are invalid.' };
}

/** A fresh form with the schema's defaults, proposing the given run and dataset. */
export function defaultEvalForm(
	runId: number | null = null,
	dataset: string = defaultDatasetName
): EvalFormState {
	const defaults = schemaDefaults(runId ?? 0);
	return {
		runId,
		dataset,
		protocol: defaults.protocol,
		layer: defaults.layer ?? 'fc6',
		randomInit: defaults.randomInit,
		realRunId: defaults.realRunId,
		epochs: defaults.epochs,
		views: defaults.views,
		standardize: defaults.standardize,
		knnK: defaults.knnK.join(', '),
		temperature: defaults.temperature,
		maxTrain: defaults.maxTrain,
		seed: defaults.seed
	};
}

/** Parses `20, 200` into numbers; null when an entry is not a number. */
export function parseKnnK(text: string): number[] | null {
	const parts = text
		.split(/[,;\s]+/)
		.map((part) => part.trim())
		.filter((part) => part !== '');
	const values = parts.map(Number);
	return values.every((value) => Number.isFinite(value)) ? values : null;
}

/**
 * Turns the form into an `evaluations.start` request, validated by the contract's own schema.
 * On failure every problem is keyed by the field that caused it. The kNN settings are checked
 * only for the kNN protocol, so a stray entry there does not block a linear probe.
 */
export function buildEvaluateRequest(
	form: EvalFormState
): { ok: true; request: EvaluateParams } | { ok: false; errors: EvalFormErrors } {
	const errors: EvalFormErrors = {};
	if (form.runId === null) errors.runId = 'Choose a run to evaluate.';
	if (form.dataset.trim() === '') errors.dataset = 'Choose a dataset.';
	for (const key of ['epochs', 'views', 'seed'] as const) {
		if (isBlank(form[key])) errors[key] = 'Enter a number.';
	}
	const knn = form.protocol === 'knn';
	const ks = parseKnnK(form.knnK);
	if (knn && ks === null) errors.knnK = 'Use whole numbers separated by commas.';
	if (knn && isBlank(form.temperature)) {
		errors.temperature = 'Enter a number.';
	}
	const parsed = evaluateParamsSchema.safeParse({
		runId: form.runId ?? 0,
		dataset: form.dataset.trim(),
		protocol: form.protocol,
		layer: form.layer,
		randomInit: form.randomInit,
		realRunId: form.realRunId,
		epochs: numberOrUndefined(form.epochs),
		views: numberOrUndefined(form.views),
		standardize: form.standardize,
		knnK: knn && ks !== null ? ks : undefined,
		temperature: knn ? numberOrUndefined(form.temperature) : undefined,
		maxTrain: numberOrUndefined(form.maxTrain) ?? null,
		seed: numberOrUndefined(form.seed)
	});
	if (!parsed.success) {
		addIssues(errors, parsed.error.issues, (issue) => issue.path.map(String)[0] ?? 'form');
	}
	if (!parsed.success || Object.keys(errors).length > 0) return { ok: false, errors };
	return { ok: true, request: parsed.data };
}
