/**
 * Spreads a Studio preview grid over a pool of preview threads (one image per task, handed to
 * whichever thread is free), so a 4×4 grid of a slow generator takes about 1/cores of its
 * sequential time. The pool starts on the first grid and lives as long as the generator worker;
 * idle threads do not keep it alive.
 */
import os from 'node:os';
import { AppFailure } from '../../core/api/errors';
import type { ConfigRequest } from '../../core/generators/registry';
import { ThreadPool } from '../threads/pool';

/** One rendered preview image. */
export interface PreviewImage {
	index: number;
	size: number;
	/** RGB, row-major, `size * size * 3` bytes. */
	rgb: Uint8Array;
	milliseconds: number;
}

/** A preview thread's task: one image of a configuration. */
export interface PreviewTask {
	config: ConfigRequest;
	seed: number;
	index: number;
}

/** More threads than this would mostly add memory (each keeps its own generator caches). */
const maxThreads = 8;

/** The preview pool of one generator worker. */
export class PreviewThreads {
	private pool: Promise<ThreadPool<PreviewTask, PreviewImage>> | null = null;

	constructor(private readonly threadFile: string) {}

	/**
	 * Draws `indices` of `config` on the pool and returns them in the order asked; `onImage` sees
	 * them in that order too, each as soon as it and those before it are drawn. Stops handing out images once `signal` aborts and then
	 * rejects with CANCELLED; a thread's failure rejects with its error.
	 */
	async render(
		config: ConfigRequest,
		seed: number,
		indices: readonly number[],
		signal: AbortSignal,
		onImage: (image: PreviewImage) => void
	): Promise<PreviewImage[]> {
		const pool = await this.started();
		const images: PreviewImage[] = [];
		let next = 0;
		let announced = 0;
		let failure: unknown = null;
		const feed = async () => {
			while (failure === null && !signal.aborted && next < indices.length) {
				const position = next++;
				try {
					images[position] = await pool.run({ config, seed, index: indices[position] as number });
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

	private started(): Promise<ThreadPool<PreviewTask, PreviewImage>> {
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
