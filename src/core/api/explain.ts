/** Contract types of Explain: Grad-CAM maps of several encoders on one image. */
import { z } from 'zod';
import { encoderLayers } from '../training/encoder-spec';

const bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes');

/** Which encoders to explain on which image. */
export const explainParamsSchema = z
	.object({
		/** Two to four encoders: a run's newest checkpoint, or its random-init encoder. */
		encoders: z
			.array(z.object({ runId: z.number().int(), randomInit: z.boolean().default(false) }).strict())
			.min(1)
			.max(4),
		/** A test image of a dataset (as for evaluations). */
		dataset: z.string().min(1),
		index: z.number().int().min(0),
		method: z.enum(['gradcam', 'gradcam++']).default('gradcam'),
		/** A conv block; the paper's encoders end in conv5. */
		layer: z
			.enum(encoderLayers.slice(0, 5) as ['conv1', 'conv2', 'conv3', 'conv4', 'conv5'])
			.default('conv5')
	})
	.strict();

/** See {@link explainParamsSchema}. */
export type ExplainParams = z.infer<typeof explainParamsSchema>;

/** Maps at display size, the image they explain, and how much the first two agree. */
export const explainResultSchema = z.object({
	/** Display size of the image and of every map (square). */
	size: z.number().int(),
	/** The image, RGB bytes at `size²`. */
	rgb: bytes,
	/** The image's class in the dataset. */
	label: z.string().nullable(),
	encoders: z.array(
		z.object({
			label: z.string(),
			runId: z.number().int(),
			randomInit: z.boolean(),
			/** The map, one byte per pixel (0–255 = the map's min–max). */
			map: bytes,
			score: z.number(),
			/** Deletion AUC of the target score (lower: the map found what matters). */
			deletion: z.number(),
			/** Insertion AUC (higher is better). */
			insertion: z.number()
		})
	),
	/** Spearman rank correlation of the first two maps; null with one encoder or a flat map. */
	agreement: z.number().nullable()
});

/** See {@link explainResultSchema}. */
export type ExplainResult = z.infer<typeof explainResultSchema>;
