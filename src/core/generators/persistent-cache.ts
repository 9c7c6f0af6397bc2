/**
 * An optional on-disk cache for expensive, deterministic intermediate results (the texture pool
 * of dead_leaves-textures, FractalDB categories). Core only defines the interface; the host
 * process installs an implementation (a folder in the data directory). Without one, results are
 * kept in memory only. A cached value is by definition what `compute` would return, so the cache
 * never changes any output.
 */

/** Byte storage by key. Keys are `/`-separated and contain only [a-z0-9._/-]. */
export interface PersistentCache {
	read(key: string): Uint8Array | undefined;
	write(key: string, value: Uint8Array): void;
}

let installed: PersistentCache | null = null;

/** Installs the process's persistent cache (call once at worker start-up). */
export function installPersistentCache(cache: PersistentCache | null): void {
	installed = cache;
}

/** Returns the stored value for `key`, or computes, stores and returns it. */
export function persisted<T>(
	key: string,
	compute: () => T,
	codec: { encode(value: T): Uint8Array; decode(bytes: Uint8Array): T }
): T {
	const stored = installed?.read(key);
	if (stored) {
		try {
			return codec.decode(stored);
		} catch {
			// A damaged entry is recomputed and overwritten below.
		}
	}
	const value = compute();
	installed?.write(key, codec.encode(value));
	return value;
}

/** A codec for JSON-serialisable values (numbers round-trip exactly). */
export const jsonCodec = {
	encode: (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value)),
	decode: <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T
};
