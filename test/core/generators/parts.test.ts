import { describe, expect, it } from 'vitest';
import { manifestFileName, partRange } from '../../../src/core/generators/manifest';

describe('partRange', () => {
	it('splits on 1000-image sub-folders, contiguous and disjoint, covering the range', () => {
		for (const [start, count, parts] of [
			[0, 105_000, 8],
			[250, 3500, 4],
			[999, 2, 2],
			[0, 1, 1],
			[12_345, 50_000, 7]
		] as const) {
			let next = start;
			for (let part = 1; part <= parts; part++) {
				const range = partRange(start, count, part, parts);
				expect(range.startIndex).toBe(next);
				expect(range.count).toBeGreaterThan(0);
				if (part > 1) expect(range.startIndex % 1000).toBe(0);
				next = range.startIndex + range.count;
			}
			expect(next).toBe(start + count);
		}
		expect(partRange(0, 105_000, 1, 8)).toEqual({ startIndex: 0, count: 14_000 });
		expect(partRange(0, 105_000, 8, 8)).toEqual({ startIndex: 92_000, count: 13_000 });
	});

	it('refuses parts that cannot exist', () => {
		expect(() => partRange(0, 1000, 1, 2)).toThrow(/at most that many parts/);
		expect(() => partRange(0, 5000, 0, 2)).toThrow(/1 ≤ I ≤ N/);
		expect(() => partRange(0, 5000, 3, 2)).toThrow(/got 3\/2/);
	});

	it('names part manifests so they sort and never collide', () => {
		expect(manifestFileName(null)).toBe('manifest.json');
		expect(manifestFileName({ index: 3, of: 12 })).toBe('manifest.part-0003-of-0012.json');
	});
});
