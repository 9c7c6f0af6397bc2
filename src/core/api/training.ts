/** Contract types of the Training lab: runs, their live progress, metrics and checkpoints. */
import { z } from 'zod';
import { backendIds, gpuAdapterSchema } from '../compute/backends';
import { trainConfigSchema } from '../training/config';
import { importedEncoderSchema } from './interop';

/**
 * Where a run stands. `interrupted`: it was training when its worker or the app died; it can be
 * resumed from its last checkpoint. `diverged`: the loss became NaN or infinite. `queued`: its
 * training waits in the work queue (never stored: the store keeps such a run paused, and the
 * record says `queued` while its queue item waits).
 */
export const runStatuses = [
	'queued',
	'running',
	'paused',
	'interrupted',
	'completed',
	'cancelled',
	'failed',
	'diverged'
] as const;

/** One of {@link runStatuses}. */
export type RunStatus = (typeof runStatuses)[number];

/** Statuses from which a run can continue. */
export const resumableStatuses: readonly RunStatus[] = ['paused', 'interrupted', 'failed'];

/** A run as the runs list shows it. */
export const runRecordSchema = z.object({
	id: z.number().int(),
	name: z.string(),
	status: z.enum(runStatuses),
	/** `trained` here, or `imported` from a checkpoint file (an external encoder). */
	kind: z.enum(['trained', 'imported']).default('trained'),
	/** What an imported encoder is and where it came from; null for trained runs. */
	imported: importedEncoderSchema.nullable().default(null),
	/** The training configuration (for an imported encoder, a placeholder naming its file). */
	config: trainConfigSchema,
	/** A short description of the data, e.g. "dead_leaves-mixed (virtual, 105,000)". */
	sourceLabel: z.string(),
	/** The backend of the latest session; null before the first one started. */
	backend: z.enum(backendIds).nullable(),
	/** The WebGPU adapter of the latest session, when it ran on `webgpu`. */
	adapter: gpuAdapterSchema.nullable().default(null),
	step: z.number().int(),
	steps: z.number().int(),
	parameterCount: z.number().int().nullable(),
	lastLoss: z.number().nullable(),
	/** Seconds spent training, summed over sessions. */
	trainSeconds: z.number(),
	/** Images that could not be read and were skipped (folder sources). */
	skippedImages: z.number().int(),
	error: z.string().nullable(),
	tags: z.array(z.string()),
	notes: z.string(),
	appVersion: z.string(),
	createdAt: z.string(),
	updatedAt: z.string(),
	finishedAt: z.string().nullable()
});

/** See {@link runRecordSchema}. */
export type RunRecord = z.infer<typeof runRecordSchema>;

/** One logged training step. */
export const metricPointSchema = z.object({
	step: z.number().int(),
	loss: z.number(),
	align: z.number(),
	uniform: z.number(),
	lr: z.number(),
	imagesPerSecond: z.number(),
	/**
	 * Seconds of training up to this step, as the trainer measured it: the wall time of the
	 * sessions that led here, without the gaps while the run was paused or interrupted. Null for
	 * steps logged before NoiseLab recorded it (and for bundles from then).
	 */
	seconds: z.number().nullable().default(null)
});

/** See {@link metricPointSchema}. */
export type MetricPoint = z.infer<typeof metricPointSchema>;
/** A logged step as a caller may write it (`seconds` may be left out: unknown). */
export type MetricPointInput = z.input<typeof metricPointSchema>;

/** A checkpoint file of a run. */
export const checkpointRecordSchema = z.object({
	step: z.number().int(),
	path: z.string(),
	bytes: z.number().int(),
	sha256: z.string(),
	createdAt: z.string()
});

/** See {@link checkpointRecordSchema}. */
export type CheckpointRecord = z.infer<typeof checkpointRecordSchema>;

/** Live progress of a running run, pushed as `runs.progress`. */
export const runProgressSchema = z.object({
	runId: z.number().int(),
	phase: z.enum(['starting', 'training', 'checkpointing']),
	step: z.number().int(),
	steps: z.number().int(),
	epoch: z.number(),
	backend: z.enum(backendIds).nullable(),
	/** The latest logged step, absent while starting. */
	metric: metricPointSchema.nullable(),
	/** Every step logged since the previous event (the charts need them all, not just the latest). */
	points: z.array(metricPointSchema),
	etaSeconds: z.number().nullable(),
	skippedImages: z.number().int(),
	message: z.string()
});

/** See {@link runProgressSchema}. */
export type RunProgress = z.infer<typeof runProgressSchema>;

/** Starting a run. */
export const startRunParamsSchema = z
	.object({
		name: z.string().trim().min(1).max(80).optional(),
		config: trainConfigSchema
	})
	.strict();

/** See {@link startRunParamsSchema}. */
export type StartRunParams = z.infer<typeof startRunParamsSchema>;

/** A measured estimate of a configuration's speed, from a short warm-up in a worker. */
export const runEstimateSchema = z.object({
	backend: z.enum(backendIds),
	/** Data-parallel replicas the estimate trained with. */
	replicas: z.number().int(),
	parameterCount: z.number().int(),
	secondsPerStep: z.number(),
	imagesPerSecond: z.number(),
	totalSeconds: z.number(),
	/** Steps measured after the warm-up step. */
	measuredSteps: z.number().int()
});

/** See {@link runEstimateSchema}. */
export type RunEstimate = z.infer<typeof runEstimateSchema>;

/**
 * What an estimate does, in order: pick and start the backend, build the model, open the data
 * pipeline (its threads), one untimed warm-up step (kernel compilation), then the timed steps.
 */
export const estimatePhases = ['backend', 'model', 'data', 'warm-up', 'measuring'] as const;

/** How many timed steps an estimate measures at most (it stops earlier at its time budget). */
export const estimateMeasuredSteps = 5;

/** An estimate moved on, pushed as `runs.estimateProgress` (for a request that gave a job id). */
export const runEstimateProgressSchema = z.object({
	jobId: z.string(),
	phase: z.enum(estimatePhases),
	/** Stages done of `total`: the four preparations, then each timed step. */
	done: z.number().int(),
	total: z.number().int(),
	message: z.string(),
	/** Seconds left, once the warm-up step has been timed; null before. */
	etaSeconds: z.number().nullable()
});

/** See {@link runEstimateProgressSchema}. */
export type RunEstimateProgress = z.infer<typeof runEstimateProgressSchema>;

/** A run with its history, for the dashboard. */
export const runDetailSchema = z.object({
	run: runRecordSchema,
	metrics: z.array(metricPointSchema),
	checkpoints: z.array(checkpointRecordSchema)
});

/** See {@link runDetailSchema}. */
export type RunDetail = z.infer<typeof runDetailSchema>;
