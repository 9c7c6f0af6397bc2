/**
 * Contract types of dataset analyses that need an encoder: improved precision and recall
 * (realism and diversity, Kynkäänniemi et al. 2019) of a noise dataset against real images.
 */
import { z } from 'zod';
import { defaultPrecisionRecallK } from '../evaluation/precision-recall';
import { modelPresetIds } from '../training/config';
import { encoderLayers } from '../training/encoder-spec';
import { generatorConfigSchema } from './generators';

const seedSchema = z
	.number()
	.int()
	.min(0)
	.max(2 ** 32 - 1);

/** The feature space: a run's newest checkpoint, or an untrained encoder. */
export const analysisEncoderSchema = z.discriminatedUnion('kind', [
	z.object({ kind: z.literal('run'), runId: z.number().int() }).strict(),
	z
		.object({
			kind: z.literal('random-init'),
			model: z.enum(modelPresetIds).default('tiny'),
			seed: seedSchema.default(0)
		})
		.strict()
]);

/** See {@link analysisEncoderSchema}. */
export type AnalysisEncoder = z.infer<typeof analysisEncoderSchema>;

/** The noise images: a generator configuration (images 0..n−1 of a seed), or a folder of images. */
export const noiseSampleSourceSchema = z.discriminatedUnion('kind', [
	z
		.object({
			kind: z.literal('generator'),
			config: generatorConfigSchema,
			seed: seedSchema.default(0)
		})
		.strict(),
	z
		.object({
			/** An exported dataset or any image folder (absolute path); a seeded sample of its files. */
			kind: z.literal('folder'),
			path: z.string().min(1)
		})
		.strict()
]);

/** See {@link noiseSampleSourceSchema}. */
export type NoiseSampleSource = z.infer<typeof noiseSampleSourceSchema>;

/** Most images per side: the k-NN radii keep an n × n distance matrix (4000² doubles = 128 MB). */
export const maxPrecisionRecallSamples = 4000;

/** A precision-and-recall request. */
export const precisionRecallParamsSchema = z
	.object({
		noise: noiseSampleSourceSchema,
		/** An evaluation dataset (`evaluations.datasets`): its training images are the real side. */
		dataset: z.string().min(1),
		encoder: analysisEncoderSchema,
		/** Features from this layer (conv blocks averaged over their map). */
		layer: z.enum(encoderLayers).default('fc6'),
		/**
		 * Images per side. The paper uses 50k; fewer make both scores noisier and lower (balls
		 * around fewer points cover less), so compare numbers measured with the same count.
		 */
		samples: z.number().int().min(16).max(maxPrecisionRecallSamples).default(500),
		/** Neighbourhood size of the manifold balls (the paper: 3). */
		k: z.number().int().min(1).max(15).default(defaultPrecisionRecallK),
		/** Seed of the real images' stratified sample (and of a folder's sample). */
		seed: seedSchema.default(0),
		/** Tags `analysis.progress` events and lets `analysis.cancel` stop this request. */
		jobId: z.string().min(1).max(64).default('precision-recall')
	})
	.strict()
	.refine((params) => params.samples > params.k, 'samples must be larger than k');

/** See {@link precisionRecallParamsSchema}. */
export type PrecisionRecallParams = z.infer<typeof precisionRecallParamsSchema>;

/** The outcome of a precision-and-recall request. */
export const precisionRecallResultSchema = z.object({
	/** Fraction of noise images inside the real manifold: realism. */
	precision: z.number(),
	/** Fraction of real images inside the noise manifold: diversity (coverage of real images). */
	recall: z.number(),
	k: z.number().int(),
	layer: z.enum(encoderLayers),
	noiseCount: z.number().int(),
	realCount: z.number().int(),
	featureDim: z.number().int(),
	dataset: z.string(),
	/** e.g. `run 12 “real STL” (tiny, step 2000)` or `random init (tiny, seed 0)`. */
	encoderLabel: z.string(),
	/** The checkpoint's SHA-256; null at random init. */
	encoderSha256: z.string().nullable(),
	/** What the noise side was, e.g. `dead_leaves-mixed · 128 px · seed 0 · 500 images`. */
	noiseLabel: z.string(),
	/** Whether each side's features came from the feature cache. */
	cached: z.object({ noise: z.boolean(), real: z.boolean() }),
	seconds: z.number()
});

/** See {@link precisionRecallResultSchema}. */
export type PrecisionRecallResult = z.infer<typeof precisionRecallResultSchema>;

/** Progress of an analysis, pushed as `analysis.progress`. */
export const analysisProgressSchema = z.object({
	jobId: z.string(),
	phase: z.enum(['loading', 'real', 'noise', 'scoring']),
	done: z.number().int(),
	total: z.number().int(),
	message: z.string()
});

/** See {@link analysisProgressSchema}. */
export type AnalysisProgress = z.infer<typeof analysisProgressSchema>;
