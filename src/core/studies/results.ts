/**
 * A study's results from its runs and their evaluations: one row per source (plus the
 * random-init and real-data controls), one column per evaluation target, each cell the mean ±
 * sample sd over repeats with n; the paper's number beside each source that has one; the gap
 * closed between random init and the real-data control; Spearman and Kendall against the paper.
 * Pure, so the UI, the CLI and the exports show exactly the same figures.
 */
import type { EvaluateParams, EvaluationRecord } from '../api/evaluation';
import type {
	ResultCell,
	ResultRow,
	StudyEvaluation,
	StudyResults,
	StudySource,
	StudySpec,
	StudyTarget
} from '../api/studies';
import { targetKey } from '../api/studies';
import type { RunRecord } from '../api/training';
import type { GeneratorFamily } from '../generators/generator';
import { findGenerator, findPreset } from '../generators/registry';
import {
	paperResultFor,
	randomInitKey,
	type PaperFamily,
	type PaperResult
} from './paper-reference';
import { rankAgreement, summarise } from './statistics';

/** A (source, repeat) of a study and its run. */
export interface StudyRunLink {
	sourceKey: string;
	repeat: number;
	run: RunRecord;
}

/** The row key of the random-init control. */
export const randomInitRowKey = randomInitKey;

/** More columns a caller adds per row (e.g. precision and recall of each dataset). */
export interface ExtraColumn {
	key: string;
	label: string;
	values: Record<string, number | null>;
}

const familyOfGenerator: Record<GeneratorFamily, PaperFamily> = {
	control: 'Baselines',
	fractal: 'Procedural',
	statistical: 'Statistical',
	dead_leaves: 'Dead leaves',
	feature_vis: 'Feature vis.',
	stylegan: 'StyleGAN'
};

/** The figure family of a source: its generator's family, a real-image folder, or "Other". */
export function sourceFamily(source: StudySource): string {
	if (source.kind === 'folder') return source.role === 'real' ? 'Real images' : 'Other';
	const generatorId = source.config.generator ?? findPreset(source.config.preset ?? '')?.generator;
	const generator = generatorId === undefined ? undefined : findGenerator(generatorId);
	return generator ? familyOfGenerator[generator.family] : 'Other';
}

/**
 * The paper's number for a source: only a preset used as it is (no parameter overrides, its
 * own size) is the paper's dataset.
 */
export function paperResultOfSource(source: StudySource): PaperResult | undefined {
	if (source.kind !== 'generator' || source.config.preset === undefined) return undefined;
	if (Object.keys(source.config.params).length > 0) return undefined;
	const preset = findPreset(source.config.preset);
	if (source.config.size !== undefined && source.config.size !== preset?.size) return undefined;
	return paperResultFor(source.config.preset);
}

/** A target's column title, e.g. "fashion-mnist-mini" or "fashion-mnist-mini · knn · conv5". */
export function targetLabel(target: StudyTarget): string {
	const extras = [
		target.protocol === 'linear' ? null : target.protocol,
		target.layer === 'fc6' ? null : target.layer
	].filter((part) => part !== null);
	return [target.dataset, ...extras].join(' · ');
}

/**
 * Whether an evaluation was made with a study's settings for a target: same dataset, protocol,
 * layer and probe (epochs, views, standardisation, training subset, seed; k and temperature for
 * kNN). Such an evaluation is reused instead of repeated. `layer` is the layer the evaluation
 * read (its request may leave it to the encoder's default).
 */
export function evaluationMatches(
	evaluation: { config: EvaluateParams; layer: string },
	settings: StudyEvaluation,
	target: StudyTarget
): boolean {
	const { config } = evaluation;
	const same =
		config.dataset === target.dataset &&
		config.protocol === target.protocol &&
		evaluation.layer === target.layer &&
		config.standardize === settings.standardize &&
		config.maxTrain === settings.maxTrain &&
		config.seed === settings.seed;
	if (!same) return false;
	if (target.protocol === 'knn') {
		return (
			config.temperature === settings.temperature &&
			config.knnK.join(',') === settings.knnK.join(',')
		);
	}
	return config.epochs === settings.epochs && config.views === settings.views;
}

/**
 * The newest completed evaluation of a run's final encoder (or of its random-init control) for a
 * target, made with the study's settings; undefined when there is none.
 */
