/**
 * The explainer worker's state between requests: the datasets, encoders, probes and maps of the
 * last requests stay loaded, so stepping through images or switching the target costs one
 * Grad-CAM, not a dataset decode and a checkpoint read. Maps are cached per (encoder, image,
 * layer, method, target, probe).
 */
import { correspondingLayer, type FeatureLayer } from '../../core/encoders/architecture';
import type { Encoder } from '../../core/encoders/encoder';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { AppFailure } from '../../core/api/errors';
import type {
	ExplainActivationsParams,
	ExplainBatchParams,
	ExplainBatchResult,
	ExplainNeighboursParams,
	ExplainParams,
	ExplainResult,
	ExplainTarget
} from '../../core/api/explain';
import type { z } from 'zod';
import type {
	encoderMapSchema,
	explainActivationsResultSchema,
	explainFiltersResultSchema,
	explainImagesParamsSchema,
	explainImagesResultSchema,
	explainNeighboursResultSchema
} from '../../core/api/explain';
import type { BackendPreference } from '../../core/compute/backends';
import { imageAt, type EvalDataset } from '../../core/evaluation/dataset';
import { writeCentreView } from '../../core/evaluation/features';
import { buildEncoder, weightsKey, type EncoderRecipe } from '../../core/encoders/build';
import type { LinearProbe } from '../../core/evaluation/linear-probe';
import { channelActivation } from '../../core/explain/activations';
import { mapToBytes } from '../../core/explain/colormap';
import { firstLayerFilters } from '../../core/explain/filters';
import { computeCam, scaleToUnit, upsampleBilinear } from '../../core/explain/gradcam';
import { deletionInsertion, spearman } from '../../core/explain/sanity';
import { classMeanEmbedding, resolveTarget } from '../../core/explain/targets';
import type { SourceImage } from '../../core/training/augment';
import { activateBackend } from '../compute/activate-backend';
import { datasetSeed, openEvalDataset } from '../evaluation/evaluate-job';
import { readProbeForCam } from '../evaluation/probe-files';
import { decodeRgb, uploadFormat } from '../image-files';
import { readCheckpoint } from '../training/checkpoint-files';
import { runBatch } from './batch';
import { LruMap } from './lru';
import { nearestNeighbours } from './neighbours';

/** Display size of the image and the maps. */
export const displaySize = 160;
/** Size of the thumbnails of the image strip and of the neighbours. */
export const thumbnailSize = 64;
/**
 * Bytes of encoder weights kept loaded between requests. The wasm backend's heap ends at 4 GiB:
 * 1 GiB of cached weights leaves room for the maps' activations and a gallery's features.
 */
const encoderCacheBytes = 2 ** 30;
/** Uploads are scaled down to this shorter side first: the largest encoder input is 224 px. */
const uploadMaxSide = 512;
/** Training images per class averaged into a class-mean reference. */
const classMeanImages = 64;

/** One encoder, as the main process resolves it from the store. */
export interface EncoderSpec {
	runId: number;
	randomInit: boolean;
	label: string;
	/** Architecture, normalisation and random-init seed. */
	recipe: EncoderRecipe;
	/** Null for the random-init encoder. */
	checkpoint: { path: string; sha256: string; step: number } | null;
	/** The newest linear probe of this encoder on the request's dataset, if any. */
	probe: {
		evaluationId: number;
		path: string;
		layer: FeatureLayer;
		accuracy: number | null;
	} | null;
}

/** What every request carries besides its parameters. */
export interface SessionRequest<P> {
	params: P;
	encoders: EncoderSpec[];
}

/** Options of long requests. */
export interface LongRequestOptions {
	signal?: AbortSignal;
	onProgress?: (done: number, total: number, message: string) => void;
}

type EncoderMap = z.infer<typeof encoderMapSchema>;
type ImagesParams = z.output<typeof explainImagesParamsSchema>;

