/**
 * The API contract: every method the renderer can call and every event it can receive, each
 * with a runtime schema. Electron's preload, the IPC handlers, the WebSocket server and the
 * renderer's client are all derived from these two tables, so a method exists everywhere or
 * nowhere.
 */
import { z } from 'zod';
import { backendProbeSchema, backendSelectionSchema } from '../compute/backends';
import {
	datasetRecordSchema,
	diagnosticsParamsSchema,
	diagnosticsSchema,
	exportFinishedSchema,
	exportParamsSchema,
	exportProgressSchema,
	generatorInfoSchema,
	presetInfoSchema,
	previewImageEventSchema,
	previewTexturesEventSchema,
	previewImageSchema,
	previewParamsSchema,
	savePresetParamsSchema,
	userPresetSchema
} from './generators';
import type { ApiMethod } from './methods';
import {
	exportEncoderParamsSchema,
	exportEncoderResultSchema,
	importEncoderParamsSchema
} from './interop';
import {
	evalDatasetInfoSchema,
	evaluateParamsSchema,
	evaluationProgressSchema,
	evaluationRecordSchema
} from './evaluation';
import {
	explainActivationsParamsSchema,
	explainActivationsResultSchema,
	explainBatchParamsSchema,
	explainBatchResultSchema,
	explainFiltersParamsSchema,
	explainFiltersResultSchema,
	explainImagesParamsSchema,
	explainImagesResultSchema,
	explainNeighboursParamsSchema,
	explainNeighboursResultSchema,
	explainParamsSchema,
	explainProgressSchema,
	explainResultSchema
} from './explain';
import { quickstartParamsSchema, quickstartStateSchema } from './quickstart';
import {
	measureRealismParamsSchema,
	queueItemSchema,
	queueStateSchema,
	studyBudgetSchema,
	studyDetailSchema,
	studyEstimateSchema,
	studyEvaluationSchema,
	studyExportFormats,
	studyRecordSchema,
	studySpecSchema
} from './studies';
import {
	appSettingsSchema,
	appSettingsUpdateSchema,
	browseFoldersParamsSchema,
	folderListingSchema,
	hostPathAccessModes
} from './settings';
import {
	runDetailSchema,
	runEstimateProgressSchema,
	runEstimateSchema,
	runProgressSchema,
	runRecordSchema,
	startRunParamsSchema
} from './training';
import { trainConfigSchema } from '../training/config';
import {
	generatorRequirementSchema,
	generatorRequirementsSchema,
	requirementsParamsSchema
} from './trained-encoders';
import {
	analysisProgressSchema,
	precisionRecallParamsSchema,
	precisionRecallResultSchema
} from './analysis';

export { apiMethodNames, isApiMethod, type ApiMethod } from './methods';

/** Declares one API method: what it does, its request schema and its result schema. */
function method<P extends z.ZodType, R extends z.ZodType>(definition: {
	summary: string;
	params: P;
	result: R;
}) {
	return definition;
}

const noParams = z.object({}).strict();

/** Where the data folder came from, in the order it is resolved. */
export const dataDirSources = ['electron-userData', 'NOISELAB_HOME', 'platform'] as const;

const dataDirSchema = z.object({
	path: z.string(),
	source: z.enum(dataDirSources)
});

/** The state of the SQLite store, as `doctor` reports it. */
export const databaseStatusSchema = z.object({
	path: z.string(),
	status: z.enum(['ok', 'error']),
	schemaVersion: z.number().int().nullable(),
	latestSchemaVersion: z.number().int(),
	journalMode: z.string().nullable(),
	message: z.string()
});

/** See {@link databaseStatusSchema}. */
export type DatabaseStatus = z.infer<typeof databaseStatusSchema>;

/** Everything `noiselab doctor` and the About page report. */
export const doctorReportSchema = z.object({
	app: z.object({ name: z.string(), version: z.string() }),
	runtime: z.object({
		node: z.string(),
		nodeRequired: z.string(),
		nodeOk: z.boolean(),
		electron: z.string().nullable(),
		platform: z.string(),
		arch: z.string(),
		cpus: z.number().int(),
		memoryGiB: z.number()
	}),
	dataDir: dataDirSchema,
	database: databaseStatusSchema,
	workers: z.object({ ok: z.boolean(), detail: z.string() }),
	backends: z.array(backendProbeSchema),
	selection: backendSelectionSchema,
	generatedAt: z.string()
});

