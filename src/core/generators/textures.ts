/**
 * The texture pool of `dead_leaves-textures`: texture i is image i of stat-spectrum_color_wmm
 * (the paper fills leaves with images of that dataset) with a fixed pool seed, so every dataset
 * draws from the same pool whatever its own seed. Textures are slow to synthesise, so each
 * process keeps the ones it has drawn, and the persistent cache (when installed) keeps them
 * across processes and runs.
 */
import { drawDeadLeaves, type DeadLeavesParams } from './dead-leaves/index';
import type { RgbImage } from './image';
import { persisted } from './persistent-cache';
import type { ResolvedConfig } from './registry';
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

/** The parts of a resolved configuration that say what an image draws. */
type DrawnConfig = Pick<ResolvedConfig, 'generator' | 'params' | 'size'>;

/** The dead-leaves parameters of a textured dead-leaves configuration, else null. */
function texturedLeaves(config: DrawnConfig): DeadLeavesParams | null {
	const leaves = config.params as unknown as DeadLeavesParams;
	return config.generator.id === 'dead_leaves' && leaves.textured ? leaves : null;
}

/** The number of distinct textures a configuration draws from: 0 unless textured dead leaves. */
export function texturePoolSizeOf(config: DrawnConfig): number {
	return texturedLeaves(config)?.texturePoolSize ?? 0;
}

/**
 * The pool textures that image `index` draws, ascending (none unless textured dead leaves).
 * Found by drawing the leaves with blank textures, milliseconds against a quarter of a second
 * per texture, so that a host can fill them on several threads before the image is drawn (the
 * threads then find them in the persistent cache).
 */
export function texturesDrawnBy(config: DrawnConfig, seed: number, index: number): number[] {
	const leaves = texturedLeaves(config);
	if (!leaves) return [];
	const { size } = config;
	const drawn = new Set<number>();
	const blank: RgbImage = { size, data: new Uint8Array(size * size * 3) };
	drawDeadLeaves(leaves, seed, index, size, {
		textures: (textureIndex) => {
			drawn.add(textureIndex);
			return blank;
		}
	});
	return [...drawn].sort((a, b) => a - b);
}