/** A map as cached: at display size, in [0, 1], with what it explains. */
interface CachedMap {
	map: Float32Array;
	score: number;
	/** Deletion/insertion AUCs; null when the map was made without them (batch mode). */
	faithfulness: { deletion: number; insertion: number } | null;
	target: EncoderMap['target'];
	prediction: EncoderMap['prediction'];
}

/** The image of a request, its cache key and its class. */
interface ResolvedImage {
	image: SourceImage;
	key: string;
	labelIndex: number | null;
}

/** The identity of an encoder's weights, for cache keys. */
export function encoderKey(spec: Pick<EncoderSpec, 'recipe' | 'checkpoint'>): string {
	return weightsKey(spec.recipe, spec.checkpoint);
}

/** The request's layer, or the one at the same depth in this encoder (conv5 ↔ layer4). */
function layerFor(spec: EncoderSpec, layer: FeatureLayer): FeatureLayer {
	return correspondingLayer(spec.recipe.architecture, layer);
}

/** The explainer worker's state; one per worker process. */
export class ExplainSession {
	private readonly datasets = new LruMap<string, EvalDataset>(2);
	/** Weights of the last encoders, up to ~1 GiB of the backend's memory (4 alexnets). */
	private readonly models = new LruMap<string, Encoder>(
		encoderCacheBytes,
		(encoder) => encoder.dispose(),
		(encoder) => 4 * encoder.weightCount()
	);
	private readonly probes = new LruMap<string, { probe: LinearProbe; layer: FeatureLayer }>(16);
	private readonly maps = new LruMap<string, CachedMap>(512);
	private readonly classMeans = new LruMap<string, Float32Array>(64);
	private activeBackend: BackendPreference | null = null;

	constructor(
		private readonly options: {
			backend: BackendPreference;
			/** Decoded datasets (`<data>/cache/datasets`). */
			cacheDir: string | null;
			/** Gallery features of the neighbours (`<data>/cache/features`). */
			featureDir: string | null;
		}
	) {}

	/** Grad-CAM of every encoder on one image. */
	async compute({ params, encoders }: SessionRequest<ExplainParams>): Promise<ExplainResult> {
		const dataset = await this.dataset(params.dataset);
		const image = await this.image(params, dataset);
		const explained: EncoderMap[] = [];
		const maps: Float32Array[] = [];
		for (const spec of encoders) {
			const { result, cached } = await this.mapOf(spec, image, dataset, params);
			let randomisation: number | null = null;
			if (params.randomisationCheck && spec.checkpoint) {
				const random = { ...spec, checkpoint: null, randomInit: true };
				// The same target: a class stays that class (through the same probe) even where the
				// random encoder would predict another.
				const target: ExplainTarget =
					result.target.kind === 'class' && result.target.classIndex !== null
						? { kind: 'class', classIndex: result.target.classIndex }
						: params.target;
				const control = await this.mapOf(
					random,
					image,
					dataset,
					{ ...params, target },
					{ probe: spec.probe, faithfulness: false }
				);
				randomisation = finiteOrNull(spearman(result.map, control.result.map));
			}
			maps.push(result.map);
			explained.push({
				label: spec.label,
				layer: layerFor(spec, params.layer),
				runId: spec.runId,
				randomInit: spec.randomInit,
				map: mapToBytes(result.map),
				score: result.score,
				target: result.target,
				probe: spec.probe
					? {
							evaluationId: spec.probe.evaluationId,
							layer: spec.probe.layer,
							accuracy: spec.probe.accuracy
						}
					: null,
				prediction: result.prediction,
				deletion: result.faithfulness?.deletion ?? Number.NaN,
				insertion: result.faithfulness?.insertion ?? Number.NaN,
				randomisation,
				agreementWithFirst:
					maps.length === 1 ? null : finiteOrNull(spearman(maps[0] as Float32Array, result.map)),
				cached
			});
		}
		const [first, second] = maps;
		return {
			size: displaySize,
			rgb: await resizeRgb(image.image, displaySize),
			classes: dataset.classes,
			labelIndex: image.labelIndex,
			label: image.labelIndex === null ? null : (dataset.classes[image.labelIndex] ?? null),
			encoders: explained,
			agreement: first && second ? finiteOrNull(spearman(first, second)) : null
		};
	}

