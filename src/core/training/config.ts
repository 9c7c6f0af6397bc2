/**
 * The configuration of a training run: what data, which encoder, how to optimise, and the
 * paper's defaults (`paper-protocol.md` §3). A run stores this object verbatim, so a run can be
 * repeated or resumed from its record alone.
 */
import { z } from 'zod';
import { generatorConfigSchema } from '../api/generators';
import { backendPreferences } from '../compute/backends';

/** The most data-parallel replicas a run may ask for. */
export const maxReplicas = 64;

/** Encoder presets, all built by the same SmallAlexNet code (see `model.ts`). */
export const modelPresetIds = ['alexnet', 'small', 'tiny'] as const;

/** One of {@link modelPresetIds}. */
export type ModelPresetId = (typeof modelPresetIds)[number];

const seedSchema = z
	.number()
	.int()
	.min(0)
	.max(2 ** 32 - 1);

/** Where training images come from. */
export const trainSourceSchema = z.discriminatedUnion('kind', [
	z
		.object({
			/** A virtual dataset: image i is generated on the fly from (seed, i); nothing on disk. */
			kind: z.literal('generator'),
			config: generatorConfigSchema,
			seed: seedSchema.default(0),
			/** The dataset's size: indices 0..count-1, reshuffled every epoch. The paper uses 105k. */
			count: z.number().int().min(1).max(10_000_000).default(105_000)
		})
		.strict(),
	z
		.object({
			/** A folder of images: an exported noise dataset or real images (the real-data control). */
			kind: z.literal('folder'),
			path: z.string().min(1),
			/**
			 * Decoded images are scaled so that their shorter side is at most this (keeps large
			 * photos cheap to crop); noise datasets at 128/256 px are used as they are.
			 */
			maxSide: z.number().int().min(32).max(1024).default(256)
		})
		.strict(),
	z
		.object({
			/**
			 * A dataset NoiseLab evaluates on (`fashion-mnist-mini`, `fashion-mnist`, or an absolute
			 * path to MNIST IDX files, CIFAR binaries or class folders), its training split only, so
			 * its test split stays unseen: the usual real-data control.
			 */
			kind: z.literal('dataset'),
			dataset: z
				.string()
				.trim()
				.min(1)
				.refine((name) => !name.startsWith('structured:'), {
					message:
						'Structured tasks are generated for evaluation only; train the control on a real dataset.'
				}),
			/**
			 * Seeds the train/test split of a folder that has none. Evaluations split with their own
			 * seed (0 by default), so the same seed keeps the control off their test images.
			 */
			splitSeed: seedSchema.default(0)
		})
		.strict()
]);

/** See {@link trainSourceSchema}. */
export type TrainSource = z.infer<typeof trainSourceSchema>;

/** Augmentation settings; defaults are the paper's (`paper-protocol.md` §3.1). */
export const augmentConfigSchema = z
	.object({
		cropScaleMin: z.number().min(0.01).max(1).default(0.08),
		cropScaleMax: z.number().min(0.01).max(1).default(1),
		cropRatioMin: z
			.number()
			.min(0.1)
			.max(10)
			.default(3 / 4),
		cropRatioMax: z
			.number()
			.min(0.1)
			.max(10)
			.default(4 / 3),
		flipProbability: z.number().min(0).max(1).default(0.5),
		brightness: z.number().min(0).max(1).default(0.4),
		contrast: z.number().min(0).max(1).default(0.4),
		saturation: z.number().min(0).max(1).default(0.4),
		/** Hue shift amplitude as a fraction of a full turn (torchvision's `hue`, ≤ 0.5). */
		hue: z.number().min(0).max(0.5).default(0.4),
		grayscaleProbability: z.number().min(0).max(1).default(0.2)
	})
	.strict()
	.refine((a) => a.cropScaleMin <= a.cropScaleMax, 'cropScaleMin must not exceed cropScaleMax')
	.refine((a) => a.cropRatioMin <= a.cropRatioMax, 'cropRatioMin must not exceed cropRatioMax');

