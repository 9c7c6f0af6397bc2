/**
 * Studies: the paper's comparison as one action. A study spec (sources × one budget × repeats ×
 * evaluation targets) is measured (a training warm-up and each generator's speed), planned
 * (which generators are cached, which stream; which runs and evaluations already exist) and
 * expanded into queue items; its results are computed from the runs and evaluations it links.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppFailure } from '../../core/api/errors';
import type { EvalDatasetInfo, EvaluationRecord } from '../../core/api/evaluation';
import type { GeneratorRequirement } from '../../core/api/trained-encoders';
import { evaluateParamsSchema } from '../../core/api/evaluation';
import {
	studySpecSchema,
	targetKey,
	type QueueItem,
	type SourcePlan,
	type StudyDetail,
	type StudyEstimate,
	type StudyRecord,
	type StudySource,
	type StudySpec,
	type StudyTarget,
	type MeasureRealismParams,
	type studyExportFormats
} from '../../core/api/studies';
import {
	precisionRecallParamsSchema,
	type AnalysisProgress,
	type PrecisionRecallParams
} from '../../core/api/analysis';
import { realismColumns } from '../../core/studies/realism';
import {
	studyExportFileName,
	studyResultsToCsv,
	studyResultsToLatex
} from '../../core/studies/export';
import { paperCitation } from '../../core/studies/paper-reference';
import type { RunRecord } from '../../core/api/training';
import { resolveConfig } from '../../core/generators/registry';
import { outputVersion } from '../../core/generators/generator';
import { buildStudyFigure, studyFigureSvg } from '../../core/studies/figure';
import {
	buildStudyResults,
	evaluationMatches,
	findStudyEvaluation,
	type ExtraColumn,
	type StudyRunLink
} from '../../core/studies/results';
import {
	budgetPresets,
	studyTemplates,
	templateSourceUnavailable
} from '../../core/studies/templates';
import { trainConfigSchema, type TrainConfig } from '../../core/training/config';
import type { EventBus } from '../events';
import type { Store } from '../store/database';
import { listEvaluations, listEvaluationsOfRuns } from '../store/evaluations';
import { listStudyQueueItems, pendingItemsOfRun, type StoredQueueItem } from '../store/queue';
import { listRuns, publicRecord, type StoredRun } from '../store/runs';
import {
	createStudy,
	deleteStudy,
	getStudy,
	linkStudyRun,
	listStudies,
	updateSourcePlan,
	listStudyRuns,
	type StoredStudy,
	type StudyRunRow
} from '../store/studies';
import {
	exportStudyBundle,
	importStudyBundle,
	type StudyBundleSummary
} from '../studies/study-bundle';
import type { AnalysisService } from './analysis';
import type { GeneratorService } from './generators';
import type { QueueService } from './queue';
import type { TrainingService } from './training';

export interface StudyServiceOptions {
	/** Where cached study datasets are generated (`<data>/study-datasets`). */
	datasetsDir: string;
	/** Where run folders are created (imported study bundles add runs). */
	runsDir: string;
	/** Data threads a training session uses (the trainer's default: one per spare core, ≤ 4). */
	dataThreads?: number;
	cores?: number;
	/** The datasets evaluations can use (`evaluations.datasets`), to check targets early. */
	datasets: () => Promise<EvalDatasetInfo[]>;
	/** Measures realism and diversity (`measureRealism`). */
	analysis: Pick<AnalysisService, 'precisionRecall'>;
}

/** Steady generation measured per source, after its first image. */
const measureSeconds = 2;
/** A first image slower than this is not waited for: the generator is cached regardless. */
const firstImageLimitSeconds = 20;
/** On-the-fly generation must deliver this much more than training consumes, to be safe. */
const streamMargin = 1.25;

/** More columns of the results table, supplied by other features (see `addExtraColumns`). */
export type ExtraColumnsProvider = (study: StoredStudy, runs: StudyRunLink[]) => ExtraColumn[];

/** The Studies area's service. */
export class StudyService {
	private readonly speeds = new Map<
		string,
		{ rate: number | null; firstImageSeconds: number | null; slowerThan: number | null }
	>();
	private readonly extraColumns: ExtraColumnsProvider[] = [];

	constructor(
		private readonly store: () => Store,
		private readonly events: EventBus,
		private readonly queue: QueueService,
		private readonly training: TrainingService,
		private readonly generators: GeneratorService,
		private readonly options: StudyServiceOptions
	) {}

	/** Lets another feature add columns to every results table (e.g. precision and recall). */
	addExtraColumns(provider: ExtraColumnsProvider): void {
		this.extraColumns.push(provider);
	}

	/** The templates with each source's availability, and the budgets. */
	templates() {
		return {
			templates: studyTemplates.map((template) => ({
				id: template.id,
				label: template.label,
				description: template.description,
				datasets: [...template.datasets],
				sources: template.sources.map((source) => {
					const missing = templateSourceUnavailable(source);
					return missing === null
						? { preset: source.preset, ...this.availability(source.preset) }
						: { preset: source.preset, unavailable: missing, training: null };
				})
			})),
			budgets: budgetPresets.map((budget) => ({
				id: budget.id,
				label: budget.label,
				description: budget.description,
				budget: budget.budget,
				evaluation: budget.evaluation
			}))
		};
	}

