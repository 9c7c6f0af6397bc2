/**
 * Contract types of studies and the work queue. A study is the paper's comparison as one plan:
 * training sources × one budget × repeats (seeds) × evaluation targets. It expands into queue
 * items (generate a cached dataset, train, evaluate); its results aggregate the runs and
 * evaluations it links. See `core/studies/` for templates, budgets and the statistics.
 */
import { z } from 'zod';
import { encoderLayers } from '../training/encoder-spec';
import { modelPresetIds } from '../training/config';
import { evalProtocols } from './evaluation';
import { generatorConfigSchema } from './generators';
import { analysisEncoderSchema, maxPrecisionRecallSamples } from './analysis';
import { defaultPrecisionRecallK } from '../evaluation/precision-recall';

const seedSchema = z
	.number()
	.int()
	.min(0)
	.max(2 ** 32 - 1);

/** A source's key inside its study: letters, digits and `._-`, as preset names are. */
export const sourceKeySchema = z
	.string()
	.min(1)
	.max(80)
	.regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dots, dashes and underscores');

/**
 * How a generator source feeds training. `stream`: images generated on the fly by the data
 * threads. `cache`: generated once into a dataset folder that every repeat trains from.
 * `auto`: decided when the study is created, from the measured speed of the generator against
 * the speed of training (a generator that cannot keep up would starve it).
 */
export const sourceDataModes = ['auto', 'stream', 'cache'] as const;

/** One training source of a study. */
export const studySourceSchema = z.discriminatedUnion('kind', [
	z
		.object({
			kind: z.literal('generator'),
			key: sourceKeySchema,
			label: z.string().trim().min(1).max(80),
			config: generatorConfigSchema,
			data: z.enum(sourceDataModes).default('auto')
		})
		.strict(),
	z
		.object({
			/** A folder of images: an exported noise dataset, or real images (`role: 'real'`). */
			kind: z.literal('folder'),
			key: sourceKeySchema,
			label: z.string().trim().min(1).max(80),
			path: z.string().min(1),
			/** `real`: the real-data control, the upper end of the "gap closed". */
			role: z.enum(['noise', 'real']).default('noise'),
			maxSide: z.number().int().min(32).max(1024).default(256)
		})
		.strict()
]);

/** See {@link studySourceSchema}. */
export type StudySource = z.infer<typeof studySourceSchema>;
/** A study source as a caller writes it (defaults not applied). */
export type StudySourceInput = z.input<typeof studySourceSchema>;

/** The training budget, equal for every source of a study. */
export const studyBudgetSchema = z
	.object({
		/** The named budget it started from (`sketch`, `overnight`, `paper`) or `custom`. */
		name: z.string().trim().min(1).max(40),
		model: z.enum(modelPresetIds),
		optimizer: z.enum(['sgd', 'adam']),
		/** Null: the paper's rule (0.12·B/256 for SGD, 1e-3 for Adam). */
		lr: z.number().positive().max(100).nullable().default(null),
		steps: z.number().int().min(1).max(10_000_000),
		batch: z.number().int().min(4).max(2048),
		/** Distinct images per source (the paper: 105,000); the same for every source. */
		images: z.number().int().min(1).max(10_000_000),
		checkpointEvery: z.number().int().min(1).max(1_000_000),
		/** The file format of cached datasets: PNG keeps the on-the-fly pixels exactly. */
		cacheFormat: z.enum(['png', 'jpg']).default('png')
	})
	.strict();

/** See {@link studyBudgetSchema}. */
export type StudyBudget = z.infer<typeof studyBudgetSchema>;

/** One evaluation target: a column of the results table. */
export const studyTargetSchema = z
	.object({
		/** `fashion-mnist-mini`, `fashion-mnist`, `structured:<task>`, or a registered folder. */
		dataset: z.string().min(1),
		protocol: z.enum(evalProtocols).default('linear'),
		layer: z.enum(encoderLayers).default('fc6')
	})
	.strict();

/** See {@link studyTargetSchema}. */
export type StudyTarget = z.infer<typeof studyTargetSchema>;
/** A target as a caller writes it. */
export type StudyTargetInput = z.input<typeof studyTargetSchema>;

