/**
 * Pure choices of the Explain area: default encoders, targets, stepping through a (filtered) list
 * of test images, the requests the page sends and how their answers are worded. Free of the DOM
 * and of Svelte so they are unit-tested directly.
 */
import { type ShownError } from '../errors';
import type { EvalDatasetInfo } from '../../../core/api/evaluation';
import type {
	EncoderRef,
	ExplainActivationsParams,
	ExplainBatchParams,
	ExplainNeighboursParams,
	ExplainParams,
	ExplainResult,
	ExplainTarget
} from '../../../core/api/explain';
import {
	camLayers,
	camMethods,
	maxUploadBytes,
	randomisationLimit
} from '../../../core/api/explain';
import { formatMiB } from '../../../core/format';
import type { RunRecord } from '../../../core/api/training';
import { pickDefaultRun } from '../evaluation/eval-form';

/** One encoder to explain: a run's newest checkpoint, or the same architecture at random init. */
export interface EncoderPick {
	runId: number | null;
	randomInit: boolean;
}

/**
 * The encoders of an evaluation group, to explain side by side: the run, its random init when
 * it was measured, and the real-data run when there was one.
 */
export function evaluationEncoderPicks(group: {
	runId: number;
	byRole: Partial<Record<'encoder' | 'random-init' | 'real', { runId: number }>>;
}): EncoderPick[] {
	const picks: EncoderPick[] = [{ runId: group.runId, randomInit: false }];
	const real = group.byRole.real;
	if (real) picks.push({ runId: real.runId, randomInit: false });
	if (group.byRole['random-init']) picks.push({ runId: group.runId, randomInit: true });
	return picks;
}

/** The most encoders one request takes (the contract's limit). */
export const maxEncoders = 4;

/** How the slots are named on screen: A is the reference the others are compared with. */
export const encoderSlotLetters = ['A', 'B', 'C', 'D'] as const;

/** The CAM methods, named as in pytorch-grad-cam. */
export const explainMethods = camMethods;

/** The conv blocks a map can be taken at. */
export const explainLayers = camLayers;

/** The layers neighbours can be compared at (conv blocks are average-pooled by the worker). */
export const neighbourLayers = [
	'conv1',
	'conv2',
	'conv3',
	'conv4',
	'conv5',
	'fc6',
	'fc7'
] as const satisfies readonly ExplainNeighboursParams['layer'][];

/** What a map can explain, in the order the target select lists them. */
export const targetKinds = [
	{ kind: 'predicted', label: 'Predicted class' },
	{ kind: 'true', label: 'True class' },
	{ kind: 'class', label: 'Class…' },
	{ kind: 'embedding', label: 'Own embedding' },
	{ kind: 'class-mean', label: 'Similarity to class mean…' }
] as const satisfies readonly { kind: ExplainTarget['kind']; label: string }[];

/** The targets a batch takes: each image needs its own class, so no fixed class. */
export const batchTargetKinds = [
	{ kind: 'predicted', label: 'Predicted class' },
	{ kind: 'true', label: 'True class' },
	{ kind: 'embedding', label: 'Own embedding' }
] as const satisfies readonly { kind: ExplainBatchParams['target']; label: string }[];

/** The target chosen in the form; `classIndex` matters for `class` and `class-mean` only. */
export interface TargetChoice {
	kind: ExplainTarget['kind'];
	classIndex: number | null;
}

/** An image of the user's own, as read from the file input. */
export interface UploadChoice {
	name: string;
	bytes: Uint8Array;
}

/** Which image: a dataset's test image, or an uploaded one (which then wins). */
export interface ImageChoice {
	dataset: string;
	index: number;
	upload: UploadChoice | null;
}

/** A built request, or what is missing to send it. */
export type Built<T> = { ok: true; params: T } | { ok: false; error: ShownError };

function missing<T>(message: string, hint: string): Built<T> {
	return { ok: false, error: { message, hint } };
}

/** Whether a target needs the class select next to it. */
export function targetNeedsClass(kind: ExplainTarget['kind']): boolean {
	return kind === 'class' || kind === 'class-mean';
}

