/**
 * Fills the texture pool of dead_leaves-textures ahead of the images that need it, spread over
 * a pool of threads (the export threads, or a Studio preview's threads): before an image is handed out, the textures it draws (listed cheaply by
 * {@link texturesDrawnBy}) are queued, every free thread fills queued textures (oldest first)
 * before taking images, and the image goes out as soon as its own textures are in the persistent
 * cache. So the first
 * images arrive after their own textures (a few hundred) are drawn on all cores, instead of
 * after one thread has drawn them alone, and no two threads draw the same texture.
 */
import {
	resolveConfig,
	type ConfigRequest,
	type ResolvedConfig
} from '../../core/generators/registry';
import { texturePoolSizeOf, texturesDrawnBy } from '../../core/generators/textures';
import { cacheDirVariable } from './disk-cache';

/** Textures handed to a thread at once: small, so that all threads share the first image's. */
export const texturesPerTask = 4;

export class TextureFill {
	/** Each texture asked for, settled once a thread has filled it (or failed to). */
	private readonly requested = new Map<number, Promise<void>>();
	private readonly settlers = new Map<number, () => void>();
	/** Textures waiting for a thread, oldest first (so earlier images' come first). */
	private readonly queue: number[] = [];
	private readonly poolSize: number;

	constructor(
		private readonly config: Pick<ResolvedConfig, 'generator' | 'params' | 'size'>,
		private readonly seed: number,
		/** Told after each settled chunk. */
		private readonly onProgress: (progress: TextureProgress) => void = () => {}
	) {
		this.poolSize = texturePoolSizeOf(config);
	}

	/** Whether the configuration draws pool textures at all. */
	get needed(): boolean {
		return this.poolSize > 0;
	}

	/**
	 * Queues the textures of `images` that nobody asked for yet and returns all their textures,
	 * for {@link queued} and {@link whenFilled}. Once the whole pool is asked for, images are no
	 * longer listed: they stand for the whole pool.
	 */
	request(images: readonly number[]): number[] {
		if (this.requested.size >= this.poolSize) return [...this.requested.keys()];
		const wanted = new Set<number>();
		for (const image of images) {
			for (const texture of texturesDrawnBy(this.config, this.seed, image)) {
				wanted.add(texture);
				if (this.requested.has(texture)) continue;
				this.requested.set(texture, new Promise((resolve) => this.settlers.set(texture, resolve)));
				this.queue.push(texture);
			}
		}
		return [...wanted];
	}

	/** Whether any of `textures` is still waiting for a thread to take it. */
	queued(textures: readonly number[]): boolean {
		const wanted = new Set(textures);
		return this.queue.some((texture) => wanted.has(texture));
	}

	/** Resolves once every one of `textures` (asked for before) is filled or given up on. */
	whenFilled(textures: readonly number[]): Promise<void> {
		return Promise.all(textures.map((texture) => this.requested.get(texture))).then(
			() => undefined
		);
	}

	/** Takes up to {@link texturesPerTask} queued textures for a thread to fill. */
	take(): number[] {
		return this.queue.splice(0, texturesPerTask);
	}

	/** Marks textures as filled, or given up on: their images may go ahead either way. */
	settle(textures: readonly number[]): void {
		for (const texture of textures) {
			if (this.settlers.has(texture)) this.settled++;
			this.settlers.get(texture)?.();
			this.settlers.delete(texture);
		}
		this.onProgress({ filled: this.settled, requested: this.requested.size });
	}

	private settled = 0;

	/**
	 * Hands queued textures to `fill` (a thread's task, which reports its own failure rather than
	 * throwing), up to `tasks` chunks and until `stopped` (cancelled, failed), settling each chunk
	 * when it returns; says whether there were any.
	 */
	async fillQueued(fill: FillTask, stopped: () => boolean, tasks = Infinity): Promise<boolean> {
		let filled = false;
		for (let done = 0; done < tasks && !stopped(); done++) {
			const chunk = this.take();
			if (chunk.length === 0) break;
			filled = true;
			try {
				await fill(chunk);
			} finally {
				this.settle(chunk);
			}
		}
		return filled;
	}

	/**
	 * Resolves once the textures of `images` are filled, or as soon as `stopped`: queues them,
	 * fills queued ones through `fill` until all of these are taken, then waits for those other
	 * threads still fill.
	 */
	async prepare(images: readonly number[], fill: FillTask, stopped: () => boolean): Promise<void> {
		const wanted = this.request(images);
		while (this.queued(wanted) && (await this.fillQueued(fill, stopped, 1))) continue;
		// Stopped with some of them never taken, waiting would never end.
		if (!stopped()) await this.whenFilled(wanted);
	}
}

/** How far a fill is: textures filled (or given up on) of those asked for so far. */
export interface TextureProgress {
	filled: number;
	requested: number;
}

/**
 * The texture fill of a configuration that draws pool textures, where threads share filled
 * textures through a persistent cache (the parent named one); else null, and each thread draws
 * what it needs.
 */
export function textureFillFor(
	config: ConfigRequest,
	seed: number,
	onProgress?: (progress: TextureProgress) => void
): TextureFill | null {
	if (!process.env[cacheDirVariable]) return null;
	const resolved = resolveConfig(config);
	const fill = resolved.ok ? new TextureFill(resolved.value, seed, onProgress) : null;
	return fill?.needed ? fill : null;
}

/** Fills a chunk of textures on a thread; resolves (never rejects) when that is done or failed. */
export type FillTask = (textures: number[]) => Promise<void>;