	/**
	 * Measures a study before it starts: a training warm-up of its budget (`runs.estimate`), each
	 * generator's speed, and the plan that follows (cache or stream, reused runs), with times.
	 */
	async estimate(
		input: unknown,
		onProgress: (done: number, total: number, message: string) => void = () => {}
	): Promise<StudyEstimate> {
		const spec = parseSpec(input);
		const generatorSources = spec.sources.filter((source) => source.kind === 'generator');
		const total = 1 + generatorSources.length;
		onProgress(0, total, 'Measuring a training step of the budget…');
		const warmUp = await this.training.estimate(
			studyRunConfig(
				spec,
				{
					kind: 'generator',
					config: { preset: 'control-white_noise', params: {} },
					seed: 0,
					count: spec.budget.images
				},
				0
			)
		);
		const dataThreads = this.dataThreads();
		const cores = this.options.cores ?? os.availableParallelism();
		const consumption = spec.budget.batch / warmUp.secondsPerStep;
		const sources: SourcePlan[] = [];
		let done = 1;
		for (const source of spec.sources) {
			if (source.kind === 'folder') {
				sources.push({
					key: source.key,
					label: source.label,
					unavailable: fs.existsSync(source.path)
						? null
						: `The folder ${source.path} does not exist.`,
					data: 'folder',
					why:
						source.role === 'real'
							? 'Real images from a folder: the upper control.'
							: 'Images from a folder.',
					imagesPerSecondPerCore: null,
					firstImageSeconds: null,
					slowerThanLimit: false,
					generationSeconds: 0,
					trainingSeconds: warmUp.secondsPerStep * spec.budget.steps * spec.repeats
				});
				continue;
			}
			onProgress(done, total, `Measuring ${source.label}…`);
			sources.push(
				await this.planGeneratorSource(
					spec,
					source,
					consumption,
					dataThreads,
					cores,
					warmUp.secondsPerStep
				)
			);
			done++;
		}
		onProgress(total, total, 'Measured.');
		const db = this.store().db;
		const runs = listRuns(db);
		let reusedRuns = 0;
		for (const source of spec.sources) {
			const plan = sources.find((candidate) => candidate.key === source.key);
			if (!plan || plan.unavailable) continue;
			for (let repeat = 0; repeat < spec.repeats; repeat++) {
				const config = studyRunConfig(spec, this.trainSource(spec, source, plan), repeat);
				if (findReusableRun(runs, config)) reusedRuns++;
			}
		}
		const evaluation = this.evaluationSeconds(spec);
		const usable = sources.filter((source) => source.unavailable === null);
		const trainings = usable.length * spec.repeats;
		const evaluations = (usable.length + 1) * spec.repeats * spec.evaluation.targets.length;
		const trainingSeconds = usable.reduce((sum, source) => sum + source.trainingSeconds, 0);
		const share = trainings === 0 ? 0 : (trainings - reusedRuns) / trainings;
		const totalSeconds =
			usable.reduce((sum, source) => sum + source.generationSeconds, 0) +
			trainingSeconds * share +
			(evaluation.seconds ?? 0) * evaluations * share;
		return {
			backend: warmUp.backend,
			secondsPerStep: warmUp.secondsPerStep,
			trainingImagesPerSecond: consumption,
			dataThreads,
			cores,
			sources,
			evaluationSeconds: evaluation.seconds,
			evaluationBasis: evaluation.basis,
			trainings,
			evaluations,
			reusedRuns,
			totalSeconds,
			measuredAt: new Date().toISOString()
		};
	}