/** The default comparison: the proposed run against its own random init (the sanity check). */
export function defaultEncoderPicks(runs: readonly RunRecord[]): EncoderPick[] {
	const runId = pickDefaultRun(runs);
	return [
		{ runId, randomInit: false },
		{ runId, randomInit: true }
	];
}

/**
 * The picks with one more slot: the newest completed run not chosen yet (trained); when every run
 * is there, the reference's run at random init (or trained, if its random init is taken).
 * Unchanged at {@link maxEncoders}.
 */
export function addEncoderPick(
	picks: readonly EncoderPick[],
	runs: readonly RunRecord[]
): EncoderPick[] {
	if (picks.length >= maxEncoders) return [...picks];
	const chosen = new Set(picks.map((pick) => pick.runId));
	const fresh = runs.filter((run) => !chosen.has(run.id));
	if (fresh.length > 0) return [...picks, { runId: pickDefaultRun(fresh), randomInit: false }];
	const reference = picks[0]?.runId ?? null;
	const randomInitTaken = picks.some((pick) => pick.runId === reference && pick.randomInit);
	return [...picks, { runId: reference, randomInit: !randomInitTaken }];
}

/** The picks without slot `slot`; the last remaining slot is kept. */
export function removeEncoderPick(picks: readonly EncoderPick[], slot: number): EncoderPick[] {
	if (picks.length <= 1) return [...picks];
	return picks.filter((_, position) => position !== slot);
}

/** The encoders of the chosen slots, or why they cannot be sent (none, or the same one twice). */
export function buildEncoderRefs(picks: readonly EncoderPick[], minimum = 1): Built<EncoderRef[]> {
	const refs: EncoderRef[] = [];
	const seen = new Map<string, number>();
	for (const [slot, pick] of picks.entries()) {
		if (pick.runId === null) continue;
		const key = `${pick.runId}:${pick.randomInit}`;
		const earlier = seen.get(key);
		if (earlier !== undefined) {
			return missing(
				`Encoders ${encoderSlotLetters[earlier]} and ${encoderSlotLetters[slot]} are the same.`,
				'Choose another run, or toggle “Random init” on one of them.'
			);
		}
		seen.set(key, slot);
		refs.push({ runId: pick.runId, randomInit: pick.randomInit });
	}
	if (refs.length < minimum) {
		return minimum === 1
			? missing(
					'Choose at least one run.',
					'Train a run first (Train area); a run’s random init needs no training.'
				)
			: missing(
					`Choose at least ${minimum} encoders to compare.`,
					'Add an encoder, e.g. the same run with “Random init”.'
				);
	}
	return { ok: true, params: refs };
}

/** The contract's target for the form's choice, or why it cannot be sent. */
export function buildTarget(choice: TargetChoice, hasUpload: boolean): Built<ExplainTarget> {
	switch (choice.kind) {
		case 'predicted':
		case 'embedding':
			return { ok: true, params: { kind: choice.kind } };
		case 'true':
			if (hasUpload) {
				return missing(
					'An own image has no true class.',
					'Choose “Predicted class” or “Class…”, or go back to a dataset image.'
				);
			}
			return { ok: true, params: { kind: 'true' } };
		case 'class':
		case 'class-mean':
			if (choice.classIndex === null || choice.classIndex < 0) {
				return missing(
					'Choose the class to explain.',
					'Pick one in the select next to the target.'
				);
			}
			return { ok: true, params: { kind: choice.kind, classIndex: choice.classIndex } };
	}
}

function buildImage(
	image: ImageChoice
): Built<Pick<ExplainParams, 'dataset' | 'index' | 'upload'>> {
	if (image.dataset === '') {
		return missing('Choose a dataset.', 'Its classes are the probe’s; any evaluation dataset.');
	}
	if (!Number.isInteger(image.index) || image.index < 0) {
		return missing('The image index must be a whole number ≥ 0.', 'Use ◀ ▶ to step.');
	}
	const fields = { dataset: image.dataset, index: image.index };
	return {
		ok: true,
		params: image.upload
			? { ...fields, upload: { name: image.upload.name, bytes: image.upload.bytes } }
			: fields
	};
}