/** See {@link doctorReportSchema}. */
export type DoctorReport = z.infer<typeof doctorReportSchema>;

/** The cheap summary the status bar shows; `backend` is null until the first probe finishes. */
export const appStatusSchema = z.object({
	app: z.object({ name: z.string(), version: z.string() }),
	dataDir: dataDirSchema,
	backend: backendSelectionSchema.nullable(),
	/** Which host paths this client may name (see `HostPathAccess`). */
	pathAccess: z.enum(hostPathAccessModes)
});

/** See {@link appStatusSchema}. */
export type AppStatus = z.infer<typeof appStatusSchema>;

interface MethodDefinition {
	summary: string;
	params: z.ZodType;
	result: z.ZodType;
}

/** Every method of the API. Names are `service.action`. */
export const apiMethods = {
	'system.status': method({
		summary: 'App version, data folder and the active compute backend (cheap; for the status bar).',
		params: noParams,
		result: appStatusSchema
	}),
	'system.doctor': method({
		summary:
			'Full health report: Node, data folder, database, worker processes and every compute backend.',
		params: z
			.object({
				/** Probe the backends again instead of using the last probe. */
				refresh: z.boolean().default(false)
			})
			.strict(),
		result: doctorReportSchema
	}),
	'system.pickFolder': method({
		summary:
			'Asks the user for a folder with the system dialog (desktop app only; web mode returns supported: false).',
		params: z.object({ title: z.string().max(200).default('Choose a folder') }).strict(),
		result: z.object({ supported: z.boolean(), path: z.string().nullable() })
	}),
	'system.browseFolders': method({
		summary:
			'Lists the sub-folders of a host folder the client may use (in web mode: the data folder and the allowed folders), for a folder picker in the browser; path null lists the starting points.',
		params: browseFoldersParamsSchema,
		result: folderListingSchema
	}),
	'settings.get': method({
		summary: 'The current user settings.',
		params: noParams,
		result: appSettingsSchema
	}),
	'settings.update': method({
		summary: 'Changes some settings and returns all of them.',
		params: appSettingsUpdateSchema,
		result: appSettingsSchema
	}),
	'settings.allowFolder': method({
		summary:
			'Lets web mode use a folder (and everything in it). Where paths are confined, the first call prints a code in the terminal of `noiselab serve` and answers `confirm`; the same call with that code allows the folder.',
		params: z
			.object({
				path: z.string().min(1),
				/** The code printed on the host, for the second call. */
				code: z.string().max(20).optional()
			})
			.strict(),
		result: z.object({ status: z.enum(['allowed', 'confirm']), settings: appSettingsSchema })
	}),
	'settings.removeFolder': method({
		summary: 'Stops letting web mode use a folder allowed before.',
		params: z.object({ path: z.string().min(1) }).strict(),
		result: appSettingsSchema
	}),
	'generators.catalogue': method({
		summary: 'Every generator with its parameter schema, and the built-in presets.',
		params: noParams,
		result: z.object({
			generators: z.array(generatorInfoSchema),
			presets: z.array(presetInfoSchema)
		})
	}),
	'generators.preview': method({
		summary:
			'Renders preview images in the generator worker; a newer request on the same stream cancels the older one.',
		params: previewParamsSchema,
		result: z.object({ images: z.array(previewImageSchema), milliseconds: z.number() })
	}),
	'generators.cancelPreview': method({
		summary:
			'Cancels the preview in flight on a stream (its worker stops handing out images and textures); the images already pushed stay valid.',
		params: z.object({ stream: z.string().max(64).default('default') }).strict(),
		result: z.object({ cancelled: z.boolean() })
	}),
	'generators.diagnostics': method({
		summary:
			'Spectrum, colour, sparsity and diversity of a sample of images, computed in the worker.',
		params: diagnosticsParamsSchema,
		result: diagnosticsSchema
	}),
	'generators.requirements': method({
		summary:
			'What a configuration needs before it can generate (a trained encoder, for feature_vis-dead_leaves), whether it is available, and a training run that would provide it.',
		params: requirementsParamsSchema,
		result: generatorRequirementsSchema
	}),
	'presets.list': method({
		summary: 'The user’s saved presets.',
		params: noParams,
		result: z.array(userPresetSchema)
	}),
	'presets.save': method({
		summary: 'Saves a preset under a new name, or overwrites the preset with that name.',
		params: savePresetParamsSchema,
		result: userPresetSchema
	}),
	'presets.rename': method({
		summary: 'Renames a saved preset.',
		params: z.object({ id: z.number().int(), name: z.string().trim().min(1).max(80) }).strict(),
		result: userPresetSchema
	}),
	'presets.delete': method({
		summary: 'Deletes a saved preset.',
		params: z.object({ id: z.number().int() }).strict(),
		result: z.object({ deleted: z.boolean() })
	}),
	'datasets.list': method({
		summary: 'Datasets exported from the app, newest first.',
		params: noParams,
		result: z.array(datasetRecordSchema)
	}),
	'datasets.export': method({
		summary:
			'Starts exporting a dataset in a worker; progress arrives as datasets.progress events. Exporting into the folder of the same dataset resumes it.',
		params: exportParamsSchema,
		result: z.object({ jobId: z.string(), datasetId: z.number().int() })
	}),
	'datasets.cancel': method({
		summary: 'Stops a running export after the images in progress; it can be resumed later.',
		params: z.object({ jobId: z.string() }).strict(),
		result: z.object({ cancelled: z.boolean() })
	}),
	'runs.list': method({
		summary: 'Training runs, newest first.',
		params: noParams,
		result: z.array(runRecordSchema)
	}),
	'runs.get': method({
		summary:
			'One run with its checkpoints and logged metrics (only those after `metricsAfter` when given).',
		params: z
			.object({ id: z.number().int(), metricsAfter: z.number().int().min(-1).default(-1) })
			.strict(),
		result: runDetailSchema
	}),
	'runs.start': method({
		summary:
			'Starts a training run in a worker; progress arrives as runs.progress events, status changes as runs.changed.',
		params: startRunParamsSchema,
		result: runRecordSchema
	}),
	'runs.pause': method({
		summary: 'Writes a checkpoint and stops the run’s worker; runs.resume continues from there.',
		params: z.object({ id: z.number().int() }).strict(),
		result: runRecordSchema
	}),
	'runs.resume': method({
		summary: 'Continues a paused, interrupted or failed run from its last checkpoint.',
		params: z.object({ id: z.number().int() }).strict(),
		result: runRecordSchema
	}),
	'runs.cancel': method({
		summary: 'Stops a run for good; its checkpoints are kept.',
		params: z.object({ id: z.number().int() }).strict(),
		result: runRecordSchema
	}),
	'runs.estimate': method({
		summary:
			'Measures a configuration on the active backend with a few warm-up steps and estimates the run’s duration; with a job id, progress arrives as runs.estimateProgress and runs.cancelEstimate stops it.',
		params: z
			.object({ config: trainConfigSchema, jobId: z.string().min(1).max(64).optional() })
			.strict(),
		result: runEstimateSchema
	}),
	'runs.cancelEstimate': method({
		summary: 'Stops the running estimate with this job id (it then fails with CANCELLED).',
		params: z.object({ jobId: z.string().min(1).max(64) }).strict(),
		result: z.object({ cancelled: z.boolean() })
	}),
	'runs.update': method({
		summary: 'Renames a run or changes its tags or notes.',
		params: z
			.object({
				id: z.number().int(),
				name: z.string().trim().min(1).max(80).optional(),
				tags: z.array(z.string().trim().min(1).max(40)).max(20).optional(),
				notes: z.string().max(10_000).optional()
			})
			.strict(),
		result: runRecordSchema
	}),
	'runs.delete': method({
		summary:
			'Deletes a run that is not training, with its checkpoint files, metrics and evaluations.',
		params: z.object({ id: z.number().int() }).strict(),
		result: z.object({ deleted: z.boolean() })
	}),
	'runs.exportBundle': method({
		summary:
			'Writes a run into one file: record, metrics, its evaluations and its newest checkpoint. An existing file is never replaced: the bundle takes the next free name ("run (2).nlrun"), which the result gives.',
		params: z
			.object({
				id: z.number().int(),
				path: z.string().min(1),
				/** Replace an existing file at `path`, allowed only when it is a NoiseLab run bundle. */
				overwrite: z.boolean().default(false)
			})
			.strict(),
		result: z.object({ path: z.string(), bytes: z.number().int() })
	}),
	'runs.importBundle': method({
		summary:
			'Adds the run of a bundle file as a new run (it can be evaluated, or resumed if it was unfinished).',
		params: z.object({ path: z.string().min(1) }).strict(),
		result: runRecordSchema
	}),
	'runs.importEncoder': method({
		summary:
			'Imports an encoder from a PyTorch checkpoint (zip .pt/.pth/.pth.tar) or a safetensors file as an external encoder (a run of kind "imported"); the file is never executed.',
		params: importEncoderParamsSchema,
		result: runRecordSchema
	}),
	'runs.exportEncoder': method({
		summary:
			'Writes a run’s newest encoder for PyTorch into a new or empty folder: encoder.safetensors, noiselab_encoder.py and config.json.',
		params: exportEncoderParamsSchema,
		result: exportEncoderResultSchema
	}),
	'evaluations.datasets': method({
		summary:
			'Datasets to evaluate on: the bundled Fashion-MNIST subset, Debian’s full copy when installed, the structured tasks and registered folders.',
		params: noParams,
		result: z.array(evalDatasetInfoSchema)
	}),
	'evaluations.registerDataset': method({
		summary:
			'Checks a dataset folder (class sub-folders, CIFAR binary or MNIST IDX files) in a worker and remembers it.',
		params: z.object({ path: z.string().min(1) }).strict(),
		result: evalDatasetInfoSchema
	}),
	'evaluations.start': method({
		summary:
			'Evaluates a run’s encoder (and its controls) on a dataset in a worker; progress arrives as evaluations.progress.',
		params: evaluateParamsSchema,
		result: z.object({ groupId: z.string(), evaluations: z.array(evaluationRecordSchema) })
	}),
	'evaluations.list': method({
		summary:
			'Stored evaluations, newest first; of one run (as encoder or control) when runId is given.',
		params: z.object({ runId: z.number().int().optional() }).strict(),
		result: z.array(evaluationRecordSchema)
	}),
	'evaluations.cancel': method({
		summary: 'Stops a running evaluation group.',
		params: z.object({ groupId: z.string() }).strict(),
		result: z.object({ cancelled: z.boolean() })
	}),
	'explain.compute': method({
		summary:
			'Grad-CAM maps of one to four encoders on a dataset or uploaded image, for a probe class or the embedding, with their agreement, faithfulness and the randomisation check.',
		params: explainParamsSchema,
		result: explainResultSchema
	}),
	'explain.batch': method({
		summary:
			'Maps of N test images under each encoder and their agreement per class; progress arrives as explain.progress.',
		params: explainBatchParamsSchema,
		result: explainBatchResultSchema
	}),
	'explain.cancel': method({
		summary: 'Stops the running batch or neighbours request.',
		params: noParams,
		result: z.object({ cancelled: z.boolean() })
	}),
	'explain.images': method({
		summary: 'Thumbnails of a dataset’s test images (of one class), to pick from.',
		params: explainImagesParamsSchema,
		result: explainImagesResultSchema
	}),
	'explain.filters': method({
		summary: 'First-layer filters of each encoder as small RGB images.',
		params: explainFiltersParamsSchema,
		result: explainFiltersResultSchema
	}),
	'explain.activations': method({
		summary: 'The activation map of one channel of a layer for the image, under each encoder.',
		params: explainActivationsParamsSchema,
		result: explainActivationsResultSchema
	}),
	'explain.neighbours': method({
		summary:
			'The k nearest training images of the image under each encoder (cosine on a layer’s features).',
		params: explainNeighboursParamsSchema,
		result: explainNeighboursResultSchema
	}),
	'analysis.precisionRecall': method({
		summary:
			'Improved precision (realism) and recall (diversity) of noise images against a dataset’s real images in an encoder’s feature space (Kynkäänniemi et al. 2019, k-NN manifolds), in a worker; progress arrives as analysis.progress.',
		params: precisionRecallParamsSchema,
		result: precisionRecallResultSchema
	}),
	'analysis.cancel': method({
		summary: 'Stops the running analysis with this job id.',
		params: z.object({ jobId: z.string().min(1).max(64) }).strict(),
		result: z.object({ cancelled: z.boolean() })
	}),
	'quickstart.start': method({
		summary:
			'Pretrains the tiny encoder on dead_leaves-mixed for a few minutes, evaluates it and its random-init control on Fashion-MNIST (bundled subset) and a structured task.',
		params: quickstartParamsSchema,
		result: quickstartStateSchema
	}),
	'quickstart.status': method({
		summary: 'The latest quickstart of this session, or null.',
		params: noParams,
		result: quickstartStateSchema.nullable()
	}),
	'studies.templates': method({
		summary:
			'Study templates (with each source’s availability in this build) and the named budgets.',
		params: noParams,
		result: z.object({
			templates: z.array(
				z.object({
					id: z.string(),
					label: z.string(),
					description: z.string(),
					datasets: z.array(z.string()),
					sources: z.array(
						z.object({
							preset: z.string(),
							/** What it lacks on this machine, or null when it can be used. */
							unavailable: z.string().nullable(),
							/** The training that would make it usable (start it with runs.start), or null. */
							training: generatorRequirementSchema.shape.training
						})
					)
				})
			),
			budgets: z.array(
				z.object({
					id: z.string(),
					label: z.string(),
					description: z.string(),
					budget: studyBudgetSchema,
					evaluation: studyEvaluationSchema.pick({ epochs: true, views: true })
				})
			)
		})
	}),
	'studies.estimate': method({
		summary:
			'Measures a study before it starts: a training warm-up of its budget and each generator’s speed, which decide what is cached; progress arrives as studies.estimateProgress.',
		params: z.object({ spec: studySpecSchema }).strict(),
		result: studyEstimateSchema
	}),
	'studies.create': method({
		summary:
			'Creates a study and queues its work (cached datasets, trainings, evaluations), reusing runs and evaluations that exist; pass the estimate shown to the user, else it is measured again.',
		params: z
			.object({ spec: studySpecSchema, estimate: studyEstimateSchema.nullable().default(null) })
			.strict(),
		result: studyDetailSchema
	}),
	'studies.list': method({
		summary: 'Studies with their progress, newest first.',
		params: noParams,
		result: z.array(studyRecordSchema)
	}),
	'studies.get': method({
		summary:
			'A study with its plan, runs, queue items and results (table and agreement with the paper).',
		params: z.object({ id: z.number().int() }).strict(),
		result: studyDetailSchema
	}),
	'studies.measureRealism': method({
		summary:
			'Measures each source’s realism and diversity (improved precision and recall against the first target’s real images, k-NN manifolds, one feature space for all sources: the study’s encoder at initialisation by default) and stores them with the study; progress arrives as analysis.progress (job study-ID-realism).',
		params: measureRealismParamsSchema,
		result: studyDetailSchema
	}),
	'studies.requeue': method({
		summary:
			'Queues whatever a study still lacks (a deleted run, a cancelled item) again; existing work is reused.',
		params: z.object({ id: z.number().int() }).strict(),
		result: studyDetailSchema
	}),
	'studies.delete': method({
		summary: 'Deletes a study and cancels its waiting work; its runs and evaluations stay in Runs.',
		params: z.object({ id: z.number().int() }).strict(),
		result: z.object({ deleted: z.boolean() })
	}),
	'studies.export': method({
		summary:
			'A study’s results as CSV, LaTeX (booktabs, mean ± sd), the figure as SVG (on one target), or JSON.',
		params: z
			.object({
				id: z.number().int(),
				format: z.enum(studyExportFormats),
				/** The target (column key) the figure shows; the first by default. */
				target: z.string().optional()
			})
			.strict(),
		result: z.object({ fileName: z.string(), mimeType: z.string(), content: z.string() })
	}),
	'studies.exportBundle': method({
		summary:
			'Writes a study into a folder: study.json and a run bundle per trained run (record, metrics, evaluations, newest checkpoint).',
		params: z.object({ id: z.number().int(), path: z.string().min(1) }).strict(),
		result: z.object({
			path: z.string(),
			runs: z.number().int(),
			skipped: z.array(z.string()),
			bytes: z.number().int()
		})
	}),
	'studies.importBundle': method({
		summary: 'Adds a study bundle folder: its runs as new runs and the study linked to them.',
		params: z.object({ path: z.string().min(1) }).strict(),
		result: studyDetailSchema
	}),
	'queue.state': method({
		summary: 'The work queue: its items in order, the lanes and whether it is paused.',
		params: noParams,
		result: queueStateSchema
	}),
	'queue.move': method({
		summary: 'Moves a queued item to a place among the queued items (0 runs next).',
		params: z.object({ id: z.number().int(), index: z.number().int().min(0) }).strict(),
		result: queueStateSchema
	}),
	'queue.cancel': method({
		summary:
			'Cancels a queue item: a waiting one is taken out, a running one stops (a training after a checkpoint).',
		params: z.object({ id: z.number().int() }).strict(),
		result: queueItemSchema
	}),
	'queue.retry': method({
		summary: 'Puts a failed or cancelled item back at the end of the queue.',
		params: z.object({ id: z.number().int() }).strict(),
		result: queueItemSchema
	}),
	'queue.setPaused': method({
		summary:
			'Pauses all work (running items stop to continue later: trainings at a checkpoint) or resumes it.',
		params: z.object({ paused: z.boolean() }).strict(),
		result: queueStateSchema
	})
} as const satisfies Record<ApiMethod, MethodDefinition>;