/** How every target is evaluated (the probe settings are shared, so the columns compare). */
export const studyEvaluationSchema = z
	.object({
		targets: z.array(studyTargetSchema).min(1).max(8),
		/** Linear-probe epochs (the paper: 100). */
		epochs: z.number().int().min(1).max(300).default(100),
		views: z.number().int().min(1).max(32).default(4),
		standardize: z.boolean().default(true),
		maxTrain: z.number().int().min(10).nullable().default(null),
		knnK: z.array(z.number().int().min(1).max(1000)).min(1).max(4).default([20, 200]),
		temperature: z.number().positive().max(10).default(0.07),
		seed: seedSchema.default(0)
	})
	.strict();

/** See {@link studyEvaluationSchema}. */
export type StudyEvaluation = z.infer<typeof studyEvaluationSchema>;

/** Everything a study is. Random init is always included as the lower control. */
export const studySpecSchema = z
	.object({
		name: z.string().trim().min(1).max(80),
		/** The template it was made from, if any (e.g. `paper-small`). */
		template: z.string().max(40).nullable().default(null),
		sources: z.array(studySourceSchema).min(1).max(40),
		budget: studyBudgetSchema,
		/** Training seeds per source: `seed`, `seed + 1`, …; the datasets stay the same. */
		repeats: z.number().int().min(1).max(20),
		seed: seedSchema.default(0),
		/** The seed of every generated dataset, shared by the repeats. */
		dataSeed: seedSchema.default(0),
		evaluation: studyEvaluationSchema
	})
	.strict()
	.superRefine((spec, context) => {
		const keys = new Set<string>();
		spec.sources.forEach((source, index) => {
			if (keys.has(source.key)) {
				context.addIssue({
					code: 'custom',
					path: ['sources', index, 'key'],
					message: `source key "${source.key}" is used twice; each source needs its own key`
				});
			}
			keys.add(source.key);
		});
		if (spec.sources.filter((s) => s.kind === 'folder' && s.role === 'real').length > 1) {
			context.addIssue({
				code: 'custom',
				path: ['sources'],
				message: 'at most one source can be the real-data control'
			});
		}
		const targets = spec.evaluation.targets.map(targetKey);
		if (new Set(targets).size !== targets.length) {
			context.addIssue({
				code: 'custom',
				path: ['evaluation', 'targets'],
				message: 'the same evaluation target is listed twice'
			});
		}
	});

/** See {@link studySpecSchema}. */
export type StudySpec = z.infer<typeof studySpecSchema>;
/** A study spec as a caller writes it. */
export type StudySpecInput = z.input<typeof studySpecSchema>;

/** The column key of a target: `dataset|protocol|layer`. */
export function targetKey(target: StudyTarget): string {
	return `${target.dataset}|${target.protocol}|${target.layer}`;
}

/** How one source will be fed, and the measurements behind the decision. */
/**
 * Improved precision (realism) and recall (diversity) of a study source against real images
 * (Kynkäänniemi et al. 2019), with what it was measured with.
 */
export const sourceRealismSchema = z.object({
	precision: z.number(),
	recall: z.number(),
	k: z.number().int(),
	/** Images per side. */
	samples: z.number().int(),
	dataset: z.string(),
	layer: z.enum(encoderLayers),
	/** The feature space, e.g. `random init (tiny, seed 0)`. */
	encoderLabel: z.string(),
	measuredAt: z.string()
});

/** See {@link sourceRealismSchema}. */
export type SourceRealism = z.infer<typeof sourceRealismSchema>;

/** A study's realism measurement request: defaults to 500 images per side, k = 3, random init. */
export const measureRealismParamsSchema = z
	.object({
		id: z.number().int(),
		/** Images per side (the paper: 50k; fewer give lower, noisier scores). */
		samples: z.number().int().min(16).max(maxPrecisionRecallSamples).default(500),
		k: z.number().int().min(1).max(15).default(defaultPrecisionRecallK),
		/**
		 * The feature space; by default the study's encoder at initialisation (its model, its first
		 * seed), the same for every source.
		 */
		encoder: analysisEncoderSchema.optional()
	})
	.strict();

/** See {@link measureRealismParamsSchema}. */
export type MeasureRealismParams = z.infer<typeof measureRealismParamsSchema>;

