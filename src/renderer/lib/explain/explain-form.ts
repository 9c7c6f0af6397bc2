/** Pure choices of the Explain form: defaults, index stepping and the request it sends. */
import type { EvalDatasetInfo } from '../../../core/api/evaluation';
import type { ExplainParams } from '../../../core/api/explain';
import type { RunRecord } from '../../../core/api/training';
import { pickDefaultRun } from '../evaluation/eval-form';
import type { ShownError } from '../training/training.svelte';

/** One encoder to explain: a run's newest checkpoint, or the same architecture at random init. */
export interface EncoderPick {
	runId: number | null;
	randomInit: boolean;
}

/** The Grad-CAM methods, named as in pytorch-grad-cam. */
export const explainMethods = [
	{ id: 'gradcam', label: 'GradCAM' },
	{ id: 'gradcam++', label: 'GradCAM++' }
] as const;

/** The conv blocks a map can be taken at. */
export const explainLayers = ['conv1', 'conv2', 'conv3', 'conv4', 'conv5'] as const;

/** The default comparison: the proposed run against its own random init (the sanity check). */
export function defaultEncoderPicks(runs: readonly RunRecord[]): [EncoderPick, EncoderPick] {
	const runId = pickDefaultRun(runs);
	return [
		{ runId, randomInit: false },
		{ runId, randomInit: true }
	];
}

/** The last valid image index of a dataset's test split; null when its size is unknown. */
export function lastIndex(dataset: EvalDatasetInfo | undefined): number | null {
	if (!dataset || dataset.testCount === null) return null;
	return Math.max(0, dataset.testCount - 1);
}

/** Steps an index by `delta`, wrapping around a known dataset size and never going below 0. */
export function stepIndex(index: number, delta: number, last: number | null): number {
	const next = index + delta;
	if (last === null) return Math.max(0, next);
	const count = last + 1;
	return ((next % count) + count) % count;
}

/** The request for the current choices, or a message saying what is missing. */
export function buildExplainParams(choice: {
	encoders: readonly EncoderPick[];
	dataset: string;
	index: number;
	method: ExplainParams['method'];
	layer: ExplainParams['layer'];
}): { ok: true; params: ExplainParams } | { ok: false; error: ShownError } {
	const encoders = choice.encoders.filter((pick) => pick.runId !== null);
	if (encoders.length === 0) {
		return {
			ok: false,
			error: {
				message: 'Choose at least one run.',
				hint: 'Train a run first (Train area); a run’s random init needs no training.'
			}
		};
	}
	if (choice.dataset === '') {
		return { ok: false, error: { message: 'Choose a dataset.', hint: 'Any evaluation dataset.' } };
	}
	if (!Number.isInteger(choice.index) || choice.index < 0) {
		return {
			ok: false,
			error: { message: 'The image index must be a whole number ≥ 0.', hint: 'Use ◀ ▶ to step.' }
		};
	}
	return {
		ok: true,
		params: {
			encoders: encoders.map((pick) => ({
				runId: pick.runId as number,
				randomInit: pick.randomInit
			})),
			dataset: choice.dataset,
			index: choice.index,
			method: choice.method,
			layer: choice.layer
		}
	};
}
