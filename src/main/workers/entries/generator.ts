/**
 * The generator worker: renders previews and runs dataset exports away from the main process.
 * Previews come back as raw RGB bytes (structured clone, no base64); exports stream progress.
 */
import path from 'node:path';
import { AppFailure } from '../../../core/api/errors';
import { resolveConfig } from '../../../core/generators/registry';
import type { TaskSpec } from '../../../core/workers/protocol';
import {
	exportDataset,
	type ExportProgress,
	type ExportRequest,
	type ExportSummary
} from '../../generation/export-dataset';
import { serveWorker } from '../runtime';

/** What a preview asks for: a configuration and the indices to draw. */
export interface PreviewRequest {
	preset?: string;
	generator?: string;
	params?: Record<string, unknown>;
	size?: number;
	seed: number;
	indices: number[];
}

/** One rendered preview image. */
export interface PreviewImage {
	index: number;
	size: number;
	/** RGB, row-major, `size * size * 3` bytes. */
	rgb: Uint8Array;
	milliseconds: number;
}

/** The generator worker's tasks. */
export type GeneratorTasks = {
	preview: TaskSpec<PreviewRequest, PreviewImage[], PreviewImage>;
	export: TaskSpec<ExportRequest, ExportSummary, ExportProgress>;
};

serveWorker<GeneratorTasks>({
	preview: async (request, { signal, progress }) => {
		const resolved = resolveConfig(request);
		if (!resolved.ok) throw new AppFailure('INVALID_REQUEST', resolved.message);
		const { generator, params, size } = resolved.value;
		const images: PreviewImage[] = [];
		for (const index of request.indices) {
			// A newer preview request cancels this one; stop between images.
			if (signal.aborted) throw new AppFailure('CANCELLED', 'Preview superseded.');
			const started = performance.now();
			const image = await generator.generate(params, request.seed, index, size);
			const preview = {
				index,
				size: image.size,
				rgb: image.data,
				milliseconds: performance.now() - started
			};
			images.push(preview);
			progress(preview);
		}
		return images;
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
