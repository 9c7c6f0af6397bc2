import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
	installPersistentCache,
	jsonCodec,
	persisted
} from '../../src/core/generators/persistent-cache';
import { statisticalTexture } from '../../src/core/generators/statistical/index';
import { poolTexture, texturePoolSeed } from '../../src/core/generators/textures';
import { diskCache } from '../../src/main/generation/disk-cache';
import { temporaryFolder } from '../support/paths';

describe('the persistent generator cache', () => {
	const folder = temporaryFolder();
	afterEach(() => installPersistentCache(null));

	it('computes once, then reads the stored value back, also in a "new process"', () => {
		installPersistentCache(diskCache(folder.path));
		const compute = vi.fn(() => ({ maps: [{ a: 0.1 + 0.2, b: -1 / 3 }], fillRatio: 0.2345 }));
		const first = persisted('fractal/test/1', compute, jsonCodec);
		installPersistentCache(diskCache(folder.path)); // as another worker would
		const second = persisted('fractal/test/1', compute, jsonCodec);
		expect(compute).toHaveBeenCalledTimes(1);
		expect(second).toEqual(first); // floats round-trip exactly
		expect(fs.existsSync(path.join(folder.path, 'fractal/test/1'))).toBe(true);
	});

	it('recomputes a damaged entry instead of failing', () => {
		installPersistentCache(diskCache(folder.path));
		fs.mkdirSync(path.join(folder.path, 'broken'), { recursive: true });
		fs.writeFileSync(path.join(folder.path, 'broken', 'entry'), '{not json');
		expect(persisted('broken/entry', () => 42, jsonCodec)).toBe(42);
		expect(persisted('broken/entry', () => 0, jsonCodec)).toBe(42);
	});

	it('refuses keys that would leave the folder, without throwing at the caller', () => {
		const cache = diskCache(folder.path);
		cache.write('../escape', new Uint8Array([1]));
		expect(fs.existsSync(path.join(folder.path, '..', 'escape'))).toBe(false);
		expect(cache.read('../escape')).toBeUndefined();
	});

	it('stores pool textures byte for byte as the statistical model draws them', () => {
		installPersistentCache(diskCache(folder.path));
		const texture = poolTexture(3, 32);
		expect(
			Buffer.from(texture.data).equals(Buffer.from(statisticalTexture(texturePoolSeed, 3, 32).data))
		).toBe(true);
		const stored = fs.readdirSync(path.join(folder.path, 'textures'), { recursive: true });
		expect(stored.some((file) => String(file).endsWith(path.join('32', '3')))).toBe(true);
		folder.remove();
	});
});
