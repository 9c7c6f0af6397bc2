import type { ImageFormat } from '../../core/generators/manifest';

/** What every export thread is set up with: the dataset it renders, apart from the indices. */
export interface RenderJob {
	config: { preset?: string; generator?: string; params?: Record<string, unknown>; size?: number };
	seed: number;
	format: ImageFormat;
	quality: number;
	outDir: string;
}

/** A task of an export thread: the indices to render and write, in order. */
export type RenderTask = number[];

/** The event an export thread emits for each image written. */
export interface RenderedImage {
	index: number;
	bytes: number;
}