	/**
	 * Creates a study and queues its work: a cached dataset per slow generator, a training per
	 * (source, repeat) unless a run with the same configuration and seed exists, and each
	 * missing evaluation. `estimate` is one made for this spec (else it is measured now).
	 */
	async create(
		input: unknown,
		estimate: StudyEstimate | null = null,
		onProgress?: (done: number, total: number, message: string) => void
	): Promise<StudyDetail> {
		const spec = parseSpec(input);
		const measured = estimate ?? (await this.estimate(spec, onProgress));
		const plan = spec.sources.map((source) => {
			const found = measured.sources.find((candidate) => candidate.key === source.key);
			if (!found) {
				throw new AppFailure(
					'INVALID_REQUEST',
					`The estimate has no plan for source "${source.key}"; estimate this study again.`
				);
			}
			return found;
		});
		const unavailable = plan.filter((source) => source.unavailable !== null);
		if (unavailable.length > 0) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`These sources cannot be used: ${unavailable.map((source) => `${source.label} (${source.unavailable})`).join('; ')} Leave them out of the study.`
			);
		}
		await this.checkTargets(spec.evaluation.targets);
		const db = this.store().db;
		const id = createStudy(db, spec, plan, measured);
		this.expand(id);
		this.events.emit('studies.changed', { id, deleted: false });
		return this.get(id);
	}

	/** Every study, newest first. */
	list(): StudyRecord[] {
		return listStudies(this.store().db).map((study) => this.record(study));
	}

	/** A study with its plan, runs, results and queue items. */
	get(id: number): StudyDetail {
		const study = this.require(id);
		const links = this.links(study);
		const items = listStudyQueueItems(this.store().db, id);
		const state = this.queue.state();
		const shown = new Map(state.items.map((item) => [item.id, item]));
		return {
			study: this.record(study, links, items),
			spec: study.spec,
			plan: study.plan,
			estimate: study.estimate,
			runs: listStudyRuns(this.store().db, id),
			results: this.results(study, links),
			items: items
				.map((item) => shown.get(item.id))
				.filter((item): item is QueueItem => item !== undefined)
		};
	}

	/** Queues whatever a study still lacks (after a run was deleted, or to finish a failed study). */
	requeue(id: number): StudyDetail {
		this.require(id);
		this.expand(id);
		return this.get(id);
	}

	/**
	 * Deletes a study: its waiting items are cancelled (items another study waits for are kept),
	 * its runs and evaluations stay in Runs.
	 */
	delete(id: number): { deleted: boolean } {
		const db = this.store().db;
		this.require(id);
		const items = listStudyQueueItems(db, id).filter((item) => item.studyId === id);
		for (const item of items) {
			if (item.state !== 'queued' && item.state !== 'running') continue;
			const shared =
				item.runId !== null &&
				(
					db
						.prepare('SELECT count(*) AS n FROM study_runs WHERE run_id = ? AND study_id != ?')
						.get(item.runId, id) as { n: number }
				).n > 0;
			if (shared) db.prepare('UPDATE queue_items SET study_id = NULL WHERE id = ?').run(item.id);
			else this.queue.cancel(item.id);
		}
		const deleted = deleteStudy(db, id);
		this.events.emit('studies.changed', { id, deleted: true });
		this.events.emit('queue.changed', this.queue.state());
		return { deleted };
	}

	/** A study's stored record and links, for exports and bundles. */
	stored(id: number): { study: StoredStudy; links: StudyRunLink[] } {
		const study = this.require(id);
		return { study, links: this.links(study) };
	}

	/** The results of a study (for exports). */
	resultsOf(id: number) {
		const study = this.require(id);
		return { spec: study.spec, results: this.results(study, this.links(study)) };
	}

	/** A study's (source, repeat) → run links. */
	runLinks(id: number): StudyRunRow[] {
		this.require(id);
		return listStudyRuns(this.store().db, id);
	}

	/** Writes a study bundle (study.json and a run bundle per trained run) into a folder. */
	exportBundle(id: number, folder: string): StudyBundleSummary {
		return exportStudyBundle(this.store().db, this.require(id), this.runLinks(id), folder);
	}

	/** Adds a study bundle: its runs as new runs and the study linked to them. */
	async importBundle(folder: string): Promise<StudyDetail> {
		const id = await importStudyBundle(this.store().db, folder, {
			importRun: (file) => this.training.importBundle(file),
			removeRun: (runId) => this.training.delete(runId)
		});
		this.events.emit('studies.changed', { id, deleted: false });
		return this.get(id);
	}

	/** A study's results as a file: CSV, LaTeX, the figure as SVG, or JSON. */
	exportText(
		id: number,
		format: (typeof studyExportFormats)[number],
		target?: string
	): { fileName: string; mimeType: string; content: string } {
		const { spec, results } = this.resultsOf(id);
		const file = (
			extension: Parameters<typeof studyExportFileName>[2],
			mimeType: string,
			content: string
		) => ({
			fileName: studyExportFileName(id, spec.name, extension),
			mimeType,
			content
		});
		switch (format) {
			case 'csv':
				return file('csv', 'text/csv', studyResultsToCsv(results));
			case 'latex':
				return file('tex', 'application/x-tex', studyResultsToLatex(results, spec.repeats));
			case 'svg':
				return file('svg', 'image/svg+xml', this.figureSvg(id, target));
			case 'json':
				return file(
					'json',
					'application/json',
					`${JSON.stringify({ study: id, spec, results, paper: paperCitation }, null, '\t')}\n`
				);
		}
	}

	/** The SVG figure of a study on one target (the first by default). */
	figureSvg(id: number, target?: string): string {
		const { results } = this.resultsOf(id);
		const key = target ?? results.targets[0]?.key;
		if (key === undefined || !results.targets.some((candidate) => candidate.key === key)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Study ${id} has no target ${JSON.stringify(target)}; its targets: ${results.targets.map((t) => t.key).join(', ')}.`
			);
		}
		return studyFigureSvg(buildStudyFigure(results, key));
	}

	/**
	 * Measures each source's realism and diversity: improved precision and recall of its images
	 * (its cached dataset where there is one) against the first target's real images, in one
	 * feature space for all sources (by default the study's encoder at initialisation), and
	 * stores them with the study: the table shows them as two columns, beside a scatter of
	 * recall against accuracy. Progress goes to `onProgress` and `analysis.progress` (job
	 * `study-ID-realism`, which `analysis.cancel` stops).
	 */
	async measureRealism(
		params: MeasureRealismParams,
		onProgress: (done: number, total: number, message: string) => void = () => {}
	): Promise<StudyDetail> {
		const study = this.require(params.id);
		const { spec } = study;
		const target = spec.evaluation.targets[0];
		if (!target) throw new AppFailure('INVALID_REQUEST', `Study ${study.id} has no target.`);
		const encoder = params.encoder ?? {
			kind: 'random-init' as const,
			model: spec.budget.model,
			seed: spec.seed
		};
		const jobId = `study-${study.id}-realism`;
		const sources = spec.sources.flatMap((source) => {
			const plan = study.plan.find((candidate) => candidate.key === source.key);
			return plan && plan.unavailable === null ? [{ source, plan }] : [];
		});
		for (const [index, { source, plan }] of sources.entries()) {
			onProgress(index, sources.length, `Measuring ${source.label}…`);
			const result = await this.options.analysis.precisionRecall(
				precisionRecallParamsSchema.parse({
					noise: this.realismNoise(spec, source, plan),
					dataset: target.dataset,
					encoder,
					layer: target.layer,
					samples: params.samples,
					k: params.k,
					jobId
				}),
				{
					onProgress: (progress: AnalysisProgress) =>
						onProgress(index, sources.length, `${source.label}: ${progress.message}`)
				}
			);
			updateSourcePlan(this.store().db, study.id, {
				...plan,
				realism: {
					precision: result.precision,
					recall: result.recall,
					k: result.k,
					samples: Math.min(result.noiseCount, result.realCount),
					dataset: result.dataset,
					layer: result.layer,
					encoderLabel: result.encoderLabel,
					measuredAt: new Date().toISOString()
				}
			});
			this.events.emit('studies.changed', { id: study.id, deleted: false });
		}
		onProgress(sources.length, sources.length, 'Measured.');
		return this.get(study.id);
	}

	/** The images of a source that realism is measured on: its cached dataset when complete. */
	private realismNoise(
		spec: StudySpec,
		source: StudySource,
		plan: SourcePlan
	): PrecisionRecallParams['noise'] {
		if (source.kind === 'folder') return { kind: 'folder', path: path.resolve(source.path) };
		const cached = plan.data === 'cache' ? this.cacheFolder(spec, source) : null;
		if (cached && datasetComplete(cached)) return { kind: 'folder', path: cached };
		return { kind: 'generator', config: source.config, seed: spec.dataSeed };
	}

	private results(study: StoredStudy, links: StudyRunLink[]) {
		const runIds = [...new Set(links.map((link) => link.run.id))];
		const evaluations = listEvaluationsOfRuns(this.store().db, runIds);
		const extra = [
			...realismColumns(study.plan),
			...this.extraColumns.flatMap((provider) => provider(study, links))
		];
		return buildStudyResults(study.spec, links, evaluations, extra);
	}

	private links(study: StoredStudy): StudyRunLink[] {
		const db = this.store().db;
		const runs = new Map(listRuns(db).map((run) => [run.id, run]));
		return listStudyRuns(db, study.id).flatMap((link) => {
			const run = runs.get(link.runId);
			return run
				? [{ sourceKey: link.sourceKey, repeat: link.repeat, run: publicRecord(run) }]
				: [];
		});
	}

	private record(
		study: StoredStudy,
		links: StudyRunLink[] = this.links(study),
		items: StoredQueueItem[] = listStudyQueueItems(this.store().db, study.id)
	): StudyRecord {
		const { spec } = study;
		const runIds = [...new Set(links.map((link) => link.run.id))];
		const evaluations = listEvaluationsOfRuns(this.store().db, runIds);
		let evaluationsDone = 0;
		for (const target of spec.evaluation.targets) {
			for (const link of links) {
				if (findStudyEvaluation(evaluations, link.run, 'encoder', spec.evaluation, target)) {
					evaluationsDone++;
				}
			}
			for (let repeat = 0; repeat < spec.repeats; repeat++) {
				const found = links.some(
					(link) =>
						link.repeat === repeat &&
						findStudyEvaluation(evaluations, link.run, 'random-init', spec.evaluation, target)
				);
				if (found) evaluationsDone++;
			}
		}
		const trainingsTotal = spec.sources.length * spec.repeats;
		const pending = items.filter((item) => item.state === 'queued' || item.state === 'running');
		const failed = items.filter((item) => item.state === 'failed' || item.state === 'cancelled');
		const evaluationsTotal =
			(spec.sources.length + 1) * spec.repeats * spec.evaluation.targets.length;
		const trainingsDone = links.filter((link) => link.run.status === 'completed').length;
		const status: StudyRecord['status'] =
			pending.length > 0
				? pending.some((item) => item.state === 'running')
					? 'running'
					: 'queued'
				: trainingsDone === trainingsTotal && evaluationsDone === evaluationsTotal
					? 'completed'
					: 'incomplete';
		return {
			id: study.id,
			name: spec.name,
			template: spec.template,
			budget: spec.budget.name,
			repeats: spec.repeats,
			sources: spec.sources.length,
			targets: spec.evaluation.targets.map(targetKey),
			status,
			progress: {
				trainings: { done: trainingsDone, total: trainingsTotal },
				evaluations: { done: evaluationsDone, total: evaluationsTotal },
				failed: failed.length,
				pending: pending.length
			},
			createdAt: study.createdAt
		};
	}

	/**
	 * Links a run to every (source, repeat) and queues what is missing, in the order that gives a
	 * whole first pass early: repeat 0 of every source, then repeat 1, … — each source's dataset,
	 * its training, and at once the evaluations of that training, so that a result arrives as
	 * soon as its run is trained (not after every other source's training of the seed). Runs,
	 * items and evaluations that exist are reused, so expanding twice adds nothing.
	 */
	private expand(studyId: number): void {
		const db = this.store().db;
		const study = this.require(studyId);
		const { spec } = study;
		const links = new Map(
			listStudyRuns(db, studyId).map((link) => [`${link.sourceKey}|${link.repeat}`, link])
		);
		const runs = listRuns(db);
		this.queue.enqueueAll((add) => {
			const datasetItems = new Map<string, number | null>();
			for (let repeat = 0; repeat < spec.repeats; repeat++) {
				// First the runs of this seed, so that the random-init control can ride along with the
				// first evaluation of the seed whichever source that is.
				const repeatRuns: {
					source: StudySource;
					run: StoredRun;
					trainSource: TrainConfig['source'];
				}[] = [];
				for (const source of spec.sources) {
					const plan = study.plan.find((candidate) => candidate.key === source.key);
					if (!plan) continue;
					const trainSource = this.trainSource(spec, source, plan);
					const config = studyRunConfig(spec, trainSource, repeat);
					const linked = links.get(`${source.key}|${repeat}`);
					let run =
						(linked && runs.find((candidate) => candidate.id === linked.runId)) ??
						findReusableRun(runs, config);
					const reused = run !== undefined && linked === undefined;
					if (!run) {
						run = this.training.createForQueue(
							{ name: runName(spec, source, repeat, studyId), config },
							{ folderMayNotExistYet: true }
						);
						runs.unshift(run);
					}
					if (!linked) {
						linkStudyRun(db, studyId, { sourceKey: source.key, repeat, runId: run.id, reused });
					}
					repeatRuns.push({ source, run, trainSource });
				}
				const first = repeatRuns[0];
				if (!first) continue;
				const randomInitWanted = new Map(
					spec.evaluation.targets.map((target) => [
						target,
						!repeatRunsHaveRandomInit(db, repeatRuns, spec, target)
					])
				);
				for (const { source, run, trainSource } of repeatRuns) {
					if (trainSource.kind === 'folder' && source.kind === 'generator') {
						const plan = study.plan.find((candidate) => candidate.key === source.key);
						if (plan?.data === 'cache' && !datasetItems.has(source.key)) {
							datasetItems.set(
								source.key,
								this.datasetItem(studyId, spec, source, trainSource.path, add)
							);
						}
					}
					const trainItem = this.trainItem(studyId, run, datasetItems.get(source.key) ?? null, add);
					if (run.status === 'diverged' || run.status === 'cancelled') continue;
					const evaluations = listEvaluations(db, run.id);
					for (const target of spec.evaluation.targets) {
						const done = findStudyEvaluation(
							evaluations,
							{ id: run.id, steps: run.steps },
							'encoder',
							spec.evaluation,
							target
						);
						if (done || hasPendingEvaluation(db, run.id, spec, target, true)) continue;
						const randomInit = randomInitWanted.get(target) === true;
						add({
							kind: 'evaluate',
							label: `Evaluate ${source.label} · seed ${spec.seed + repeat} on ${target.dataset}${randomInit ? ' (+ random init)' : ''}`,
							runId: run.id,
							studyId,
							dependsOn: trainItem,
							payload: {
								params: this.evaluateParams(spec, run.id, target, randomInit),
								encoder: true
							}
						});
						randomInitWanted.set(target, false);
					}
				}
				for (const target of spec.evaluation.targets) {
					if (randomInitWanted.get(target) !== true) continue;
					add({
						kind: 'evaluate',
						label: `Evaluate random init · seed ${spec.seed + repeat} on ${target.dataset}`,
						runId: first.run.id,
						studyId,
						payload: {
							params: this.evaluateParams(spec, first.run.id, target, true),
							encoder: false
						}
					});
				}
			}
		});
	}

	private datasetItem(
		studyId: number,
		spec: StudySpec,
		source: Extract<StudySource, { kind: 'generator' }>,
		folder: string,
		add: (item: Parameters<QueueService['enqueue']>[0]) => StoredQueueItem
	): number | null {
		const db = this.store().db;
		const pending = db
			.prepare(
				`SELECT id FROM queue_items WHERE kind = 'generate' AND state IN ('queued', 'running')
				   AND json_extract(payload, '$.outDir') = ?`
			)
			.get(folder) as { id: number } | undefined;
		if (pending) return pending.id;
		if (datasetComplete(folder)) return null;
		return add({
			kind: 'generate',
			label: `Generate ${source.label} (${spec.budget.images.toLocaleString('en-US')} images)`,
			studyId,
			payload: {
				config: this.generators.pin(source.config),
				seed: spec.dataSeed,
				count: spec.budget.images,
				outDir: folder,
				format: spec.budget.cacheFormat,
				quality: 95,
				shards: false
			}
		}).id;
	}

	private trainItem(
		studyId: number,
		run: StoredRun,
		datasetItem: number | null,
		add: (item: Parameters<QueueService['enqueue']>[0]) => StoredQueueItem
	): number | null {
		if (run.status === 'completed' || run.status === 'diverged' || run.status === 'cancelled') {
			return null;
		}
		const pending = pendingItemsOfRun(this.store().db, run.id).find(
			(item) => item.kind === 'train'
		);
		if (pending) return pending.id;
		return add({
			kind: 'train',
			label: `Train ${run.name}`,
			runId: run.id,
			studyId,
			dependsOn: datasetItem
		}).id;
	}

	private evaluateParams(spec: StudySpec, runId: number, target: StudyTarget, randomInit: boolean) {
		const { targets, ...settings } = spec.evaluation;
		void targets;
		return evaluateParamsSchema.parse({
			runId,
			dataset: target.dataset,
			protocol: target.protocol,
			layer: target.layer,
			randomInit,
			realRunId: null,
			...settings
		});
	}

	/** How a source feeds its runs: the generator on the fly, its cached folder, or its folder. */
	private trainSource(
		spec: StudySpec,
		source: StudySource,
		plan: SourcePlan
	): TrainConfig['source'] {
		if (source.kind === 'folder') {
			return { kind: 'folder', path: path.resolve(source.path), maxSide: source.maxSide };
		}
		if (plan.data === 'cache') {
			return { kind: 'folder', path: this.cacheFolder(spec, source), maxSide: 512 };
		}
		return {
			kind: 'generator',
			config: this.generators.pin(source.config),
			seed: spec.dataSeed,
			count: spec.budget.images
		};
	}

	/**
	 * The folder of a cached dataset: named by the source and a hash of everything that decides
	 * its images, so studies with the same dataset share it.
	 */
	private cacheFolder(
		spec: StudySpec,
		source: Extract<StudySource, { kind: 'generator' }>
	): string {
		// Pinned: a dataset of another encoder checkpoint is another dataset.
		const resolved = resolveConfig(this.generators.pin(source.config));
		if (!resolved.ok) throw new AppFailure('INVALID_REQUEST', resolved.message);
		const { generator, params, size, preset } = resolved.value;
		const identity = JSON.stringify({
			generator: generator.id,
			version: outputVersion(generator, params),
			params,
			size,
			seed: spec.dataSeed,
			count: spec.budget.images,
			format: spec.budget.cacheFormat
		});
		const hash = crypto.createHash('sha256').update(identity).digest('hex').slice(0, 12);
		const name = (preset ?? generator.id).replace(/[^A-Za-z0-9._-]/g, '_');
		return path.join(this.options.datasetsDir, `${name}-${spec.budget.images}-${hash}`);
	}

	private async planGeneratorSource(
		spec: StudySpec,
		source: Extract<StudySource, { kind: 'generator' }>,
		consumption: number,
		dataThreads: number,
		cores: number,
		secondsPerStep: number
	): Promise<SourcePlan> {
		const trainingSeconds = secondsPerStep * spec.budget.steps * spec.repeats;
		const base = {
			key: source.key,
			label: source.label,
			imagesPerSecondPerCore: null,
			firstImageSeconds: null,
			slowerThanLimit: false,
			generationSeconds: 0,
			trainingSeconds
		};
		const resolved = resolveConfig(source.config);
		const unavailable = resolved.ok ? this.missingRequirement(source.config) : resolved.message;
		if (unavailable !== null) {
			return { ...base, unavailable, data: 'stream', why: unavailable };
		}
		const speed = await this.measure(source, spec.dataSeed);
		const rate = speed.rate;
		const images = spec.budget.images;
		const figures = {
			imagesPerSecondPerCore: rate,
			firstImageSeconds: speed.firstImageSeconds,
			slowerThanLimit: speed.slowerThan !== null
		};
		const supply = rate === null ? 0 : rate * dataThreads;
		const keepsUp = supply >= consumption * streamMargin;
		const data: 'stream' | 'cache' =
			source.data === 'auto' ? (keepsUp ? 'stream' : 'cache') : source.data;
		const measuredText =
			rate === null
				? `its first image took longer than ${speed.slowerThan} s`
				: `${formatRate(rate)} img/s per core × ${dataThreads} data thread${dataThreads === 1 ? '' : 's'} = ${formatRate(supply)} img/s`;
		const needText = `training consumes ${formatRate(consumption)} img/s`;
		const why =
			data === 'stream'
				? source.data === 'stream'
					? `On the fly, as chosen (${measuredText}; ${needText}${keepsUp ? '' : ': generation will slow training down'}).`
					: `On the fly: ${measuredText} keeps up with training (${needText}); nothing is written to disk.`
				: source.data === 'cache'
					? `Generated once into a cached folder, as chosen (${measuredText}), shared by the ${spec.repeats} repeat${spec.repeats === 1 ? '' : 's'}.`
					: `Generated once into a cached folder shared by the ${spec.repeats} repeat${spec.repeats === 1 ? '' : 's'}: ${measuredText}${rate === null ? ', too slow to keep up with training' : ' would starve training'} (${needText}).`;
		const generationSeconds =
			data === 'cache'
				? rate === null
					? (images * (speed.slowerThan ?? firstImageLimitSeconds)) / cores
					: images / (rate * cores) + (speed.firstImageSeconds ?? 0)
				: 0;
		const streamTraining =
			data === 'stream' && !keepsUp && supply > 0
				? ((spec.budget.steps * spec.budget.batch) / supply) * spec.repeats
				: trainingSeconds;
		return {
			...base,
			...figures,
			unavailable: null,
			data,
			why,
			generationSeconds: datasetComplete(this.cacheFolder(spec, source)) ? 0 : generationSeconds,
			trainingSeconds: Math.max(trainingSeconds, streamTraining)
		};
	}

	/**
	 * Whether a preset can generate on this machine now: what it lacks in words (a run trained on
	 * dead leaves, for feature visualisations of a trained encoder), and the training that would
	 * provide it (to queue with `runs.start`), or nulls when it can.
	 */
	availability(preset: string): {
		unavailable: string | null;
		training: GeneratorRequirement['training'];
	} {
		const resolved = resolveConfig({ preset, params: {} });
		if (!resolved.ok) return { unavailable: resolved.message, training: null };
		const { ready, requirements } = this.generators.requirements({ preset, params: {} });
		if (ready) return { unavailable: null, training: null };
		const missing = requirements.filter((requirement) => !requirement.available);
		return {
			unavailable: missing.map((requirement) => requirement.message).join(' '),
			training: missing.find((requirement) => requirement.training)?.training ?? null
		};
	}

	/**
	 * What a generator needs and lacks, in words, or null when it can generate (see
	 * {@link availability}).
	 */
	private missingRequirement(
		config: Extract<StudySource, { kind: 'generator' }>['config']
	): string | null {
		const { ready, requirements } = this.generators.requirements(config);
		if (ready) return null;
		return requirements
			.filter((requirement) => !requirement.available)
			.map(
				(requirement) =>
					`${requirement.message}${requirement.training ? ` Train “${requirement.training.name}” first (the New run form or noiselab train), then measure again.` : ''}`
			)
			.join(' ');
	}

	private async measure(
		source: Extract<StudySource, { kind: 'generator' }>,
		seed: number
	): Promise<{ rate: number | null; firstImageSeconds: number | null; slowerThan: number | null }> {
		const key = JSON.stringify([source.config, seed]);
		const known = this.speeds.get(key);
		if (known) return known;
		const { measurement, slowerThan } = await this.generators.measureSpeed(source.config, {
			seed,
			seconds: measureSeconds,
			limitSeconds: firstImageLimitSeconds
		});
		const speed = measurement
			? {
					rate: measurement.images / measurement.seconds,
					firstImageSeconds: measurement.firstImageSeconds,
					slowerThan: null
				}
			: { rate: null, firstImageSeconds: null, slowerThan };
		this.speeds.set(key, speed);
		return speed;
	}

	private evaluationSeconds(spec: StudySpec): { seconds: number | null; basis: string } {
		const runs = new Map(listRuns(this.store().db).map((run) => [run.id, run]));
		const seconds: number[] = [];
		for (const evaluation of listEvaluations(this.store().db)) {
			if (evaluation.status !== 'completed' || evaluation.seconds === null) continue;
			if (runs.get(evaluation.runId)?.config.model !== spec.budget.model) continue;
			const target = spec.evaluation.targets.find((candidate) =>
				evaluationMatches(evaluation, spec.evaluation, candidate)
			);
			if (target) seconds.push(evaluation.seconds);
		}
		if (seconds.length === 0) {
			return {
				seconds: null,
				basis: 'Evaluations are not included: none like these has run on this machine yet.'
			};
		}
		seconds.sort((a, b) => a - b);
		const median = seconds[Math.floor(seconds.length / 2)] as number;
		return {
			seconds: median,
			basis: `Each evaluation ≈ ${Math.round(median)} s, the median of ${seconds.length} earlier evaluation${seconds.length === 1 ? '' : 's'} like these.`
		};
	}

	/** Fails early on a target dataset the evaluation service does not know or cannot load. */
	private async checkTargets(targets: readonly StudyTarget[]): Promise<void> {
		const known = await this.options.datasets();
		for (const target of targets) {
			const dataset = known.find((candidate) => candidate.name === target.dataset);
			if (!dataset) {
				throw new AppFailure(
					'INVALID_REQUEST',
					`Unknown evaluation dataset "${target.dataset}". Available: ${known
						.filter((d) => d.available)
						.map((d) => d.name)
						.join(', ')}; register a folder in Evaluate to add one.`
				);
			}
			if (!dataset.available) {
				throw new AppFailure(
					'INVALID_REQUEST',
					`The evaluation dataset ${target.dataset} is not available here: ${dataset.detail}`
				);
			}
		}
	}

	private dataThreads(): number {
		return this.options.dataThreads ?? Math.max(1, Math.min(4, os.availableParallelism() - 1));
	}

	private require(id: number): StoredStudy {
		const study = getStudy(this.store().db, id);
		if (!study) throw new AppFailure('NOT_FOUND', `There is no study ${id}.`);
		return study;
	}
}

/** Parses a spec with messages that name the field. */
export function parseSpec(input: unknown): StudySpec {
	const parsed = studySpecSchema.safeParse(input);
	if (parsed.success) return parsed.data;
	const details = parsed.error.issues.map(
		(issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'study'}: ${issue.message}`
	);
	throw new AppFailure('INVALID_REQUEST', `Invalid study: ${details.join('; ')}.`);
}