/** The `explain.compute` request for the current choices, or what is missing. */
export function buildExplainParams(choice: {
	encoders: readonly EncoderPick[];
	image: ImageChoice;
	method: ExplainParams['method'];
	layer: ExplainParams['layer'];
	target: TargetChoice;
}): Built<ExplainParams> {
	const encoders = buildEncoderRefs(choice.encoders);
	if (!encoders.ok) return encoders;
	const image = buildImage(choice.image);
	if (!image.ok) return image;
	const target = buildTarget(choice.target, choice.image.upload !== null);
	if (!target.ok) return target;
	return {
		ok: true,
		params: {
			encoders: encoders.params,
			...image.params,
			method: choice.method,
			layer: choice.layer,
			target: target.params,
			randomisationCheck: true
		}
	};
}

/** The `explain.batch` request, or what is missing (it compares, so two encoders at least). */
export function buildBatchParams(choice: {
	encoders: readonly EncoderPick[];
	dataset: string;
	count: number;
	classIndex: number | null;
	target: ExplainBatchParams['target'];
	method: ExplainBatchParams['method'];
	layer: ExplainBatchParams['layer'];
}): Built<ExplainBatchParams> {
	const encoders = buildEncoderRefs(choice.encoders, 2);
	if (!encoders.ok) return encoders;
	if (choice.dataset === '') return missing('Choose a dataset.', 'Its test images are mapped.');
	if (!Number.isInteger(choice.count) || choice.count < 1 || choice.count > 500) {
		return missing('The number of images must be a whole number from 1 to 500.', 'E.g. 40.');
	}
	return {
		ok: true,
		params: {
			encoders: encoders.params,
			dataset: choice.dataset,
			count: choice.count,
			...(choice.classIndex === null ? {} : { classIndex: choice.classIndex }),
			method: choice.method,
			layer: choice.layer,
			target: choice.target
		}
	};
}

/** The `explain.activations` request; a blank channel asks for each encoder's strongest. */
export function buildActivationsParams(choice: {
	encoders: readonly EncoderPick[];
	image: ImageChoice;
	layer: ExplainActivationsParams['layer'];
	channel: number | null;
}): Built<ExplainActivationsParams> {
	const encoders = buildEncoderRefs(choice.encoders);
	if (!encoders.ok) return encoders;
	const image = buildImage(choice.image);
	if (!image.ok) return image;
	if (choice.channel !== null && (!Number.isInteger(choice.channel) || choice.channel < 0)) {
		return missing(
			'The channel must be a whole number ≥ 0.',
			'Leave it blank for each encoder’s most active channel.'
		);
	}
	return {
		ok: true,
		params: {
			encoders: encoders.params,
			...image.params,
			layer: choice.layer,
			...(choice.channel === null ? {} : { channel: choice.channel })
		}
	};
}

/** The `explain.neighbours` request. */
export function buildNeighboursParams(choice: {
	encoders: readonly EncoderPick[];
	image: ImageChoice;
	k: number;
	layer: ExplainNeighboursParams['layer'];
	/** Training images in the gallery (a stratified subset). */
	gallery: number;
}): Built<ExplainNeighboursParams> {
	const encoders = buildEncoderRefs(choice.encoders);
	if (!encoders.ok) return encoders;
	const image = buildImage(choice.image);
	if (!image.ok) return image;
	if (!Number.isInteger(choice.k) || choice.k < 1 || choice.k > 32) {
		return missing('k must be a whole number from 1 to 32.', 'E.g. 8.');
	}
	if (!Number.isInteger(choice.gallery) || choice.gallery < 10 || choice.gallery > 100_000) {
		return missing(
			'The gallery must be a whole number of images from 10 to 100,000.',
			'E.g. 5000; fewer is faster the first time.'
		);
	}
	return {
		ok: true,
		params: {
			encoders: encoders.params,
			...image.params,
			k: choice.k,
			layer: choice.layer,
			maxGallery: choice.gallery
		}
	};
}

