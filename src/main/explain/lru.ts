/**
 * A small least-recently-used map: the explain session keeps datasets, encoders and maps for
 * the next request, but only up to a budget. Each entry weighs 1 unless a `weigh` function says
 * otherwise (e.g. an encoder's bytes); the newest entry is always kept, even alone over budget.
 */
export class LruMap<K, V> {
	private readonly entries = new Map<K, V>();
	private total = 0;

	/** `evict` is called with every value that leaves the map (to dispose tensors). */
	constructor(
		private readonly capacity: number,
		private readonly evict: (value: V) => void = () => {},
		private readonly weigh: (value: V) => number = () => 1
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
		if (previous !== undefined) {
			this.entries.delete(key);
			this.total -= this.weigh(previous);
			if (previous !== value) this.evict(previous);
		}
		this.entries.set(key, value);
		this.total += this.weigh(value);
		while (this.total > this.capacity && this.entries.size > 1) {
			const [oldestKey, oldest] = this.entries.entries().next().value as [K, V];
			this.entries.delete(oldestKey);
			this.total -= this.weigh(oldest);
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

	/** Entries held. */
	get size(): number {
		return this.entries.size;
	}

	/** Their total weight. */
	get weight(): number {
		return this.total;
	}

	clear(): void {
		for (const value of this.entries.values()) this.evict(value);
		this.entries.clear();
		this.total = 0;
	}
}