export function findStudyEvaluation(
	evaluations: readonly EvaluationRecord[],
	run: Pick<RunRecord, 'id' | 'steps'>,
	role: 'encoder' | 'random-init',
	settings: StudyEvaluation,
	target: StudyTarget
): EvaluationRecord | undefined {
	let newest: EvaluationRecord | undefined;
	for (const evaluation of evaluations) {
		if (evaluation.runId !== run.id || evaluation.role !== role) continue;
		if (evaluation.status !== 'completed' || evaluation.metrics === null) continue;
		if (role === 'encoder' && evaluation.checkpointStep !== run.steps) continue;
		if (!evaluationMatches(evaluation, settings, target)) continue;
		if (!newest || evaluation.id > newest.id) newest = evaluation;
	}
	return newest;
}

/** Builds the results of a study. */
export function buildStudyResults(
	spec: StudySpec,
	links: readonly StudyRunLink[],
	evaluations: readonly EvaluationRecord[],
	extraColumns: readonly ExtraColumn[] = []
): StudyResults {
	const settings = spec.evaluation;
	const targets = settings.targets.map((target) => ({
		key: targetKey(target),
		label: targetLabel(target),
		...target
	}));
	const byRepeat = (links: readonly StudyRunLink[]) =>
		[...links].sort((a, b) => a.repeat - b.repeat);

	const sourceRows: ResultRow[] = spec.sources.map((source) => {
		const own = byRepeat(links.filter((link) => link.sourceKey === source.key));
		const cells: Record<string, ResultCell> = {};
		for (const target of targets) {
			const values = own
				.filter((link) => link.run.status === 'completed')
				.map((link) => findStudyEvaluation(evaluations, link.run, 'encoder', settings, target))
				.filter((evaluation) => evaluation !== undefined)
				.map((evaluation) => evaluation.metrics?.top1 ?? Number.NaN);
			cells[target.key] = cell(values);
		}
		const paper = paperResultOfSource(source);
		return {
			key: source.key,
			label: source.label,
			family: sourceFamily(source),
			kind: source.kind === 'folder' && source.role === 'real' ? 'real' : 'source',
			paper: paper ? paperSummary(paper) : null,
			cells,
			runs: own.map((link) => ({
				repeat: link.repeat,
				runId: link.run.id,
				status: link.run.status
			}))
		};
	});

	// Random init: per repeat, the control of any of that repeat's runs (same model and seed).
	const randomCells: Record<string, ResultCell> = {};
	const randomRuns = new Map<number, { runId: number; status: string }>();
	for (const target of targets) {
		const values: number[] = [];
		for (let repeat = 0; repeat < spec.repeats; repeat++) {
			for (const link of links.filter((candidate) => candidate.repeat === repeat)) {
				const found = findStudyEvaluation(evaluations, link.run, 'random-init', settings, target);
				if (!found) continue;
				values.push(found.metrics?.top1 ?? Number.NaN);
				randomRuns.set(repeat, { runId: link.run.id, status: 'completed' });
				break;
			}
		}
		randomCells[target.key] = cell(values);
	}
	const randomPaper = paperResultFor(randomInitKey);
	const randomRow: ResultRow = {
		key: randomInitRowKey,
		label: 'random init',
		family: 'Baselines',
		kind: 'random-init',
		paper: randomPaper ? paperSummary(randomPaper) : null,
		cells: randomCells,
		runs: [...randomRuns].map(([repeat, run]) => ({ repeat, ...run }))
	};

	const rows = [randomRow, ...sourceRows];
	const real = rows.find((row) => row.kind === 'real');
	for (const target of targets) {
		const low = randomRow.cells[target.key]?.mean ?? null;
		const high = real?.cells[target.key]?.mean ?? null;
		for (const row of rows) {
			const shown = row.cells[target.key];
			if (!shown || row.kind !== 'source') continue;
			shown.gapClosed =
				low === null || high === null || shown.mean === null || high - low <= 1e-9
					? null
					: (shown.mean - low) / (high - low);
		}
	}

	const agreement: StudyResults['agreement'] = {};
	for (const target of targets) {
		const paired = rows.filter((row) => row.paper !== null && row.cells[target.key]?.mean !== null);
		const ours = paired.map((row) => row.cells[target.key]?.mean as number);
		const theirs = paired.map((row) => row.paper?.top1 as number);
		agreement[target.key] = { rows: paired.map((row) => row.key), ...rankAgreement(ours, theirs) };
	}
	return { targets, rows, agreement, extraColumns: extraColumns.map((column) => ({ ...column })) };
}

function cell(values: number[]): ResultCell {
	const summary = summarise(values);
	return { values, mean: summary.mean, sd: summary.sd, n: summary.n, gapClosed: null };
}

function paperSummary(paper: PaperResult): NonNullable<ResultRow['paper']> {
	return { label: paper.label, top1: paper.top1, match: paper.match, note: paper.note ?? null };
}
