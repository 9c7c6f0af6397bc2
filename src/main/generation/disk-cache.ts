import fs from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from '../durable-file';
import {
	installPersistentCache,
	type PersistentCache
} from '../../core/generators/persistent-cache';
import { installEncoderWeightsSource } from '../../core/generators/trained-encoders';
import { pinnedEncoderWeights } from './pinned-encoders';

/** The environment variable through which a parent process hands its cache folder to workers. */
export const cacheDirVariable = 'NOISELAB_CACHE_DIR';

/**
 * A {@link PersistentCache} in a folder. Writes are durable (temporary name, every byte, fsync,
 * rename), so parallel workers never read half a file; any error just means "not cached".
 */
export function diskCache(folder: string): PersistentCache {
	const fileFor = (key: string) => {
		if (!/^[a-z0-9._/-]+$/i.test(key) || key.includes('..'))
			throw new Error(`Invalid cache key ${key}`);
		return path.join(folder, key);
	};
	return {
		read(key) {
			try {
				return new Uint8Array(fs.readFileSync(fileFor(key)));
			} catch {
				return undefined;
			}
		},
		write(key, value) {
			try {
				writeFileDurably(fileFor(key), value);
			} catch {
				// A full or read-only disk only costs speed; nothing half-written is left behind.
			}
		}
	};
}

/**
 * Installs the disk cache named by NOISELAB_CACHE_DIR, if the parent set one, and the encoders
 * pinned in it (see `pinned-encoders.ts`) as the source of trained generators' weights.
 */
export function installCacheFromEnvironment(): void {
	const folder = process.env[cacheDirVariable];
	if (!folder) return;
	installPersistentCache(diskCache(folder));
	installEncoderWeightsSource(pinnedEncoderWeights(folder));
}
