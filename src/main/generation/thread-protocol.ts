import type { AppError } from '../../core/api/errors';
import type { ImageFormat } from '../../core/generators/manifest';

/** What an export job asks every thread to do, apart from the indices. */
export interface RenderJob {
	config: { preset?: string; generator?: string; params?: Record<string, unknown>; size?: number };
	seed: number;
	format: ImageFormat;
	quality: number;
	outDir: string;
}

/** A batch of images for one thread. */
export interface RenderBatch {
	job: RenderJob;
	indices: number[];
}

/** A thread's messages: one per written image, then the end of the batch or its failure. */
export type ThreadReply =
	| { kind: 'rendered'; index: number; bytes: number }
	| { kind: 'batch-done' }
	| { kind: 'failed'; error: AppError };
