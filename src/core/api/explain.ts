/**
 * Contract types of Explain: Grad-CAM maps of several encoders on one image, the same over a
 * batch of images, first-layer filters, channel activation maps and nearest neighbours.
 */
import { featureLayers, spatialLayers } from '../encoders/architecture';
import { z } from 'zod';
import { formatMiB } from '../format';

const bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes');

/** A run's encoder: its newest checkpoint, or its random-init encoder (the control). */
export const encoderRefSchema = z
	.object({ runId: z.number().int(), randomInit: z.boolean().default(false) })
	.strict();

/** See {@link encoderRefSchema}. */
export type EncoderRef = z.infer<typeof encoderRefSchema>;

/** One to four encoders. */
const encoderRefs = z.array(encoderRefSchema).min(1).max(4);

/**
 * The layers a map can be taken at: SmallAlexNet's conv blocks (the paper's encoders end in
 * conv5) and ResNet-50's stages. An encoder without the requested layer uses the one at the
 * same depth (`correspondingLayer`: conv5 ↔ layer4), and its result names the layer used.
 */
export const camLayers = spatialLayers;

/**
 * The largest image a user may upload (Explain's "an image of your own"). The renderer checks
 * it before reading the file, the contract refuses a larger one, and the web transport sizes
 * its messages from it (`maxRequestBytes` in wire.ts). Explain works at 64 px or less, so a
 * photo of any camera fits once saved as JPEG.
 */
export const maxUploadBytes = 20 * 2 ** 20;

/** An image of the user's own (PNG, JPEG, WebP, …), sent as its file bytes. */
export const uploadedImageSchema = z
	.object({
		name: z.string().max(500),
		bytes: bytes.refine((value) => value.byteLength <= maxUploadBytes, {
			error: (issue) =>
				`the image is ${formatMiB((issue.input as Uint8Array).byteLength)}; uploads may be at most ${formatMiB(maxUploadBytes)}`
		})
	})
	.strict();

/**
 * Which image: a test image of `dataset` (by index), or an uploaded one. The dataset is named
 * either way: its classes are the probe's and its training split is the neighbours' gallery.
 */
const imageFields = {
	dataset: z.string().min(1),
	index: z.number().int().min(0).default(0),
	/** When present, the image explained instead of the dataset's `index`. */
	upload: uploadedImageSchema.optional()
};

/**
 * What each map explains.
 * - `predicted`: the probe's top class for the image (the encoder's own embedding when it has
 *   no probe on this dataset);
 * - `true`: the image's label, through the probe (a dataset image and a probe needed);
 * - `class`: any class of the dataset, through the probe;
 * - `embedding`: how much each region drives the image's own embedding (needs no probe);
 * - `class-mean`: cosine similarity of the embedding to the mean embedding of a class's
 *   training images (needs no probe).
 */
export const explainTargetSchema = z.discriminatedUnion('kind', [
	z.object({ kind: z.literal('predicted') }).strict(),
	z.object({ kind: z.literal('true') }).strict(),
	z.object({ kind: z.literal('class'), classIndex: z.number().int().min(0) }).strict(),
	z.object({ kind: z.literal('embedding') }).strict(),
	z.object({ kind: z.literal('class-mean'), classIndex: z.number().int().min(0) }).strict()
]);

/** See {@link explainTargetSchema}. */
export type ExplainTarget = z.infer<typeof explainTargetSchema>;

/**
 * The CAM methods, with the class names users know from pytorch-grad-cam. Grad-CAM, Grad-CAM++
 * and XGradCAM weight each channel's whole map; HiResCAM and LayerCAM weight every position,
 * which keeps positive evidence that a channel-wide average can cancel (useful on small maps).
 */
export const camMethods = [
	{ id: 'gradcam', label: 'Grad-CAM (GradCAM)' },
	{ id: 'gradcam++', label: 'Grad-CAM++ (GradCAMPlusPlus)' },
	{ id: 'xgradcam', label: 'XGrad-CAM (XGradCAM)' },
	{ id: 'hirescam', label: 'HiResCAM (HiResCAM)' },
	{ id: 'layercam', label: 'LayerCAM (LayerCAM)' }
] as const;

/** A CAM method id. */
export type CamMethod = (typeof camMethods)[number]['id'];

const methodField = z
	.enum(camMethods.map((method) => method.id) as [CamMethod, ...CamMethod[]])
	.default('gradcam');
const layerField = z.enum(camLayers).default('conv5');

/** Which encoders to explain on which image, how and for what. */
export const explainParamsSchema = z
	.object({
		encoders: encoderRefs,
		...imageFields,
		method: methodField,
		layer: layerField,
		target: explainTargetSchema.default({ kind: 'predicted' }),
		/**
		 * The model-randomisation sanity check (Adebayo et al. 2018): each trained encoder's map
		 * is compared with the map of the same architecture at random init, same target.
		 */
		randomisationCheck: z.boolean().default(true)
	})
	.strict();