/** Parses the activations' channel field: blank → null (strongest), else the number typed. */
export function parseChannel(text: string): number | null {
	const trimmed = text.trim();
	return trimmed === '' ? null : Number(trimmed);
}

/** Checks a chosen file before it is read and sent; null when it is fine. */
export function checkUpload(file: { name: string; size: number }): ShownError | null {
	if (file.size === 0) return { message: `${file.name} is empty.`, hint: 'Choose an image file.' };
	if (file.size > maxUploadBytes) {
		return {
			message: `${file.name} is ${formatMiB(file.size)}; uploads may be at most ${formatMiB(maxUploadBytes)}.`,
			hint: 'Explain works at 64 px or less: a smaller copy of the image gives the same map.'
		};
	}
	return null;
}

// ---- Stepping through the (filtered) test images ----

/** How many thumbnails one page of the strip shows. */
export const thumbnailPageSize = 24;

/** The offset of the page holding position `position` of the list. */
export function pageOffsetFor(position: number, pageSize: number = thumbnailPageSize): number {
	return Math.floor(Math.max(0, position) / pageSize) * pageSize;
}

/** Steps a position in a list of `total` by `delta`, wrapping around; 0 for an empty list. */
export function stepPosition(position: number, delta: number, total: number): number {
	if (total <= 0) return 0;
	const next = position + delta;
	return ((next % total) + total) % total;
}

/** A loaded page of thumbnails: where it starts in the (filtered) list, and its items. */
export interface ThumbnailPage {
	offset: number;
	items: readonly { index: number }[];
}

/** Where a dataset index sits in the (filtered) list, when it is on the loaded page. */
export function positionOfIndex(page: ThumbnailPage | null, index: number): number | null {
	if (!page) return null;
	const at = page.items.findIndex((item) => item.index === index);
	return at < 0 ? null : page.offset + at;
}

/** The dataset index at a position of the (filtered) list, when that position is loaded. */
export function indexAtPosition(page: ThumbnailPage | null, position: number): number | null {
	if (!page) return null;
	return page.items[position - page.offset]?.index ?? null;
}

/** "Images 25–48 of 100" for a page of the strip. */
export function describePage(offset: number, shown: number, total: number): string {
	if (total === 0) return 'No test images';
	return `Images ${offset + 1}–${offset + shown} of ${total}`;
}

/** The last valid image index of a dataset's test split; null when its size is unknown. */
export function lastIndex(dataset: EvalDatasetInfo | undefined): number | null {
	if (!dataset || dataset.testCount === null) return null;
	return Math.max(0, dataset.testCount - 1);
}

// ---- Wording of the results ----

/**
 * When the encoders' maps explain different targets (each its own predicted class, say), a
 * sentence saying so: their agreement then compares maps of different questions. Null when all
 * share one target.
 */
export function targetMismatch(
	encoders: readonly { target: { description: string; classIndex: number | null; kind: string } }[]
): string | null {
	const distinct = new Set(
		encoders.map((encoder) => `${encoder.target.kind}:${encoder.target.classIndex ?? ''}`)
	);
	if (distinct.size <= 1) return null;
	const each = encoders
		.map(
			(encoder, slot) =>
				`${encoderSlotLetters[slot] ?? slot + 1} explains ${encoder.target.description}`
		)
		.join(', ');
	return `${each}: the agreement compares maps of different targets. Choose True class (or one class) to compare like with like.`;
}

/**
 * The model-randomisation check of one map as a badge and a one-line reason; null for a
 * random-init encoder (it is the control). The worker sends no ρ for a trained encoder when
 * either map is flat: the check is then undecided, not passed.
 */
