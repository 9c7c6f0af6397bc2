import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/generators/registry';
import { PreviewThreads, type PreviewImage } from '../../src/main/generation/preview-threads';
import { distDir } from '../support/paths';

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
