/**
 * The generator worker: renders previews and runs dataset exports away from the main process.
 * Previews come back as raw RGB bytes (structured clone, no base64); exports stream progress.
 */
import path from 'node:path';
import { AppFailure } from '../../../core/api/errors';
import { diagnoseImages, type DatasetDiagnostics } from '../../../core/diagnostics/diagnostics';
import type { RgbImage } from '../../../core/generators/image';
import { generateOrExplain } from '../../../core/generators/generator';
import {
	resolveConfig,
	type ConfigRequest,
	type ResolvedConfig
} from '../../../core/generators/registry';
import type { TaskSpec } from '../../../core/workers/protocol';
import {
	exportDataset,
	type ExportProgress,
	type ExportRequest,
	type ExportSummary
} from '../../generation/export-dataset';
import { activateGeneratorBackend } from '../../compute/activate-backend';
import { installWasmStyleganConvolutions } from '../../compute/kernels/wasm-stylegan-conv';
import { installCacheFromEnvironment } from '../../generation/disk-cache';
import { PreviewThreads, type PreviewImage } from '../../generation/preview-threads';
import type { TextureProgress } from '../../generation/texture-fill';
import { serveWorker } from '../runtime';

/** What a preview asks for: a configuration and the indices to draw. */
export interface PreviewRequest extends ConfigRequest {
	seed: number;
	indices: number[];
}

/** What diagnostics ask for: a configuration and how many images to measure. */
export interface DiagnosticsRequest extends ConfigRequest {
	seed: number;
	count: number;
}

/** What a speed measurement asks for: a configuration and how long to generate for. */
export interface MeasureRequest extends ConfigRequest {
	seed: number;
	/** Seconds of steady generation after the first (cold) image. */
	seconds: number;
}

/** A generator's measured speed on this thread. */
export interface SpeedMeasurement {
	/** The first image, cold: tables, caches, networks included. */
	firstImageSeconds: number;
	/** Images drawn after the first, and how long they took. */
	images: number;
	seconds: number;
}

/** A preview's progress: an image as soon as it is drawn, or how far its texture fill is. */
export type PreviewProgress = { image: PreviewImage } | { textures: TextureProgress };

/** The generator worker's tasks. */
export type GeneratorTasks = {
	measure: TaskSpec<MeasureRequest, SpeedMeasurement, never>;
	preview: TaskSpec<PreviewRequest, PreviewImage[], PreviewProgress>;
	diagnostics: TaskSpec<DiagnosticsRequest, DatasetDiagnostics, { done: number; total: number }>;
	export: TaskSpec<ExportRequest, ExportSummary, ExportProgress>;
};

async function resolveOrFail(request: ConfigRequest): Promise<ResolvedConfig> {
	const resolved = resolveConfig(request);
	if (!resolved.ok) throw new AppFailure('INVALID_REQUEST', resolved.message);
	if (resolved.value.generator.family === 'feature_vis') await activateGeneratorBackend();
	return resolved.value;
}

/**
 * Lets the event loop run, so that a cancel message sent while images are being drawn is
 * received before the next one (generators are synchronous).
 */
function yieldToMessages(): Promise<void> {
	return new Promise((resolve) => setImmediate(resolve));
}

installCacheFromEnvironment();
installWasmStyleganConvolutions();

/** Previews other than feature visualisation are spread over these threads. */
const previewThreads = new PreviewThreads(path.join(__dirname, 'preview-thread.cjs'));

serveWorker<GeneratorTasks>({
	measure: async (request, { signal }) => {
		const { generator, params, size } = await resolveOrFail(request);
		const cold = performance.now();
		await generateOrExplain(generator, params, request.seed, 0, size);
		const firstImageSeconds = (performance.now() - cold) / 1000;
		const started = performance.now();
		let images = 0;
		// Indices spread over the dataset, so cached per-category work is not reused unfairly.
		while ((performance.now() - started) / 1000 < request.seconds || images < 1) {
			await yieldToMessages();
			if (signal.aborted) throw new AppFailure('CANCELLED', 'Measurement cancelled.');
			await generator.generate(params, request.seed, 1 + images * 7919, size);
			images++;
		}
		return { firstImageSeconds, images, seconds: (performance.now() - started) / 1000 };
	},
	preview: async (request, { signal, progress }) => {
		const { generator, params, size } = await resolveOrFail(request);
		// Feature visualisation computes with tfjs, which this worker has set up: it stays here.
		if (generator.family !== 'feature_vis') {
			const { seed, indices, ...config } = request;
			return previewThreads.render(
				config,
				seed,
				indices,
				signal,
				(image) => progress({ image }),
				(textures) => progress({ textures })
			);
		}
		const images: PreviewImage[] = [];
		for (const index of request.indices) {
			await yieldToMessages();
			// A newer preview request cancels this one; stop between images.
			if (signal.aborted) throw new AppFailure('CANCELLED', 'Preview superseded.');
			const started = performance.now();
			const image = await generateOrExplain(generator, params, request.seed, index, size);
			const preview = {
				index,
				size: image.size,
				rgb: image.data,
				milliseconds: performance.now() - started
			};
			images.push(preview);
			progress({ image: preview });
		}
		return images;
	},
	diagnostics: async (request, { signal, progress }) => {
		const { generator, params, size } = await resolveOrFail(request);
		const images: RgbImage[] = [];
		for (let index = 0; index < request.count; index++) {
			await yieldToMessages();
			if (signal.aborted) throw new AppFailure('CANCELLED', 'Diagnostics superseded.');
			images.push(await generateOrExplain(generator, params, request.seed, index, size));
			if (index % 8 === 7) progress({ done: index + 1, total: request.count });
		}
		return diagnoseImages(images);
	},
	export: async (request, { signal, progress }) => {
		const result = await exportDataset(request, {
			threadFile: path.join(__dirname, 'generate-thread.cjs'),
			signal,
			onProgress: progress
		});
		if (!result.ok) throw new AppFailure(result.error.code, result.error.message);
		return result.value;
	}
});