export const sourcePlanSchema = z.object({
	key: z.string(),
	label: z.string(),
	/** Null when the source can be used; otherwise why not (the study cannot include it). */
	unavailable: z.string().nullable(),
	data: z.enum(['stream', 'cache', 'folder']),
	/** Why this data mode, in words the UI shows. */
	why: z.string(),
	/** Measured generation speed on one core (images/s); null for folders or when not measured. */
	imagesPerSecondPerCore: z.number().nullable(),
	/** Seconds for the first (cold) image: tables, caches, networks. */
	firstImageSeconds: z.number().nullable(),
	/** Whether the measurement stopped at its time limit before a steady rate was seen. */
	slowerThanLimit: z.boolean(),
	/** Estimated seconds to generate the cached dataset on all cores (0 when not cached). */
	generationSeconds: z.number(),
	/** Estimated seconds of training, summed over repeats. */
	trainingSeconds: z.number(),
	/**
	 * Realism and diversity of the source's images against the first target's real images, once
	 * measured (`studies.measureRealism`); absent before.
	 */
	realism: sourceRealismSchema.optional()
});

/** See {@link sourcePlanSchema}. */
export type SourcePlan = z.infer<typeof sourcePlanSchema>;

/** A study's measured estimate, shown before it starts. */
export const studyEstimateSchema = z.object({
	backend: z.string(),
	/** Seconds per training step from the warm-up of `runs.estimate`. */
	secondsPerStep: z.number(),
	/** Images a training step consumes per second: what on-the-fly generation must keep up with. */
	trainingImagesPerSecond: z.number(),
	/** Data threads a training session uses for on-the-fly generation. */
	dataThreads: z.number().int(),
	cores: z.number().int(),
	sources: z.array(sourcePlanSchema),
	/** Seconds per evaluation (one encoder on one target), from earlier ones alike; null if none. */
	evaluationSeconds: z.number().nullable(),
	evaluationBasis: z.string(),
	trainings: z.number().int(),
	evaluations: z.number().int(),
	/** Trainings an existing run with the same configuration and seed already covers. */
	reusedRuns: z.number().int(),
	/** Generation + training + evaluation; evaluations count 0 when not measured. */
	totalSeconds: z.number(),
	measuredAt: z.string()
});

/** See {@link studyEstimateSchema}. */
export type StudyEstimate = z.infer<typeof studyEstimateSchema>;

/** Where a study stands, from its runs, evaluations and queue items. */
export const studyStatuses = ['queued', 'running', 'completed', 'incomplete'] as const;

/** Counts of a study's work. */
export const studyProgressSchema = z.object({
	trainings: z.object({ done: z.number().int(), total: z.number().int() }),
	evaluations: z.object({ done: z.number().int(), total: z.number().int() }),
	/** Queue items of the study that failed or were cancelled. */
	failed: z.number().int(),
	/** Queue items still to run (queued or running). */
	pending: z.number().int()
});

/** A study as the list shows it. */
export const studyRecordSchema = z.object({
	id: z.number().int(),
	name: z.string(),
	template: z.string().nullable(),
	budget: z.string(),
	repeats: z.number().int(),
	sources: z.number().int(),
	targets: z.array(z.string()),
	status: z.enum(studyStatuses),
	progress: studyProgressSchema,
	createdAt: z.string()
});

/** See {@link studyRecordSchema}. */
export type StudyRecord = z.infer<typeof studyRecordSchema>;

/** A cell of the results table: one source on one target over its repeats. */
export const resultCellSchema = z.object({
	/** Top-1 fractions per completed repeat, in repeat order. */
	values: z.array(z.number()),
	mean: z.number().nullable(),
	sd: z.number().nullable(),
	n: z.number().int(),
	/** (mean − random init) / (real − random init); null without both controls. */
	gapClosed: z.number().nullable()
});

/** See {@link resultCellSchema}. */
export type ResultCell = z.infer<typeof resultCellSchema>;

const correlationTestSchema = z.object({
	value: z.number().nullable(),
	p: z.number().nullable(),
	n: z.number().int(),
	method: z.enum(['exact', 'monte-carlo']).nullable(),
	resamples: z.number().int().nullable()
});

