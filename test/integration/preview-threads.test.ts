import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/generators/registry';
import { statistical } from '../../src/core/generators/statistical';
import { texturePoolSeed, texturesDrawnBy } from '../../src/core/generators/textures';
import { cacheDirVariable } from '../../src/main/generation/disk-cache';
import { PreviewThreads, type PreviewImage } from '../../src/main/generation/preview-threads';
import type { TextureProgress } from '../../src/main/generation/texture-fill';
import { distDir, temporaryFolder } from '../support/paths';

const threadFile = path.join(distDir, 'workers', 'preview-thread.cjs');

async function expected(preset: string, seed: number, index: number, size: number) {
	const resolved = resolveConfig({ preset, size });
	if (!resolved.ok) throw new Error(resolved.message);
	const { generator, params } = resolved.value;
	return (await generator.generate(params, seed, index, size)).data;
}

describe('preview threads', () => {
	it('draws a grid on the pool: the generator’s bytes, in the order asked, announced in that order', async () => {
		const threads = new PreviewThreads(threadFile);
		const indices = [5, 0, 3, 1, 4, 2];
		const announced: PreviewImage[] = [];
		const images = await threads.render(
			{ preset: 'stat-spectrum', size: 32 },
			3,
			indices,
			new AbortController().signal,
			(image) => announced.push(image)
		);
		expect(images.map((image) => image.index)).toEqual(indices);
		expect(announced).toEqual(images);
		for (const image of images) {
			expect(image.size).toBe(32);
			expect(
				Buffer.from(image.rgb).equals(
					Buffer.from(await expected('stat-spectrum', 3, image.index, 32))
				)
			).toBe(true);
		}
		// The pool stays up for the next grid, which may name another configuration.
		const [next] = await threads.render(
			{ preset: 'control-white_noise', size: 48 },
			1,
			[7],
			new AbortController().signal,
			() => {}
		);
		expect(
			Buffer.from(next?.rgb ?? []).equals(
				Buffer.from(await expected('control-white_noise', 1, 7, 48))
			)
		).toBe(true);
	});

	it('stops handing out images once cancelled', async () => {
		const threads = new PreviewThreads(threadFile);
		const controller = new AbortController();
		const announced: number[] = [];
		const grid = threads.render(
			{ preset: 'stat-spectrum', size: 32 },
			1,
			Array.from({ length: 64 }, (_, i) => i),
			controller.signal,
			(image) => {
				announced.push(image.index);
				controller.abort();
			}
		);
		await expect(grid).rejects.toMatchObject({ code: 'CANCELLED' });
		expect(announced.length).toBeLessThan(64);
	});

	it('fails a grid with the configuration’s error', async () => {
		const threads = new PreviewThreads(threadFile);
		await expect(
			threads.render(
				{ generator: 'statistical', params: { slopeLow: 99 } },
				0,
				[0],
				new AbortController().signal,
				() => {}
			)
		).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
	});
});

describe('preview threads on textured dead leaves', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	let before: string | undefined;
	beforeEach(() => {
		folder = temporaryFolder();
		before = process.env[cacheDirVariable];
		// Read by the threads when they start, as the generator worker hands them the app's cache.
		process.env[cacheDirVariable] = folder.path;
	});
	afterEach(() => {
		if (before === undefined) Reflect.deleteProperty(process.env, cacheDirVariable);
		else process.env[cacheDirVariable] = before;
		folder.remove();
	});

	/** The 32 px pool textures in the cache folder (where exports find them too). */
	function cachedTextures(): Set<number> {
		const pool = path.join(
			folder.path,
			'textures',
			`statistical-v${statistical.version}`,
			`seed-${texturePoolSeed}`,
			'32'
		);
		return new Set(fs.existsSync(pool) ? fs.readdirSync(pool).map(Number) : []);
	}

	function textured(poolSize: number) {
		const resolved = resolveConfig({
			preset: 'dead_leaves-textures',
			size: 32,
			params: { texturePoolSize: poolSize }
		});
		if (!resolved.ok) throw new Error(resolved.message);
		return resolved.value;
	}

	it('fills each image’s textures into the cache before drawing it, with progress, drawing the same bytes', async () => {
		const params = { texturePoolSize: 200 };
		const config = textured(200);
		const threads = new PreviewThreads(threadFile);
		const indices = [0, 1, 2, 3];
		const progress: TextureProgress[] = [];
		const missingWhenAnnounced: number[] = [];
		const images = await threads.render(
			{ preset: 'dead_leaves-textures', size: 32, params },
			5,
			indices,
			new AbortController().signal,
			(image) => {
				const cached = cachedTextures();
				for (const texture of texturesDrawnBy(config, 5, image.index))
					if (!cached.has(texture)) missingWhenAnnounced.push(texture);
			},
			(step) => progress.push(step)
		);
		expect(missingWhenAnnounced).toEqual([]);
		const drawn = new Set(indices.flatMap((index) => texturesDrawnBy(config, 5, index)));
		// Only the textures the images draw, each once, and the progress counts them all.
		expect([...cachedTextures()].sort((a, b) => a - b)).toEqual([...drawn].sort((a, b) => a - b));
		expect(progress.at(-1)).toEqual({ filled: drawn.size, requested: drawn.size });
		for (let k = 1; k < progress.length; k++)
			expect(progress[k]?.filled).toBeGreaterThanOrEqual(progress[k - 1]?.filled ?? 0);
		for (const image of images) {
			const expected = await config.generator.generate(config.params, 5, image.index, 32);
			expect(Buffer.from(image.rgb).equals(Buffer.from(expected.data))).toBe(true);
		}
	});

	it('stops filling once cancelled, and the next grid goes on from the textures filled', async () => {
		const params = { texturePoolSize: 200 };
		const config = textured(200);
		const ownTextures = texturesDrawnBy(config, 5, 0);
		const threads = new PreviewThreads(threadFile);
		const controller = new AbortController();
		const announced: number[] = [];
		const cancelled = threads.render(
			{ preset: 'dead_leaves-textures', size: 32, params },
			5,
			[0, 1, 2, 3],
			controller.signal,
			(image) => announced.push(image.index),
			() => controller.abort()
		);
		await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
		expect(announced).toEqual([]);
		// The first chunk and at most one chunk in flight per thread (4 textures each), of the
		// 100-odd image 0 draws.
		const filled = cachedTextures().size;
		expect(filled).toBeGreaterThan(0);
		expect(filled).toBeLessThanOrEqual(4 * 9);
		expect(ownTextures.length).toBeGreaterThan(4 * 9);

		const [image] = await threads.render(
			{ preset: 'dead_leaves-textures', size: 32, params },
			5,
			[0],
			new AbortController().signal,
			() => {}
		);
		const expected = await config.generator.generate(config.params, 5, 0, 32);
		expect(Buffer.from(image?.rgb ?? []).equals(Buffer.from(expected.data))).toBe(true);
		expect([...cachedTextures()].sort((a, b) => a - b)).toEqual(ownTextures);
	});
});
