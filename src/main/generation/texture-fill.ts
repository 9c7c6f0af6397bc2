/**
 * Fills the texture pool of dead_leaves-textures ahead of the images that need it, spread over
 * the export threads: before an image is handed out, the textures it draws (listed cheaply by
 * {@link texturesDrawnBy}) are queued, every free thread fills queued textures (oldest first)
 * before taking images, and the image goes out as soon as its own textures are in the persistent
 * cache. So the first
 * images arrive after their own textures (a few hundred) are drawn on all cores, instead of
 * after one thread has drawn them alone, and no two threads draw the same texture.
 */
import type { ResolvedConfig } from '../../core/generators/registry';
import { texturePoolSizeOf, texturesDrawnBy } from '../../core/generators/textures';

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
		private readonly seed: number
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
			this.settlers.get(texture)?.();
			this.settlers.delete(texture);
		}
	}
}
