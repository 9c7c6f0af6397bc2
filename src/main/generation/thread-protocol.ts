import type { ImageFormat } from '../../core/generators/manifest';

/** What every export thread is set up with: the dataset it renders, apart from the indices. */
export interface RenderJob {
	config: { preset?: string; generator?: string; params?: Record<string, unknown>; size?: number };
	seed: number;
	format: ImageFormat;
	quality: number;
	outDir: string;
}

/**
 * A task of an export thread: the image indices to render and write, in order, or pool textures
 * to fill into the persistent cache (textured dead leaves; see `texture-fill.ts`).
 */
export type RenderTask = { images: number[] } | { textures: number[] };

/** The event an export thread emits for each image written. */
export interface RenderedImage {
	index: number;
	bytes: number;
}