/** See {@link augmentConfigSchema}. */
export type AugmentConfig = z.infer<typeof augmentConfigSchema>;

/** The paper's decay points (epochs 155, 170, 185 of 200), as fractions of the run. */
export const paperMilestones = [155 / 200, 170 / 200, 185 / 200] as const;

/** Everything a run needs. Parse user input with it; defaults are the paper's. */
export const trainConfigSchema = z
	.object({
		source: trainSourceSchema,
		model: z.enum(modelPresetIds).default('tiny'),
		/** Optimiser steps (one step = one batch of pairs). */
		steps: z.number().int().min(1).max(10_000_000),
		/** Positive pairs per step; the paper uses 768. The loss depends on it: it is logged. */
		batch: z.number().int().min(4).max(2048).default(128),
		optimizer: z.enum(['sgd', 'adam']).default('sgd'),
		/** Base learning rate; null means the paper's 0.12·B/256 for SGD and 1e-3 for Adam. */
		lr: z.number().positive().max(100).nullable().default(null),
		momentum: z.number().min(0).max(0.999).default(0.9),
		/** Coupled L2 on every parameter, as PyTorch's SGD. */
		weightDecay: z.number().min(0).max(0.1).default(1e-4),
		/** Fractions of the run at which the lr is multiplied by `lrDecay`. */
		milestones: z
			.array(z.number().gt(0).lt(1))
			.max(10)
			.default([...paperMilestones]),
		lrDecay: z.number().gt(0).max(1).default(0.1),
		/** Batch-norm statistics per view (the paper's two-GPU DataParallel quirk) or over both. */
		bnPerView: z.boolean().default(true),
		alignAlpha: z.number().positive().max(4).default(2),
		uniformT: z.number().positive().max(10).default(2),
		alignWeight: z.number().min(0).max(10).default(1),
		uniformWeight: z.number().min(0).max(10).default(1),
		augment: augmentConfigSchema.default(augmentConfigSchema.parse({})),
		/** Write a checkpoint every this many steps (and always at the end). */
		checkpointEvery: z.number().int().min(1).max(1_000_000).default(200),
		seed: seedSchema.default(0),
		backend: z.enum(backendPreferences).default('auto'),
		/**
		 * Data-parallel replicas on wasm: threads that each compute the gradient of a part of the
		 * batch (see `parallelism.ts`). null: Settings, else the cores the data threads leave. A
		 * run records the number its first session used and keeps it, since K changes float
		 * rounding and a resumed run must continue bit for bit.
		 */
		replicas: z.number().int().min(1).max(maxReplicas).nullable().default(null)
	})
	.strict();

/** A run's configuration as the user gives it (defaults not yet applied). */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;
/** A complete run configuration. */
export type TrainConfig = z.infer<typeof trainConfigSchema>;

/** The learning rate a run starts from: its own, or the paper's rule. */
export function baseLearningRate(config: Pick<TrainConfig, 'lr' | 'optimizer' | 'batch'>): number {
	if (config.lr !== null) return config.lr;
	return config.optimizer === 'sgd' ? (0.12 * config.batch) / 256 : 1e-3;
}

/**
 * The learning rate at a step: the base rate times `lrDecay` for every milestone passed. The
 * paper steps its schedule once per epoch at epochs 155/170/185 of 200; runs here are often
 * shorter than a few epochs, so the same fractions are applied per step.
 */
export function learningRateAt(
	step: number,
	config: Pick<TrainConfig, 'lr' | 'optimizer' | 'batch' | 'milestones' | 'lrDecay' | 'steps'>
): number {
	let lr = baseLearningRate(config);
	for (const milestone of config.milestones) {
		if (step >= Math.round(milestone * config.steps)) lr *= config.lrDecay;
	}
	return lr;
}
