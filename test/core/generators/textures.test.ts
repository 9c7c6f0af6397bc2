import { describe, expect, it } from 'vitest';
import { createDeadLeavesGenerator } from '../../../src/core/generators/dead-leaves/index';
import { resolveConfig, type ResolvedConfig } from '../../../src/core/generators/registry';
import { texturePoolSizeOf, texturesDrawnBy } from '../../../src/core/generators/textures';

function config(request: Parameters<typeof resolveConfig>[0]): ResolvedConfig {
	const resolved = resolveConfig(request);
	if (!resolved.ok) throw new Error(resolved.message);
	return resolved.value;
}

describe('the textures an image draws', () => {
	it('are exactly those that drawing the image asks the pool for', async () => {
		const textured = config({
			preset: 'dead_leaves-textures',
			size: 48,
			params: { texturePoolSize: 40 }
		});
		for (const index of [0, 1, 7]) {
			const asked = new Set<number>();
			const generator = createDeadLeavesGenerator((textureIndex, size) => {
				asked.add(textureIndex);
				return { size, data: new Uint8Array(size * size * 3) };
			});
			await generator.generate(textured.params, 5, index, 48);
			const listed = texturesDrawnBy(textured, 5, index);
			expect(listed).toEqual([...asked].sort((a, b) => a - b));
			expect(listed.length).toBeGreaterThan(1);
			expect(listed.every((texture) => texture >= 0 && texture < 40)).toBe(true);
		}
		expect(texturePoolSizeOf(textured)).toBe(40);
	});

	it('are none for untextured leaves and other generators', () => {
		for (const preset of ['dead_leaves-squares', 'stat-spectrum', 'control-white_noise']) {
			const plain = config({ preset, size: 32 });
			expect(texturesDrawnBy(plain, 1, 0)).toEqual([]);
			expect(texturePoolSizeOf(plain)).toBe(0);
		}
	});
});