	/** Maps of N test images and their agreement per class. */
	async batch(
		{ params, encoders }: SessionRequest<ExplainBatchParams>,
		options: LongRequestOptions = {}
	): Promise<ExplainBatchResult> {
		const dataset = await this.dataset(params.dataset);
		const single = {
			method: params.method,
			layer: params.layer,
			target: { kind: params.target } as ExplainTarget
		};
		return runBatch(params, {
			dataset,
			// The single view's size: a batch image's agreement is the one the single view shows.
			size: displaySize,
			labels: encoders.map((spec) => spec.label),
			signal: options.signal,
			onProgress: (done, total) =>
				options.onProgress?.(done, total, `Mapping image ${done} of ${total}`),
			explainImage: async (index) => {
				const image = await this.image({ index }, dataset);
				const maps: Float32Array[] = [];
				for (const spec of encoders) {
					const { result } = await this.mapOf(spec, image, dataset, single, {
						faithfulness: false
					});
					maps.push(result.map);
				}
				return { rgb: await resizeRgb(image.image, displaySize), maps };
			}
		});
	}

	/** A page of test-image thumbnails. */
	async images(params: ImagesParams): Promise<z.infer<typeof explainImagesResultSchema>> {
		const dataset = await this.dataset(params.dataset);
		const { labels } = dataset.test;
		const indices: number[] = [];
		for (let i = 0; i < labels.length; i++) {
			if (params.classIndex === undefined || labels[i] === params.classIndex) indices.push(i);
		}
		const page = indices.slice(params.offset, params.offset + params.limit);
		const items = [];
		for (const index of page) {
			items.push({
				index,
				labelIndex: labels[index] as number,
				rgb: await resizeRgb(imageAt(dataset.test.images, index), thumbnailSize)
			});
		}
		return { classes: dataset.classes, total: indices.length, size: thumbnailSize, items };
	}

	/** First-layer filters of every encoder. */
	async filters({
		encoders
	}: SessionRequest<unknown>): Promise<z.infer<typeof explainFiltersResultSchema>> {
		const result = [];
		for (const spec of encoders) {
			const filters = await firstLayerFilters(await this.encoder(spec));
			result.push({
				label: spec.label,
				runId: spec.runId,
				randomInit: spec.randomInit,
				...filters
			});
		}
		return { encoders: result };
	}

	/** One channel's activation under every encoder. */
	async activations({
		params,
		encoders
	}: SessionRequest<ExplainActivationsParams>): Promise<
		z.infer<typeof explainActivationsResultSchema>
	> {
		const dataset = await this.dataset(params.dataset);
		const image = await this.image(params, dataset);
		const result = [];
		for (const spec of encoders) {
			const encoder = await this.encoder(spec);
			const layer = layerFor(spec, params.layer);
			const activation = await channelActivation(
				encoder,
				centreView(encoder, image.image),
				layer,
				params.channel,
				displaySize
			);
			result.push({
				label: spec.label,
				runId: spec.runId,
				randomInit: spec.randomInit,
				layer,
				...activation
			});
		}
		return { size: displaySize, encoders: result };
	}

