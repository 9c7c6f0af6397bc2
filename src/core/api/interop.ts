/**
 * Contract types of interop: encoders imported from PyTorch checkpoints or safetensors files
 * ("external encoders", listed with the runs as kind `imported`), and a run's encoder exported
 * for PyTorch.
 */
import { z } from 'zod';
import {
	architectureKinds,
	encoderArchitectureSchema,
	normalisationSchema
} from '../encoders/architecture';

/** Where an imported encoder came from and what it is; stored with its run record. */
export const importedEncoderSchema = z.object({
	architecture: encoderArchitectureSchema,
	normalisation: normalisationSchema,
	format: z.enum(['pytorch', 'safetensors']),
	/** The file's name (not its folder) and SHA-256 of its bytes. */
	fileName: z.string(),
	sha256: z.string(),
	/** Where the weights come from, as the user gave it (e.g. a paper, a URL, "torchvision"). */
	sourceName: z.string(),
	/** The licence of the weights, as the user gave it. */
	licence: z.string(),
	/** What the import did (prefix stripped, head dropped, values converted). */
	notes: z.array(z.string())
});

/** See {@link importedEncoderSchema}. */
export type ImportedEncoder = z.infer<typeof importedEncoderSchema>;

/** Importing an encoder checkpoint. */
export const importEncoderParamsSchema = z
	.object({
		/** Absolute path of a `.pt`/`.pth`/`.pth.tar` (zip) or `.safetensors` file. */
		path: z.string().min(1),
		/** The architecture; detected from the weights' names when absent. */
		architecture: z.enum(architectureKinds).optional(),
		/** Input side in pixels (ResNet-50 default 224; SmallAlexNet derived from fc6). */
		inputSize: z.number().int().min(15).max(1024).optional(),
		name: z.string().trim().min(1).max(80).optional(),
		sourceName: z.string().trim().max(500).default(''),
		licence: z.string().trim().max(500).default('')
	})
	.strict();

/** See {@link importEncoderParamsSchema}. */
export type ImportEncoderParams = z.infer<typeof importEncoderParamsSchema>;

/** Exporting a run's (or imported) encoder for PyTorch. */
export const exportEncoderParamsSchema = z
	.object({
		id: z.number().int(),
		/** An absolute folder path: new, or empty. */
		folder: z.string().min(1)
	})
	.strict();

/** What an export wrote. */
export const exportEncoderResultSchema = z.object({
	folder: z.string(),
	/** The files written, by name. */
	files: z.array(z.string()),
	bytes: z.number().int()
});

/** See {@link exportEncoderResultSchema}. */
export type ExportEncoderResult = z.infer<typeof exportEncoderResultSchema>;
