/**
 * The texture pool of `dead_leaves-textures`: texture i is image i of stat-spectrum_color_wmm
 * (the paper fills leaves with images of that dataset) with a fixed pool seed, so every dataset
 * draws from the same pool whatever its own seed. Textures are slow to synthesise, so each
 * process keeps the ones it has drawn.
 */
import type { RgbImage } from './image';
import { statisticalTexture } from './statistical/index';

/** The seed of the texture pool, fixed so that the pool is one reproducible set. */
export const texturePoolSeed = 0;

const cache = new Map<string, RgbImage>();

/** Returns texture `textureIndex` at `size` px, synthesising it on first use. */
export function poolTexture(textureIndex: number, size: number): RgbImage {
	const key = `${size}:${textureIndex}`;
	let texture = cache.get(key);
	if (!texture) {
		texture = statisticalTexture(texturePoolSeed, textureIndex, size);
		cache.set(key, texture);
	}
	return texture;
}
