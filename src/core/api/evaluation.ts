/** Contract types of evaluation: datasets, linear-probe and kNN evaluations with their controls. */
import { featureLayers } from '../encoders/architecture';
import { z } from 'zod';

/** Evaluation protocols (`paper-protocol.md` §4). */
export const evalProtocols = ['linear', 'knn'] as const;

/**
 * Which encoder an evaluation measured: the run's own (`encoder`), the random-init control
 * (same architecture and seed, untrained), or a real-data-trained run (`real`).
 */
export const evaluationRoles = ['encoder', 'random-init', 'real'] as const;

/** See {@link evaluationRoles}. */
export type EvaluationRole = (typeof evaluationRoles)[number];

export const evaluationStatuses = ['running', 'completed', 'failed', 'cancelled'] as const;

/** What an evaluation request asks for; defaults follow the paper, scaled where noted. */
export const evaluateParamsSchema = z
	.object({
		runId: z.number().int(),
		/** `fashion-mnist-mini`, `fashion-mnist`, `structured:<task>`, or a registered folder path. */
		dataset: z.string().min(1),
		protocol: z.enum(evalProtocols).default('linear'),
		/**
		 * Features from this layer; spatial maps are global-average-pooled. Absent: the paper's fc6
		 * for SmallAlexNet, avgpool for a ResNet-50. An encoder without the layer reads the one at
		 * the same depth (fc6 ↔ avgpool, conv5 ↔ layer4).
		 */
		layer: z.enum(featureLayers).optional(),
		/** Also evaluate the same architecture and seed at random init. */
		randomInit: z.boolean().default(true),
		/** Also evaluate this real-data-trained run (the upper control). */
		realRunId: z.number().int().nullable().default(null),
		/** Linear probe epochs (paper 100, lr ×0.2 at 60% and 80%). */
		epochs: z.number().int().min(1).max(300).default(100),
		/**
		 * Augmented crops per training image whose features the probe cycles through, one per epoch.
		 * The paper draws a fresh crop every epoch; each view costs one pass of the encoder.
		 */
		views: z.number().int().min(1).max(32).default(4),
		/**
		 * Z-score every feature with the training set's statistics before the probe. Not in the
		 * paper (see core/evaluation/standardize.ts): without it, random-init and barely trained
		 * encoders score chance at CPU-sized probe budgets because their fc6 features are tiny.
		 */
		standardize: z.boolean().default(true),
		knnK: z.array(z.number().int().min(1).max(1000)).min(1).max(4).default([20, 200]),
		temperature: z.number().positive().max(10).default(0.07),
		/** Use at most this many training images (stratified); null uses all. */
		maxTrain: z.number().int().min(10).nullable().default(null),
		seed: z
			.number()
			.int()
			.min(0)
			.max(2 ** 32 - 1)
			.default(0)
	})
	.strict();

/** See {@link evaluateParamsSchema}. */
export type EvaluateParams = z.infer<typeof evaluateParamsSchema>;

/** The figures of one evaluation. Accuracies are fractions in [0, 1]. */
export const evaluationMetricsSchema = z.object({
	top1: z.number(),
	top5: z.number().nullable(),
	/** kNN top-1 by k, e.g. { "20": 0.81, "200": 0.79 }. */
	knn: z.record(z.string(), z.number()).nullable(),
	trainImages: z.number().int(),
	testImages: z.number().int(),
	classes: z.number().int(),
	featureDim: z.number().int()
});

/** See {@link evaluationMetricsSchema}. */
export type EvaluationMetrics = z.infer<typeof evaluationMetricsSchema>;

/** One stored evaluation. */
export const evaluationRecordSchema = z.object({
	id: z.number().int(),
	/** Evaluations started together (an encoder and its controls) share a group. */
	groupId: z.string(),
	/** The run whose encoder (or, for random-init, whose architecture and seed) was measured. */
	runId: z.number().int(),
	role: z.enum(evaluationRoles),
	checkpointStep: z.number().int().nullable(),
	dataset: z.string(),
	protocol: z.enum(evalProtocols),
	layer: z.enum(featureLayers),
	status: z.enum(evaluationStatuses),
	metrics: evaluationMetricsSchema.nullable(),
	config: evaluateParamsSchema,
	error: z.string().nullable(),
	seconds: z.number().nullable(),
	createdAt: z.string(),
	finishedAt: z.string().nullable()
});

/** See {@link evaluationRecordSchema}. */
export type EvaluationRecord = z.infer<typeof evaluationRecordSchema>;

/** Progress of an evaluation group, pushed as `evaluations.progress`. */
export const evaluationProgressSchema = z.object({
	groupId: z.string(),
	evaluationId: z.number().int(),
	role: z.enum(evaluationRoles),
	phase: z.enum(['loading', 'features', 'training', 'scoring']),
	done: z.number().int(),
	total: z.number().int(),
	message: z.string()
});

/** See {@link evaluationProgressSchema}. */
export type EvaluationProgress = z.infer<typeof evaluationProgressSchema>;

/** A dataset the user can evaluate on. */
export const evalDatasetInfoSchema = z.object({
	name: z.string(),
	kind: z.enum(['builtin', 'structured', 'registered']),
	description: z.string(),
	available: z.boolean(),
	detail: z.string(),
	classes: z.array(z.string()).nullable(),
	trainCount: z.number().int().nullable(),
	testCount: z.number().int().nullable()
});

/** See {@link evalDatasetInfoSchema}. */
export type EvalDatasetInfo = z.infer<typeof evalDatasetInfoSchema>;
