/**
 * Contract types of generator requirements: what a configuration needs before it can generate
 * (today: a trained encoder, for `feature_vis-dead_leaves`), whether it is there, and the
 * training run that would provide it.
 */
import { z } from 'zod';
import { trainConfigSchema, type TrainConfigInput } from '../training/config';
import { generatorConfigSchema } from './generators';

/** Asking what a configuration needs. */
export const requirementsParamsSchema = z.object({ config: generatorConfigSchema }).strict();

/** The checkpoint an encoder parameter resolves to. */
export const resolvedEncoderSchema = z.object({
	runId: z.number().int(),
	runName: z.string(),
	model: z.string(),
	/** The checkpoint's step; null when only its pinned copy is left. */
	step: z.number().int().nullable(),
	sha256: z.string(),
	/** The pinned form the generator receives, `run:ID@SHA256`. */
	reference: z.string()
});

/** See {@link resolvedEncoderSchema}. */
export type ResolvedEncoder = z.infer<typeof resolvedEncoderSchema>;

/** One thing a configuration needs. */
export const generatorRequirementSchema = z.object({
	kind: z.literal('trained-encoder'),
	/** The parameter that names it. */
	param: z.string(),
	/** The parameter's value as given, e.g. `newest:dead_leaves-mixed`. */
	requested: z.string(),
	available: z.boolean(),
	/** What it resolves to now; null when unavailable. */
	encoder: resolvedEncoderSchema.nullable(),
	/** One sentence for the UI: what is used, or what is missing and what to do. */
	message: z.string(),
	/**
	 * A run that would provide it (start it with `runs.start`), when it is missing because no
	 * run has trained on the preset yet; null otherwise.
	 */
	training: z.object({ name: z.string(), config: trainConfigSchema }).nullable()
});

/** See {@link generatorRequirementSchema}. */
export type GeneratorRequirement = z.infer<typeof generatorRequirementSchema>;

/** Everything a configuration needs; `ready` when all of it is available. */
export const generatorRequirementsSchema = z.object({
	ready: z.boolean(),
	requirements: z.array(generatorRequirementSchema)
});

/** See {@link generatorRequirementsSchema}. */
export type GeneratorRequirements = z.infer<typeof generatorRequirementsSchema>;

/**
 * The run NoiseLab proposes when a generator needs an encoder trained on `preset` and none
 * exists: the quickstart's recipe (the `tiny` encoder, Adam, batch 64, on-the-fly images) for
 * 500 steps, 10–30 minutes on a 2-core laptop CPU with the wasm backend. Enough for units
 * that respond to edges and colours; a longer run (New run form) gives crisper ones.
 */
export function encoderTrainingSuggestion(preset: string): {
	name: string;
	config: TrainConfigInput;
} {
	return {
		name: `Encoder on ${preset}`,
		config: {
			source: { kind: 'generator', config: { preset, params: {} }, seed: 0, count: 105_000 },
			model: 'tiny',
			optimizer: 'adam',
			steps: 500,
			batch: 64,
			checkpointEvery: 100
		}
	};
}
