import { describe, expect, it } from 'vitest';
import { resolveConfig, type ResolvedConfig } from '../../src/core/generators/registry';
import { texturesDrawnBy } from '../../src/core/generators/textures';
import { TextureFill, texturesPerTask } from '../../src/main/generation/texture-fill';

function textured(poolSize: number): ResolvedConfig {
	const resolved = resolveConfig({
		preset: 'dead_leaves-textures',
		size: 48,
		params: { texturePoolSize: poolSize }
	});
	if (!resolved.ok) throw new Error(resolved.message);
	return resolved.value;
}

/** Whether a promise has settled, after the callbacks queued so far have run. */
async function settled(promise: Promise<void>): Promise<boolean> {
	let done = false;
	void promise.then(() => (done = true));
	await new Promise((resolve) => setImmediate(resolve));
	return done;
}

const ascending = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

describe('filling the texture pool ahead of the images', () => {
	it('queues each texture once, oldest image first, in small tasks', () => {
		const config = textured(500);
		const fill = new TextureFill(config, 2);
		expect(fill.needed).toBe(true);
		const first = fill.request([0]);
		const second = fill.request([1]);
		expect(ascending(first)).toEqual(texturesDrawnBy(config, 2, 0));
		expect(ascending(second)).toEqual(texturesDrawnBy(config, 2, 1));
		const taken: number[] = [];
		for (let chunk = fill.take(); chunk.length > 0; chunk = fill.take()) {
			expect(chunk.length).toBeLessThanOrEqual(texturesPerTask);
			// Image 0's textures leave the queue before any texture only image 1 draws.
			if (chunk.some((texture) => !first.includes(texture))) expect(fill.queued(first)).toBe(false);
			taken.push(...chunk);
		}
		expect(ascending(taken)).toEqual(ascending(new Set([...first, ...second])));
		expect(taken).toHaveLength(new Set(taken).size);
		// Asking again for images whose textures are queued or filled queues nothing.
		fill.request([0, 1]);
		expect(fill.take()).toEqual([]);
	});

	it('lets an image go once its own textures are filled, whatever else is pending', async () => {
		const config = textured(500);
		const fill = new TextureFill(config, 2);
		const first = fill.request([0]);
		const second = fill.request([1]);
		const taken: number[][] = [];
		for (let chunk = fill.take(); chunk.length > 0; chunk = fill.take()) taken.push(chunk);
		const own = taken.filter((chunk) => chunk.some((texture) => first.includes(texture)));
		const others = taken.filter((chunk) => !own.includes(chunk));
		expect(others.length).toBeGreaterThan(0);
		for (const chunk of own.slice(1)) fill.settle(chunk);
		expect(await settled(fill.whenFilled(first))).toBe(false);
		fill.settle(own[0] as number[]);
		expect(await settled(fill.whenFilled(first))).toBe(true);
		expect(await settled(fill.whenFilled(second))).toBe(false);
		for (const chunk of others) fill.settle(chunk);
		expect(await settled(fill.whenFilled(second))).toBe(true);
	});

	it('stops listing images once the whole pool is asked for: they stand for the whole pool', async () => {
		const fill = new TextureFill(textured(3), 1);
		// A 48-px image draws more leaves than the pool has textures.
		expect(ascending(fill.request([0]))).toEqual([0, 1, 2]);
		const queued = fill.take();
		expect(ascending(fill.request([1]))).toEqual([0, 1, 2]);
		expect(fill.take()).toEqual([]);
		expect(await settled(fill.whenFilled([0, 1, 2]))).toBe(false);
		fill.settle(queued);
		expect(await settled(fill.whenFilled([0, 1, 2]))).toBe(true);
	});

	it('is not needed for configurations without pool textures', () => {
		const resolved = resolveConfig({ preset: 'dead_leaves-squares', size: 32 });
		if (!resolved.ok) throw new Error(resolved.message);
		expect(new TextureFill(resolved.value, 0).needed).toBe(false);
	});
});
