import { describe, expect, it } from 'vitest';
import { LruMap } from '../../../src/main/explain/lru';

describe('LruMap', () => {
	it('evicts the least recently used entries beyond its capacity, reporting each', () => {
		const evicted: string[] = [];
		const map = new LruMap<number, string>(2, (value) => evicted.push(value));
		map.set(1, 'one');
		map.set(2, 'two');
		expect(map.get(1)).toBe('one'); // 2 is now the oldest
		map.set(3, 'three');
		expect(evicted).toEqual(['two']);
		expect([map.get(1), map.get(2), map.get(3)]).toEqual(['one', undefined, 'three']);
		map.set(1, 'uno');
		expect(evicted).toEqual(['two', 'one']);
		map.clear();
		expect(evicted).toEqual(['two', 'one', 'three', 'uno']);
		expect(map.size).toBe(0);
	});

	it('keeps the total weight within budget, but always the newest entry', () => {
		const evicted: number[] = [];
		const map = new LruMap<string, number>(
			10,
			(value) => evicted.push(value),
			(value) => value
		);
		map.set('a', 4);
		map.set('b', 5);
		expect(map.weight).toBe(9);
		map.set('c', 3);
		expect(evicted).toEqual([4]);
		expect(map.weight).toBe(8);
		map.set('huge', 50);
		expect(evicted).toEqual([4, 5, 3]);
		expect([map.size, map.weight, map.get('huge')]).toEqual([1, 50, 50]);
	});

	it('creates a missing value once and serves it from the cache after', async () => {
		const map = new LruMap<string, { n: number }>(4);
		let created = 0;
		const make = () => ({ n: ++created });
		const first = await map.getOrCreate('k', make);
		const second = await map.getOrCreate('k', make);
		expect(second).toBe(first);
		expect(created).toBe(1);
	});
});