/** The run configuration of a (source, repeat): the budget, the source and seed `seed + repeat`. */
export function studyRunConfig(
	spec: StudySpec,
	source: TrainConfig['source'],
	repeat: number
): TrainConfig {
	const { budget } = spec;
	return trainConfigSchema.parse({
		source,
		model: budget.model,
		optimizer: budget.optimizer,
		lr: budget.lr,
		steps: budget.steps,
		batch: budget.batch,
		checkpointEvery: budget.checkpointEvery,
		seed: spec.seed + repeat
	});
}

/**
 * What decides a run's result: its configuration without the backend and the data-parallel
 * replicas (any backend, any split trains the same model, to float rounding) and without how
 * often it writes checkpoints.
 */
function identity(config: TrainConfig): string {
	const { backend, checkpointEvery, replicas, ...rest } = trainConfigSchema.parse(config);
	void backend;
	void checkpointEvery;
	void replicas;
	return JSON.stringify(rest);
}

/**
 * An existing run with the same configuration and seed, which a study uses instead of training
 * again: a completed one first, else one still on its way (training, queued, paused,
 * interrupted or failed: it is resumed); cancelled runs are not reused.
 */
export function findReusableRun(
	runs: readonly StoredRun[],
	config: TrainConfig
): StoredRun | undefined {
	const wanted = identity(config);
	const candidates = runs.filter(
		(run) => run.kind === 'trained' && run.status !== 'cancelled' && identity(run.config) === wanted
	);
	return candidates.find((run) => run.status === 'completed') ?? candidates[0];
}

