/**
 * A small least-recently-used map: the explain session keeps datasets, encoders and maps for
 * the next request, but only a bounded number of each.
 */
export class LruMap<K, V> {
	private readonly entries = new Map<K, V>();

	/** `evict` is called with every value that leaves the map (to dispose tensors). */
	constructor(
		private readonly capacity: number,
		private readonly evict: (value: V) => void = () => {}
	) {}

	/** The value, marked as the most recently used. */
	get(key: K): V | undefined {
		const value = this.entries.get(key);
		if (value === undefined) return undefined;
		this.entries.delete(key);
		this.entries.set(key, value);
		return value;
	}

	set(key: K, value: V): void {
		const previous = this.entries.get(key);
		if (previous !== undefined && previous !== value) this.evict(previous);
		this.entries.delete(key);
		this.entries.set(key, value);
		while (this.entries.size > this.capacity) {
			const [oldestKey, oldest] = this.entries.entries().next().value as [K, V];
			this.entries.delete(oldestKey);
			this.evict(oldest);
		}
	}

	/** The cached value, or `create()`'s, stored. */
	async getOrCreate(key: K, create: () => V | Promise<V>): Promise<V> {
		const cached = this.get(key);
		if (cached !== undefined) return cached;
		const value = await create();
		this.set(key, value);
		return value;
	}

	get size(): number {
		return this.entries.size;
	}

	clear(): void {
		for (const value of this.entries.values()) this.evict(value);
		this.entries.clear();
	}
}
