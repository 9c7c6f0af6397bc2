/**
 * Measured training speeds of backends, kept per machine and model in the data folder's cache
 * (`<data>/cache/backend-speeds.json`), so `auto` measures each candidate once. Deleting the file
 * only costs a new measurement. The machine key covers what changes a ranking: the CPU, the
 * installed backends' versions and the GPU adapter; a data folder shared between machines keeps
 * one entry per machine.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { BackendId, BackendProbe, BackendSpeed } from '../../core/compute/backends';
import { backendIds } from '../../core/compute/backends';
import { writeFileDurably } from '../durable-file';

const cacheSchema = z.object({
	version: z.literal(1),
	entries: z.record(z.string(), z.object({ imagesPerSecond: z.number(), measuredAt: z.string() }))
});

/** The file name inside the cache folder. */
export const speedCacheFile = 'backend-speeds.json';

/** A key for this machine with these backends: changes when a driver or a backend changes. */
export function machineFingerprint(probes: readonly BackendProbe[]): string {
	const identity = {
		platform: process.platform,
		arch: process.arch,
		cpu: os.cpus()[0]?.model ?? 'unknown',
		cores: os.availableParallelism(),
		host: os.hostname(),
		backends: probes
			.filter((probe) => probe.available)
			.map((probe) => [probe.id, probe.version, probe.adapter?.description ?? null])
	};
	return crypto.createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
}

/** The cache file of one data folder. */
export class SpeedCache {
	constructor(private readonly file: string) {}

	/** A cache in `cacheDir`. */
	static in(cacheDir: string): SpeedCache {
		return new SpeedCache(path.join(cacheDir, speedCacheFile));
	}

	/** The figure measured for this key, if any. */
	get(machine: string, model: string, batch: number, backend: BackendId): number | null {
		return this.read().entries[key(machine, model, batch, backend)]?.imagesPerSecond ?? null;
	}

	/** Records figures; a file that cannot be written costs only a measurement next time. */
	put(machine: string, model: string, batch: number, speeds: readonly BackendSpeed[]): void {
		const cache = this.read();
		const measuredAt = new Date().toISOString();
		for (const speed of speeds) {
			cache.entries[key(machine, model, batch, speed.backend)] = {
				imagesPerSecond: speed.imagesPerSecond,
				measuredAt
			};
		}
		try {
			writeFileDurably(this.file, new TextEncoder().encode(JSON.stringify(cache, null, '\t')));
		} catch {
			// The figures are still used for this choice.
		}
	}

	private read(): z.infer<typeof cacheSchema> {
		try {
			const parsed = cacheSchema.safeParse(JSON.parse(fs.readFileSync(this.file, 'utf8')));
			if (parsed.success) return parsed.data;
		} catch {
			// Missing or unreadable: start afresh.
		}
		return { version: 1, entries: {} };
	}
}

function key(machine: string, model: string, batch: number, backend: BackendId): string {
	if (!backendIds.includes(backend)) throw new Error(`unknown backend ${backend}`);
	return `${machine}/${model}/${batch}/${backend}`;
}