/** Every event the API pushes to the renderer. */
export const apiEvents = {
	/** Settings changed (from any window or the CLI server). */
	'settings.changed': appSettingsSchema,
	/** The active compute backend changed: a probe finished or the preference moved. */
	'backend.changed': backendSelectionSchema,
	/** An export made progress. */
	'datasets.progress': exportProgressSchema,
	/** An export ended: complete, cancelled or failed (see the record's status and error). */
	'datasets.finished': exportFinishedSchema,
	/** One image of a progressive preview, as soon as the worker has drawn it. */
	'generators.previewImage': previewImageEventSchema,
	/** How far a progressive preview's pool-texture fill is (textured dead leaves). */
	'generators.previewTextures': previewTexturesEventSchema,
	/** The saved presets changed. */
	'presets.changed': z.array(userPresetSchema),
	/** A training run made progress (a logged step, a checkpoint, its start). */
	'runs.progress': runProgressSchema,
	/** A run was created or changed status (started, paused, finished, …). */
	'runs.changed': runRecordSchema,
	/** A run estimate (of a request with a job id) moved on: a preparation, a timed step. */
	'runs.estimateProgress': runEstimateProgressSchema,
	/** An evaluation group made progress. */
	'evaluations.progress': evaluationProgressSchema,
	/** An evaluation was created or finished. */
	'evaluations.changed': evaluationRecordSchema,
	/** The quickstart moved on (a stage, a result). */
	'quickstart.changed': quickstartStateSchema,
	/** A batch or neighbours request moved on. */
	'explain.progress': explainProgressSchema,
	/** The work queue changed: an item was added, started, finished, moved; the pause switch. */
	'queue.changed': queueStateSchema,
	/** A running queue item made progress. */
	'queue.progress': z.object({
		itemId: z.number().int(),
		done: z.number(),
		total: z.number(),
		message: z.string()
	}),
	/** A study was created or deleted (its progress shows through queue.changed). */
	'studies.changed': z.object({ id: z.number().int(), deleted: z.boolean() }),
	/** A study estimate moved on (a warm-up, a generator measured). */
	'studies.estimateProgress': z.object({
		done: z.number().int(),
		total: z.number().int(),
		message: z.string()
	}),
	/** An analysis (precision and recall) moved on. */
	'analysis.progress': analysisProgressSchema
} as const;

/** What a caller may send for method M (defaults not yet applied). */
export type ApiParams<M extends ApiMethod> = z.input<(typeof apiMethods)[M]['params']>;
/** What a handler receives for method M (validated, defaults applied). */
export type ApiParsedParams<M extends ApiMethod> = z.output<(typeof apiMethods)[M]['params']>;
/** What method M returns on success. */
export type ApiResult<M extends ApiMethod> = z.output<(typeof apiMethods)[M]['result']>;

/** An event name. */
export type ApiEventName = keyof typeof apiEvents;
/** The payload of event E. */
export type ApiEventPayload<E extends ApiEventName> = z.output<(typeof apiEvents)[E]>;
/** Any event, as it travels. */
export type ApiEvent = {
	[E in ApiEventName]: { name: E; payload: ApiEventPayload<E> };
}[ApiEventName];