/** See {@link explainParamsSchema}. */
export type ExplainParams = z.infer<typeof explainParamsSchema>;

/** The linear probe behind a class target: a stored evaluation of this encoder on the dataset. */
export const probeInfoSchema = z.object({
	evaluationId: z.number().int(),
	/** The layer the probe reads. */
	layer: z.enum(featureLayers),
	/** Its top-1 test accuracy (0–1). */
	accuracy: z.number().nullable()
});

/** The probe's answer for the image. */
export const predictionSchema = z.object({
	classIndex: z.number().int(),
	/** Softmax probability of that class. */
	confidence: z.number(),
	/** The three most probable classes, most probable first. */
	top: z.array(z.object({ classIndex: z.number().int(), probability: z.number() }))
});

/** What a map actually explains (a `predicted` target resolves to a class or the embedding). */
export const resolvedTargetSchema = z.object({
	kind: z.enum(['class', 'embedding', 'class-mean']),
	classIndex: z.number().int().nullable(),
	/** In words, e.g. 'probe class "Sneaker" (predicted)'. */
	description: z.string()
});

/**
 * The model-randomisation check's cut-off: a trained encoder's map whose Spearman correlation
 * with the map of the same architecture at random init (same target) reaches this value fails.
 * Adebayo et al. (2018) judge the similarity by eye and by rank correlation without a fixed
 * threshold; 0.5 is this app's choice, always shown with the value so a user can judge.
 */
export const randomisationLimit = 0.5;

/** One encoder's map of the image. */
export const encoderMapSchema = z.object({
	label: z.string(),
	/** The layer this encoder's map was taken at (the request's, or its equivalent here). */
	layer: z.enum(featureLayers),
	runId: z.number().int(),
	randomInit: z.boolean(),
	/** The map at the result's `size`, one byte per pixel (0–255 = the map's min–max). */
	map: bytes,
	/** The target's value for the image. */
	score: z.number(),
	target: resolvedTargetSchema,
	probe: probeInfoSchema.nullable(),
	prediction: predictionSchema.nullable(),
	/** Deletion AUC of the target score (lower: the map found what matters). */
	deletion: z.number(),
	/** Insertion AUC (higher is better). */
	insertion: z.number(),
	/**
	 * Spearman correlation of this map with the map of the same architecture at random init
	 * (same target); null for a random-init encoder or when the check was not asked for. High
	 * values fail the check (see {@link randomisationLimit}): the map shows the architecture,
	 * not what was learned. Also null when either map is flat (all zero after the ReLU): a flat
	 * map has no ranking to compare.
	 */
	randomisation: z.number().nullable(),
	/**
	 * Spearman correlation of this map with the first encoder's (null for the first encoder and
	 * when either map is flat).
	 */
	agreementWithFirst: z.number().nullable(),
	/** Whether the map came from the result cache. */
	cached: z.boolean()
});

/** Maps at display size, the image they explain, and how much the first two agree. */
export const explainResultSchema = z.object({
	/** Display size of the image and of every map (square). */
	size: z.number().int(),
	/** The image, RGB bytes at `size²`. */
	rgb: bytes,
	/** The dataset's classes. */
	classes: z.array(z.string()),
	/** The image's class (a dataset image), else null. */
	labelIndex: z.number().int().nullable(),
	/** Its name. */
	label: z.string().nullable(),
	encoders: z.array(encoderMapSchema),
	/** Spearman rank correlation of the first two maps; null with one encoder or a flat map. */
	agreement: z.number().nullable()
});

/** See {@link explainResultSchema}. */
export type ExplainResult = z.infer<typeof explainResultSchema>;

/** Batch mode: maps of N test images under each encoder, and their agreement per class. */
export const explainBatchParamsSchema = z
	.object({
		encoders: encoderRefs.min(2),
		dataset: z.string().min(1),
		/** How many test images, spread evenly over the classes (or over one class). */
		count: z.number().int().min(1).max(500).default(40),
		/** Only images of this class. */
		classIndex: z.number().int().min(0).optional(),
		method: methodField,
		layer: layerField,
		/** `class` and `class-mean` need a class per image: use `true` or `predicted`. */
		target: z.enum(['predicted', 'true', 'embedding']).default('predicted')
	})
	.strict();

/** See {@link explainBatchParamsSchema}. */
export type ExplainBatchParams = z.infer<typeof explainBatchParamsSchema>;

/** One image of a batch. */
export const batchItemSchema = z.object({
	index: z.number().int(),
	labelIndex: z.number().int(),
	/** The image at the batch's `size`. */
	rgb: bytes,
	/** One map per encoder at `size`, bytes as in {@link encoderMapSchema}. */
	maps: z.array(bytes),
	/** Spearman correlation of the first two maps (null for a flat map). */
	agreement: z.number().nullable()
});