	/** The nearest training images under every encoder. */
	async neighbours(
		{ params, encoders }: SessionRequest<ExplainNeighboursParams>,
		options: LongRequestOptions = {}
	): Promise<z.infer<typeof explainNeighboursResultSchema>> {
		const dataset = await this.dataset(params.dataset);
		const image = await this.image(params, dataset);
		const result = [];
		let galleryCount = 0;
		for (const [position, spec] of encoders.entries()) {
			const encoder = await this.encoder(spec);
			const found = await nearestNeighbours(
				encoder,
				centreView(encoder, image.image),
				dataset.train,
				{
					layer: layerFor(spec, params.layer),
					k: params.k,
					maxGallery: params.maxGallery,
					seed: datasetSeed,
					featureCache: { dir: this.options.featureDir, encoderKey: encoderKey(spec) },
					signal: options.signal,
					onProgress: (done, total) =>
						options.onProgress?.(
							done,
							total,
							`Features of the gallery under ${spec.label} (${position + 1} of ${encoders.length})`
						)
				}
			);
			galleryCount = found.galleryCount;
			const neighbours = [];
			for (const neighbour of found.neighbours) {
				neighbours.push({
					...neighbour,
					rgb: await resizeRgb(imageAt(dataset.train.images, neighbour.index), thumbnailSize)
				});
			}
			const sameClass =
				image.labelIndex === null || neighbours.length === 0
					? null
					: neighbours.filter((n) => n.labelIndex === image.labelIndex).length / neighbours.length;
			result.push({
				label: spec.label,
				runId: spec.runId,
				randomInit: spec.randomInit,
				neighbours,
				sameClass
			});
		}
		return { size: thumbnailSize, classes: dataset.classes, galleryCount, encoders: result };
	}

	/** Frees every cached tensor (the worker is about to stop). */
	dispose(): void {
		this.models.clear();
		this.maps.clear();
	}

	/** One encoder's map of one image, from the cache when it was computed before. */
	private async mapOf(
		spec: EncoderSpec,
		image: ResolvedImage,
		dataset: EvalDataset,
		params: Pick<ExplainParams, 'method' | 'layer' | 'target'>,
		options: { probe?: EncoderSpec['probe']; faithfulness?: boolean } = {}
	): Promise<{ result: CachedMap; cached: boolean }> {
		const probeOverride = options.probe;
		const withFaithfulness = options.faithfulness ?? true;
		const probeSpec = probeOverride === undefined ? spec.probe : probeOverride;
		const layer = layerFor(spec, params.layer);
		const key = [
			encoderKey(spec),
			dataset.name,
			image.key,
			layer,
			params.method,
			JSON.stringify(params.target),
			probeSpec?.evaluationId ?? 'no-probe'
		].join('|');
		const hit = this.maps.get(key);
		// A map made in batch mode lacks the faithfulness curves: made again when they are needed.
		if (hit && (hit.faithfulness || !withFaithfulness)) return { result: hit, cached: true };
		const encoder = await this.encoder(spec);
		const input = centreView(encoder, image.image);
		const probe = probeSpec ? await this.probe(probeSpec.path) : null;
		const resolved = await resolveTarget(params.target, {
			encoder,
			input,
			probe: probe ? { probe: probe.probe, layer: probe.layer } : null,
			camLayer: layer,
			trueClass: image.labelIndex,
			classes: dataset.classes,
			classMean: (classIndex: number) => this.classMean(spec, encoder, dataset, classIndex),
			encoderLabel: spec.label,
			dataset: dataset.name
		});
		const cam = await computeCam(encoder, input, {
			method: params.method,
			layer,
			target: resolved.target
		});
		const faithfulness = withFaithfulness
			? await deletionInsertion(encoder, input, cam, resolved.target, { layer })
			: null;
		const result: CachedMap = {
			map: scaleToUnit(upsampleBilinear(cam.raw, cam.height, cam.width, displaySize)),
			score: cam.score,
			faithfulness: faithfulness && {
				deletion: faithfulness.deletion,
				insertion: faithfulness.insertion
			},
			target: resolved.resolved,
			prediction: resolved.prediction
		};
		this.maps.set(key, result);
		return { result, cached: false };
	}

	private async backend(): Promise<void> {
		if (this.activeBackend === this.options.backend) return;
		await activateBackend(this.options.backend);
		this.activeBackend = this.options.backend;
	}

