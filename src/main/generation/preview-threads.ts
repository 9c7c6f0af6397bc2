/**
 * Spreads a Studio preview grid over a pool of preview threads (one image per task, handed to
 * whichever thread is free), so a 4×4 grid of a slow generator takes about 1/cores of its
 * sequential time. The pool starts on the first grid and lives as long as the generator worker;
 * idle threads do not keep it alive.
 *
 * Textured dead leaves draw from a pool of slow textures: as an export does, a grid fills each
 * image's textures on all the threads first (into the persistent cache, shared with exports), so
 * images arrive as soon as their own textures exist rather than after one thread drew them all.
 */
import os from 'node:os';
import { AppFailure } from '../../core/api/errors';
import type { ConfigRequest } from '../../core/generators/registry';
import { ThreadPool } from '../threads/pool';
import { textureFillFor, type TextureProgress } from './texture-fill';

/** One rendered preview image. */
export interface PreviewImage {
	index: number;
	size: number;
	/** RGB, row-major, `size * size * 3` bytes. */
	rgb: Uint8Array;
	milliseconds: number;
}

/** A preview thread's task: one image of a configuration, or pool textures to fill. */
export type PreviewTask =
	| { config: ConfigRequest; seed: number; index: number }
	| { config: ConfigRequest; textures: number[] };

/** More threads than this would mostly add memory (each keeps its own generator caches). */
const maxThreads = 8;

/** The preview pool of one generator worker. */
export class PreviewThreads {
	private pool: Promise<ThreadPool<PreviewTask, PreviewImage | null>> | null = null;

	constructor(
		private readonly threadFile: string,
		/** Fill pool textures ahead of the images (the default; off only to measure without). */
		private readonly options: { fillTextures?: boolean } = {}
	) {}

	/**
	 * Draws `indices` of `config` on the pool and returns them in the order asked; `onImage` sees
	 * them in that order too, each as soon as it and those before it are drawn, and
	 * `onTextures` the progress of a texture fill. Stops handing out images and textures once
	 * `signal` aborts and then rejects with CANCELLED; a thread's failure rejects with its error.
	 */
	async render(
		config: ConfigRequest,
		seed: number,
		indices: readonly number[],
		signal: AbortSignal,
		onImage: (image: PreviewImage) => void,
		onTextures: (progress: TextureProgress) => void = () => {}
	): Promise<PreviewImage[]> {
		const pool = await this.started();
		const textures =
			this.options.fillTextures === false ? null : textureFillFor(config, seed, onTextures);
		const images: PreviewImage[] = [];
		let next = 0;
		let announced = 0;
		let failure: unknown = null;
		const stopped = () => failure !== null || signal.aborted;
		const fillOnThread = async (chunk: number[]) => {
			try {
				await pool.run({ config, textures: chunk });
			} catch (error) {
				failure ??= error;
			}
		};
		const feed = async () => {
			while (!stopped() && next < indices.length) {
				// Textures other feeders queued come before new images.
				if (textures && (await textures.fillQueued(fillOnThread, stopped))) continue;
				const position = next++;
				const index = indices[position] as number;
				if (textures) {
					await textures.prepare([index], fillOnThread, stopped);
					if (stopped()) break;
				}
				try {
					images[position] = (await pool.run({ config, seed, index })) as PreviewImage;
				} catch (error) {
					failure ??= error;
				}
				for (let image; (image = images[announced]) !== undefined; announced++) onImage(image);
			}
		};
		await Promise.all(Array.from({ length: Math.min(pool.size, indices.length) }, feed));
		if (failure !== null) {
			// A crashed pool is replaced on the next grid.
			if (pool.failure) this.pool = null;
			throw failure;
		}
		if (signal.aborted) throw new AppFailure('CANCELLED', 'Preview superseded.');
		return images;
	}

	private started(): Promise<ThreadPool<PreviewTask, PreviewImage | null>> {
		if (!this.pool) {
			const pool = ThreadPool.start<PreviewTask, PreviewImage>({
				file: this.threadFile,
				size: Math.max(1, Math.min(maxThreads, os.availableParallelism())),
				label: 'preview thread'
			});
			pool.catch(() => {
				if (this.pool === pool) this.pool = null;
			});
			this.pool = pool;
		}
		return this.pool;
	}
}