/** A batch's maps and agreement per class. */
export const explainBatchResultSchema = z.object({
	size: z.number().int(),
	classes: z.array(z.string()),
	/** One label per encoder, in the order asked. */
	labels: z.array(z.string()),
	items: z.array(batchItemSchema),
	perClass: z.array(
		z.object({
			classIndex: z.number().int(),
			count: z.number().int(),
			/** Mean of the images' agreements (flat maps left out); null when none. */
			meanAgreement: z.number().nullable()
		})
	),
	meanAgreement: z.number().nullable(),
	seconds: z.number()
});

/** See {@link explainBatchResultSchema}. */
export type ExplainBatchResult = z.infer<typeof explainBatchResultSchema>;

/** Progress of a long explain request (a batch, or the features of a neighbours gallery). */
export const explainProgressSchema = z.object({
	task: z.enum(['batch', 'neighbours']),
	done: z.number().int(),
	total: z.number().int(),
	message: z.string()
});

/** See {@link explainProgressSchema}. */
export type ExplainProgress = z.infer<typeof explainProgressSchema>;

/** The test images of a dataset, as thumbnails to pick from. */
export const explainImagesParamsSchema = z
	.object({
		dataset: z.string().min(1),
		/** Only this class's test images. */
		classIndex: z.number().int().min(0).optional(),
		/** Position in the (filtered) list of test images. */
		offset: z.number().int().min(0).default(0),
		limit: z.number().int().min(1).max(200).default(40)
	})
	.strict();

/** A page of thumbnails. */
export const explainImagesResultSchema = z.object({
	classes: z.array(z.string()),
	/** Test images in the (filtered) list. */
	total: z.number().int(),
	/** Thumbnail size (square). */
	size: z.number().int(),
	items: z.array(z.object({ index: z.number().int(), labelIndex: z.number().int(), rgb: bytes }))
});

/** First-layer filters of each encoder (the paper's "visualizing features" figure). */
export const explainFiltersParamsSchema = z.object({ encoders: encoderRefs }).strict();

/** Each encoder's conv1 filters as small RGB images. */
export const explainFiltersResultSchema = z.object({
	encoders: z.array(
		z.object({
			label: z.string(),
			runId: z.number().int(),
			randomInit: z.boolean(),
			/** Filter size (square). */
			kernel: z.number().int(),
			count: z.number().int(),
			/** `count × kernel² × 3` bytes, filter after filter, each scaled to 0–255 on its own. */
			rgb: bytes
		})
	)
});

/** The activation of one channel of a layer for the image, under each encoder. */
export const explainActivationsParamsSchema = z
	.object({
		encoders: encoderRefs,
		...imageFields,
		layer: z.enum(camLayers).default('conv1'),
		/** A channel of the layer; by default each encoder's most active one. */
		channel: z.number().int().min(0).optional()
	})
	.strict();

/** See {@link explainActivationsParamsSchema}. */
export type ExplainActivationsParams = z.infer<typeof explainActivationsParamsSchema>;

/** Each encoder's channel map. */
export const explainActivationsResultSchema = z.object({
	size: z.number().int(),
	encoders: z.array(
		z.object({
			label: z.string(),
			runId: z.number().int(),
			randomInit: z.boolean(),
			/** The layer shown (the request's, or its equivalent in this encoder). */
			layer: z.enum(featureLayers),
			channels: z.number().int(),
			channel: z.number().int(),
			/** The channel's activation at `size²`, 0–255 = 0 … the map's maximum. */
			map: bytes,
			/** Its largest value (the scale of the map). */
			max: z.number(),
			/** Mean activation of every channel, to find the active ones. */
			strengths: z.array(z.number())
		})
	)
});

/** Nearest neighbours of the image in the dataset's training split, under each encoder. */
export const explainNeighboursParamsSchema = z
	.object({
		encoders: encoderRefs,
		...imageFields,
		k: z.number().int().min(1).max(32).default(8),
		/** Features compared (cosine); conv blocks are global-average-pooled. */
		layer: z.enum(featureLayers).default('fc7'),
		/** At most this many training images form the gallery (a stratified subset). */
		maxGallery: z.number().int().min(10).max(100_000).default(5000)
	})
	.strict();

/** See {@link explainNeighboursParamsSchema}. */
export type ExplainNeighboursParams = z.infer<typeof explainNeighboursParamsSchema>;

/** The neighbours, nearest first. */
export const explainNeighboursResultSchema = z.object({
	/** Thumbnail size. */
	size: z.number().int(),
	classes: z.array(z.string()),
	galleryCount: z.number().int(),
	encoders: z.array(
		z.object({
			label: z.string(),
			runId: z.number().int(),
			randomInit: z.boolean(),
			neighbours: z.array(
				z.object({
					/** Index in the training split. */
					index: z.number().int(),
					labelIndex: z.number().int(),
					similarity: z.number(),
					rgb: bytes
				})
			),
			/** Share of the k neighbours with the query's class (dataset images only). */
			sameClass: z.number().nullable()
		})
	)
});