function repeatRunsHaveRandomInit(
	db: Store['db'],
	repeatRuns: readonly { run: StoredRun }[],
	spec: StudySpec,
	target: StudyTarget
): boolean {
	const evaluations: EvaluationRecord[] = listEvaluationsOfRuns(
		db,
		repeatRuns.map((entry) => entry.run.id)
	);
	return repeatRuns.some(
		(entry) =>
			findStudyEvaluation(evaluations, entry.run, 'random-init', spec.evaluation, target) !==
				undefined || hasPendingEvaluation(db, entry.run.id, spec, target, false)
	);
}

/** Whether an evaluation of the run for the target is waiting or running in the queue. */
function hasPendingEvaluation(
	db: Store['db'],
	runId: number,
	spec: StudySpec,
	target: StudyTarget,
	encoder: boolean
): boolean {
	return pendingItemsOfRun(db, runId).some((item) => {
		if (item.kind !== 'evaluate') return false;
		const payload = item.payload as { params?: unknown; encoder?: boolean };
		const params = evaluateParamsSchema.safeParse(payload.params);
		if (!params.success) return false;
		// The queue's requests name their layer; one left to the encoder reads its fc6.
		const read = { config: params.data, layer: params.data.layer ?? 'fc6' };
		if (!evaluationMatches(read, spec.evaluation, target)) return false;
		return encoder ? payload.encoder !== false : params.data.randomInit;
	});
}

function datasetComplete(folder: string): boolean {
	try {
		const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as {
			complete?: boolean;
		};
		return manifest.complete === true;
	} catch {
		return false;
	}
}

function runName(spec: StudySpec, source: StudySource, repeat: number, studyId: number): string {
	return `${source.label} · seed ${spec.seed + repeat} · study ${studyId}`.slice(0, 80);
}

function formatRate(rate: number): string {
	return rate >= 100 ? rate.toFixed(0) : rate >= 10 ? rate.toFixed(1) : rate.toPrecision(2);
}

/** A run record's public form, for callers that hold stored runs. */
export type { RunRecord };
