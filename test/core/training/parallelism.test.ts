import { describe, expect, it } from 'vitest';
import {
	defaultDataThreads,
	engineLabel,
	replicasFor
} from '../../../src/core/training/parallelism';

describe('how a session splits the cores', () => {
	it('gives the data threads a quarter of the cores, 1 to 4', () => {
		expect([1, 2, 4, 6, 8, 16, 64].map(defaultDataThreads)).toEqual([1, 1, 1, 2, 2, 4, 4]);
	});

	it('trains on the cores the data threads leave, unless a number is asked for', () => {
		const on = (cores: number, requested: number | null = null, batch = 128) =>
			replicasFor({ requested, cores, dataThreads: defaultDataThreads(cores), batch });
		expect([1, 2, 4, 8, 16].map((cores) => on(cores))).toEqual([1, 1, 3, 6, 12]);
		expect(on(2, 2)).toBe(2);
		expect(on(16, 1)).toBe(1);
		// Never more replicas than pairs in the batch: each needs at least one.
		expect(on(16, null, 5)).toBe(5);
		expect(on(2, 8, 4)).toBe(4);
	});

	it('names a backend with its replicas', () => {
		expect(engineLabel('wasm', 2)).toBe('wasm, 2 replicas');
		expect(engineLabel('wasm', 1)).toBe('wasm');
		expect(engineLabel('tfjs-node', null)).toBe('tfjs-node');
	});
});
