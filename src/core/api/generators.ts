/**
 * Contract types of the Generator Studio: the catalogue, previews, diagnostics, user presets
 * and dataset exports.
 */
import { z } from 'zod';
import type { DatasetDiagnostics } from '../diagnostics/diagnostics';
import { imageFormats } from '../generators/manifest';

const paramSpecSchema = z.union([
	z.object({
		kind: z.enum(['number', 'integer']),
		label: z.string(),
		help: z.string(),
		min: z.number(),
		max: z.number(),
		step: z.number(),
		default: z.number()
	}),
	z.object({
		kind: z.literal('boolean'),
		label: z.string(),
		help: z.string(),
		default: z.boolean()
	}),
	z.object({
		kind: z.literal('choice'),
		label: z.string(),
		help: z.string(),
		options: z.array(z.string()),
		default: z.string()
	}),
	z.object({
		kind: z.literal('set'),
		label: z.string(),
		help: z.string(),
		options: z.array(z.string()),
		default: z.array(z.string())
	}),
	z.object({
		/** A trained encoder: `newest:PRESET`, `run:ID` or `run:ID@SHA256`. */
		kind: z.literal('encoder'),
		label: z.string(),
		help: z.string(),
		default: z.string()
	})
]);

/** A generator as the UI sees it: its schema is data, so the controls derive from it. */
export const generatorInfoSchema = z.object({
	id: z.string(),
	family: z.string(),
	label: z.string(),
	description: z.string(),
	version: z.number().int(),
	speed: z.enum(['fast', 'slow']),
	params: z.record(z.string(), paramSpecSchema)
});

/** See {@link generatorInfoSchema}. */
export type GeneratorInfo = z.infer<typeof generatorInfoSchema>;

/** A built-in preset. */
export const presetInfoSchema = z.object({
	name: z.string(),
	generator: z.string(),
	params: z.record(z.string(), z.unknown()),
	size: z.number().int(),
	description: z.string()
});

/** See {@link presetInfoSchema}. */
export type PresetInfo = z.infer<typeof presetInfoSchema>;

/** Which images to draw: a preset, or a generator with parameter overrides. */
export const generatorConfigSchema = z
	.object({
		preset: z.string().min(1).optional(),
		generator: z.string().min(1).optional(),
		params: z.record(z.string(), z.unknown()).default({}),
		size: z.number().int().min(32).max(512).optional()
	})
	.refine(
		(config) => config.preset !== undefined || config.generator !== undefined,
		'name a preset or a generator'
	);

const seedSchema = z
	.number()
	.int()
	.min(0)
	.max(2 ** 32 - 1);

/** A preview request. A newer request on the same `stream` cancels the older one. */
export const previewParamsSchema = z
	.object({
		config: generatorConfigSchema,
		seed: seedSchema,
		indices: z.array(z.number().int().nonnegative()).min(1).max(64),
		stream: z.string().max(64).default('default'),
		/**
		 * Also push each image as a `generators.previewImage` event as soon as it is drawn, tagged
		 * with this id, so a slow grid fills in instead of waiting for all (and the progress of a
		 * texture fill as `generators.previewTextures`).
		 */
		progressiveId: z.string().max(64).optional(),
		/** Stream only once the request has taken this long, so fast grids arrive whole. */
		streamAfterMs: z.number().int().min(0).max(600_000).default(250)
	})
	.strict();

/** One preview image: raw RGB bytes (binary over every transport, never base64). */
export const previewImageSchema = z.object({
	index: z.number().int(),
	size: z.number().int(),
	rgb: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes'),
	milliseconds: z.number()
});

/** See {@link previewImageSchema}. */
export type PreviewImageData = z.infer<typeof previewImageSchema>;

/** One image of a progressive preview. */
export const previewImageEventSchema = z.object({
	progressiveId: z.string(),
	image: previewImageSchema
});

/**
 * How far a progressive preview's texture fill is (textured dead leaves): pool textures filled
 * of those its images asked for so far; images follow as soon as their own textures exist.
 */
export const previewTexturesEventSchema = z.object({
	progressiveId: z.string(),
	filled: z.number().int().nonnegative(),
	requested: z.number().int().nonnegative()
});

/** Diagnostics of a sample of the configuration's images. */
export const diagnosticsParamsSchema = z
	.object({
		config: generatorConfigSchema,
		seed: seedSchema,
		count: z.number().int().min(8).max(512).default(128),
		stream: z.string().max(64).default('diagnostics')
	})
	.strict();

/** The diagnostics report (see core/diagnostics). */
export const diagnosticsSchema = z.custom<DatasetDiagnostics>(
	(value) => typeof value === 'object' && value !== null
);

/** A user's saved preset. */
export const userPresetSchema = z.object({
	id: z.number().int(),
	name: z.string(),
	generator: z.string(),
	generatorVersion: z.number().int(),
	params: z.record(z.string(), z.unknown()),
	size: z.number().int(),
	seed: z.number().int(),
	createdAt: z.string(),
	updatedAt: z.string()
});

/** See {@link userPresetSchema}. */
export type UserPreset = z.infer<typeof userPresetSchema>;

const presetName = z.string().trim().min(1, 'a preset needs a name').max(80);

/** Saving a preset (a new name, or an existing name to overwrite it). */
export const savePresetParamsSchema = z
	.object({
		name: presetName,
		generator: z.string().min(1),
		params: z.record(z.string(), z.unknown()),
		size: z.number().int().min(32).max(512),
		seed: seedSchema
	})
	.strict();

/** Export states recorded in SQLite. */
export const datasetStatuses = ['running', 'complete', 'cancelled', 'failed'] as const;

/** An exported dataset as the app records it. */
export const datasetRecordSchema = z.object({
	id: z.number().int(),
	path: z.string(),
	generator: z.string(),
	preset: z.string().nullable(),
	params: z.record(z.string(), z.unknown()),
	size: z.number().int(),
	seed: z.number().int(),
	count: z.number().int(),
	written: z.number().int(),
	format: z.enum(imageFormats),
	status: z.enum(datasetStatuses),
	error: z.string().nullable(),
	createdAt: z.string(),
	updatedAt: z.string()
});

/** See {@link datasetRecordSchema}. */
export type DatasetRecord = z.infer<typeof datasetRecordSchema>;

/** Starting an export. */
export const exportParamsSchema = z
	.object({
		config: generatorConfigSchema,
		seed: seedSchema,
		count: z.number().int().min(1).max(10_000_000),
		outDir: z.string().min(1, 'choose a destination folder'),
		format: z.enum(imageFormats).default('jpg'),
		quality: z.number().int().min(1).max(100).default(95),
		shards: z.boolean().default(false)
	})
	.strict();

/** Export progress, as pushed to the UI. */
export const exportProgressSchema = z.object({
	jobId: z.string(),
	datasetId: z.number().int(),
	phase: z.enum(['scanning', 'generating', 'sharding']),
	done: z.number().int(),
	total: z.number().int(),
	skipped: z.number().int(),
	written: z.number().int(),
	imagesPerSecond: z.number(),
	etaSeconds: z.number().nullable()
});

/** The end of an export. */
export const exportFinishedSchema = z.object({
	jobId: z.string(),
	dataset: datasetRecordSchema
});