/** A row of the results table. */
export const resultRowSchema = z.object({
	key: z.string(),
	label: z.string(),
	/** The paper's family the row is grouped under in the figure. */
	family: z.string(),
	kind: z.enum(['source', 'random-init', 'real']),
	paper: z
		.object({
			label: z.string(),
			top1: z.number(),
			match: z.enum(['same', 'approximate']),
			note: z.string().nullable()
		})
		.nullable(),
	cells: z.record(z.string(), resultCellSchema),
	/** The row's runs per repeat (the random-init row lists the runs its evaluations came from). */
	runs: z.array(z.object({ repeat: z.number().int(), runId: z.number().int(), status: z.string() }))
});

/** See {@link resultRowSchema}. */
export type ResultRow = z.infer<typeof resultRowSchema>;

/** A study's results: the table, its columns and the agreement with the paper. */
export const studyResultsSchema = z.object({
	targets: z.array(
		z.object({
			key: z.string(),
			label: z.string(),
			dataset: z.string(),
			protocol: z.enum(evalProtocols),
			layer: z.enum(encoderLayers)
		})
	),
	rows: z.array(resultRowSchema),
	/** Per target key: our means against the paper's numbers over the rows both have. */
	agreement: z.record(
		z.string(),
		z.object({
			rows: z.array(z.string()),
			spearman: correlationTestSchema,
			kendall: correlationTestSchema
		})
	),
	/**
	 * More columns per row beyond the targets (e.g. a dataset's precision and recall against
	 * real images): values by row key, null where not measured.
	 */
	extraColumns: z.array(
		z.object({
			key: z.string(),
			label: z.string(),
			values: z.record(z.string(), z.number().nullable())
		})
	)
});

/** See {@link studyResultsSchema}. */
export type StudyResults = z.infer<typeof studyResultsSchema>;

/** The kinds of work the queue runs. */
export const queueItemKinds = ['generate', 'train', 'evaluate'] as const;

/** Where a queue item stands. */
export const queueItemStates = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;

/** One item of the work queue. */
export const queueItemSchema = z.object({
	id: z.number().int(),
	kind: z.enum(queueItemKinds),
	state: z.enum(queueItemStates),
	/** Order among queued items; lower runs first. */
	position: z.number().int(),
	label: z.string(),
	runId: z.number().int().nullable(),
	studyId: z.number().int().nullable(),
	/** The item this one waits for. */
	dependsOn: z.number().int().nullable(),
	/** Why a queued item cannot run yet, e.g. "waits for #12 (failed)"; null when it can. */
	blocked: z.string().nullable(),
	error: z.string().nullable(),
	attempts: z.number().int(),
	/** The lane running it (e.g. `main`, `cpu`), while it runs. */
	lane: z.string().nullable(),
	/** Live progress while it runs. */
	progress: z.object({ done: z.number(), total: z.number(), message: z.string() }).nullable(),
	createdAt: z.string(),
	startedAt: z.string().nullable(),
	finishedAt: z.string().nullable()
});

/** See {@link queueItemSchema}. */
export type QueueItem = z.infer<typeof queueItemSchema>;

/** The queue as the UI shows it. */
export const queueStateSchema = z.object({
	paused: z.boolean(),
	/** Whether this process executes the queue (the app and `serve` do; most CLI commands do not). */
	working: z.boolean(),
	lanes: z.array(
		z.object({ id: z.string(), label: z.string(), itemId: z.number().int().nullable() })
	),
	items: z.array(queueItemSchema)
});

/** See {@link queueStateSchema}. */
export type QueueState = z.infer<typeof queueStateSchema>;

/** A study with everything the Studies area shows. */
export const studyDetailSchema = z.object({
	study: studyRecordSchema,
	spec: studySpecSchema,
	plan: z.array(sourcePlanSchema),
	estimate: studyEstimateSchema.nullable(),
	/** Each (source, repeat) and its run. */
	runs: z.array(
		z.object({
			sourceKey: z.string(),
			repeat: z.number().int(),
			runId: z.number().int(),
			reused: z.boolean()
		})
	),
	results: studyResultsSchema,
	items: z.array(queueItemSchema)
});

/** See {@link studyDetailSchema}. */
export type StudyDetail = z.infer<typeof studyDetailSchema>;

/** Export formats of a study's results. */
export const studyExportFormats = ['csv', 'latex', 'svg', 'json'] as const;