	private dataset(name: string): Promise<EvalDataset> {
		return this.datasets.getOrCreate(name, () =>
			openEvalDataset(name, { seed: datasetSeed, cacheDir: this.options.cacheDir })
		);
	}

	private async encoder(spec: EncoderSpec): Promise<Encoder> {
		await this.backend();
		return this.models.getOrCreate(encoderKey(spec), () =>
			buildEncoder(
				spec.recipe,
				spec.checkpoint
					? readCheckpoint(spec.checkpoint.path, spec.checkpoint.sha256).tensors
					: null
			)
		);
	}

	private probe(path: string): Promise<{ probe: LinearProbe; layer: FeatureLayer }> {
		return this.probes.getOrCreate(path, () => readProbeForCam(path));
	}

	/** The mean embedding of a class's first training images (the class-mean target). */
	private async classMean(
		spec: EncoderSpec,
		encoder: Encoder,
		dataset: EvalDataset,
		classIndex: number
	): Promise<Float32Array> {
		const key = `${encoderKey(spec)}|${dataset.name}|${classIndex}`;
		const cached = this.classMeans.get(key);
		if (cached) return cached;
		if (classIndex >= dataset.classes.length) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`${dataset.name} has ${dataset.classes.length} classes; class ${classIndex} does not exist.`
			);
		}
		const inputs: Float32Array[] = [];
		const { labels, images } = dataset.train;
		for (let i = 0; i < labels.length && inputs.length < classMeanImages; i++) {
			if (labels[i] === classIndex) inputs.push(centreView(encoder, imageAt(images, i)));
		}
		const mean = await classMeanEmbedding(encoder, inputs);
		this.classMeans.set(key, mean);
		return mean;
	}

	/** A dataset test image or the uploaded one. */
	private async image(
		params: { index: number; upload?: { name: string; bytes: Uint8Array } | undefined },
		dataset: EvalDataset
	): Promise<ResolvedImage> {
		if (params.upload) {
			const { bytes, name } = params.upload;
			return {
				image: await decodeImage(bytes, name),
				key: `upload:${createHash('sha256').update(bytes).digest('hex')}`,
				labelIndex: null
			};
		}
		const count = dataset.test.images.count;
		if (params.index >= count) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`${dataset.name} has ${count} test images; index ${params.index} is past the end (0–${count - 1}).`
			);
		}
		return {
			image: imageAt(dataset.test.images, params.index),
			key: `test:${params.index}`,
			labelIndex: dataset.test.labels[params.index] ?? null
		};
	}
}

/** An uploaded image's pixels as RGB; a clear failure for anything that is not an image. */
export async function decodeImage(bytes: Uint8Array, name: string): Promise<SourceImage> {
	if (uploadFormat(bytes) === null) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Could not read ${JSON.stringify(name)} as an image: it is not a JPEG, PNG, WebP, GIF or TIFF file.`
		);
	}
	try {
		// Oriented as the user sees the photo; never larger than needed for a centre crop.
		return await decodeRgb(bytes, uploadMaxSide, { orient: true });
	} catch (error) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Could not read ${JSON.stringify(name)} as an image (${(error as Error).message}). Use a PNG, JPEG or WebP file.`
		);
	}
}

/** The encoder's centre view of an image (its input, normalised). */
function centreView(encoder: Encoder, image: SourceImage): Float32Array {
	const size = encoder.inputSize;
	const input = new Float32Array(size * size * 3);
	writeCentreView(image, size, input, 0, new Uint8Array(size * size * 3));
	return input;
}

/** The image resized to cover a square (as it is shown), RGB bytes. */
async function resizeRgb(image: SourceImage, size: number): Promise<Uint8Array> {
	const pixels = await sharp(
		Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length),
		{
			raw: { width: image.width, height: image.height, channels: 3 }
		}
	)
		.resize(size, size, { fit: 'cover' })
		.raw()
		.toBuffer();
	return new Uint8Array(pixels);
}

function finiteOrNull(value: number): number | null {
	return Number.isFinite(value) ? value : null;
}
