/**
 * The texture pool of `dead_leaves-textures`: texture i is image i of stat-spectrum_color_wmm
 * (the paper fills leaves with images of that dataset) with a fixed pool seed, so every dataset
 * draws from the same pool whatever its own seed. Textures are slow to synthesise, so each
 * process keeps the ones it has drawn, and the persistent cache (when installed) keeps them
 * across processes and runs.
 */
import type { RgbImage } from './image';
import { persisted } from './persistent-cache';
import { statistical, statisticalTexture } from './statistical/index';

/** The seed of the texture pool, fixed so that the pool is one reproducible set. */
export const texturePoolSeed = 0;

const cache = new Map<string, RgbImage>();

/** Returns texture `textureIndex` at `size` px, synthesising it on first use. */
export function poolTexture(textureIndex: number, size: number): RgbImage {
	const key = `${size}:${textureIndex}`;
	let texture = cache.get(key);
	if (!texture) {
		texture = persisted(
			`textures/statistical-v${statistical.version}/seed-${texturePoolSeed}/${size}/${textureIndex}`,
			() => statisticalTexture(texturePoolSeed, textureIndex, size),
			{
				encode: (image) => image.data,
				decode: (bytes) => {
					if (bytes.length !== size * size * 3)
						throw new RangeError('cached texture has the wrong size');
					return { size, data: bytes };
				}
			}
		);
		cache.set(key, texture);
	}
	return texture;
}