export function randomisationVerdict(
	rho: number | null,
	randomInit: boolean
): { verdict: 'pass' | 'fail' | 'undecided'; badge: string; why: string } | null {
	if (randomInit) return null;
	if (rho === null || !Number.isFinite(rho)) {
		return {
			verdict: 'undecided',
			badge: 'Randomisation check: undecided',
			why: 'This map or the random-init map is flat, so their ranks cannot be compared. Late layers of small encoders are a few pixels wide and often flat: try an earlier layer (conv3), or the own-embedding target.'
		};
	}
	const shown = `ρ = ${rho.toFixed(2)}`;
	return rho >= randomisationLimit
		? {
				verdict: 'fail',
				badge: `Randomisation check failed (${shown})`,
				why: 'The map is much like the random-init map: it shows the architecture more than what was learned.'
			}
		: {
				verdict: 'pass',
				badge: `Randomisation check passed (${shown})`,
				why: 'The map differs from the random-init map: it depends on the learned weights.'
			};
}

/** Whether a map is flat (every pixel the same): Grad-CAM found no region that raises the target. */
export function isFlatMap(map: Uint8Array): boolean {
	const first = map[0];
	return map.every((value) => value === first);
}

/** What the panel says about the probe behind the class targets, or the hint when there is none. */
export function describeProbe(
	probe: ExplainResult['encoders'][number]['probe'],
	dataset: string
): { known: boolean; text: string } {
	if (!probe) {
		return {
			known: false,
			text: `Evaluate this run on ${dataset} with the linear probe to explain classes; showing its own embedding.`
		};
	}
	const accuracy = probe.accuracy === null ? '' : `, ${(probe.accuracy * 100).toFixed(1)}% top-1`;
	return {
		known: true,
		text: `Probe: evaluation #${probe.evaluationId} (${probe.layer}${accuracy})`
	};
}

/** The probe's top classes as `Sneaker 81%`, most probable first. */
export function describePrediction(
	prediction: ExplainResult['encoders'][number]['prediction'],
	classes: readonly string[]
): { name: string; percent: string }[] {
	if (!prediction) return [];
	return prediction.top.slice(0, 3).map((entry) => ({
		name: classes[entry.classIndex] ?? `class ${entry.classIndex}`,
		percent: `${Math.round(entry.probability * 100)}%`
	}));
}

/** A share (0–1) as a whole percentage, or an em dash. */
export function formatShare(share: number | null): string {
	return share === null || !Number.isFinite(share) ? '—' : `${Math.round(share * 100)}%`;
}

/** "channel 12 of 64 (strongest)" for an activation map. */
export function describeChannel(channel: number, channels: number, asked: number | null): string {
	return `channel ${channel} of ${channels}${asked === null ? ' (strongest)' : ''}`;
}

/** The batch's per-class agreement as table rows, with a bar width (0–100) for |ρ|. */
export function perClassRows(result: {
	classes: readonly string[];
	perClass: readonly { classIndex: number; count: number; meanAgreement: number | null }[];
}): { name: string; count: number; value: string; bar: number; negative: boolean }[] {
	return result.perClass.map((row) => ({
		name: result.classes[row.classIndex] ?? `class ${row.classIndex}`,
		count: row.count,
		value: row.meanAgreement === null ? '—' : row.meanAgreement.toFixed(2),
		bar:
			row.meanAgreement === null ? 0 : Math.round(Math.min(1, Math.abs(row.meanAgreement)) * 100),
		negative: (row.meanAgreement ?? 0) < 0
	}));
}

/** A progress event as a 0–1 share, clamped; 0 before the total is known. */
export function progressShare(progress: { done: number; total: number } | null): number {
	if (!progress || progress.total <= 0) return 0;
	return Math.min(1, Math.max(0, progress.done / progress.total));
}

/** A file name for an exported grid, e.g. `explain-fashion-mnist-mini-12-gradcam.png`. */
export function exportFileName(
	kind: 'single' | 'batch',
	params: { dataset: string; index?: number; method: string; upload?: { name: string } }
): string {
	const dataset = params.dataset.split(/[\\/]/).filter(Boolean).pop() ?? 'dataset';
	const image =
		kind === 'batch'
			? 'batch'
			: params.upload
				? params.upload.name.replace(/\.[^.]*$/, '')
				: String(params.index ?? 0);
	const safe = `${dataset}-${image}-${params.method.replace('++', 'pp')}`
		.replace(/[^A-Za-z0-9._-]+/g, '-')
		.replace(/-+/g, '-');
	return `explain-${safe}.png`;
}
