import { describe, expect, it } from 'vitest';
import { filterGridPixels, formatSimilarity } from '../../src/renderer/lib/explain/filter-grid';

/** Filter f's pixel p has colour (f, p, 100 + f). */
function filters(count: number, kernel: number): Uint8Array {
	const rgb = new Uint8Array(count * kernel * kernel * 3);
	for (let f = 0; f < count; f++) {
		for (let p = 0; p < kernel * kernel; p++)
			rgb.set([f, p, 100 + f], (f * kernel * kernel + p) * 3);
	}
	return rgb;
}

describe('filterGridPixels', () => {
	const layout = { kernel: 3, count: 10, columns: 4, scale: 2, gap: 1 };
	const grid = filterGridPixels(filters(10, 3), layout);
	const pixel = (x: number, y: number) =>
		Array.from(grid.data.subarray((y * grid.width + x) * 4, (y * grid.width + x) * 4 + 4));

	it('sizes the grid as columns × rows of tiles with 1 px gaps', () => {
		// 4 columns of 6 px + 3 gaps; 3 rows (10 filters) of 6 px + 2 gaps.
		expect(grid.width).toBe(27);
		expect(grid.height).toBe(20);
		expect(grid.data.length).toBe(27 * 20 * 4);
	});

	it('upscales each filter pixel to a scale × scale block (nearest neighbour)', () => {
		// Filter 5 sits in row 1, column 1: its top-left corner is (7, 7).
		for (let p = 0; p < 9; p++) {
			const [px, py] = [7 + (p % 3) * 2, 7 + Math.floor(p / 3) * 2];
			for (const [dx, dy] of [
				[0, 0],
				[1, 0],
				[0, 1],
				[1, 1]
			] as const) {
				expect(pixel(px + dx, py + dy)).toEqual([5, p, 105, 255]);
			}
		}
	});

	it('leaves the gaps and the unused tiles of the last row transparent', () => {
		expect(pixel(6, 0)[3]).toBe(0);
		expect(pixel(0, 6)[3]).toBe(0);
		// Filters 8 and 9 fill row 2's first two tiles; tiles 3 and 4 are empty.
		expect(pixel(14, 14)).toEqual([0, 0, 0, 0]);
		expect(pixel(7, 14)).toEqual([9, 0, 109, 255]);
	});

	it('uses fewer columns when there are fewer filters, and rejects a wrong byte count', () => {
		expect(filterGridPixels(filters(2, 3), { ...layout, count: 2, columns: 8 }).width).toBe(13);
		expect(() => filterGridPixels(new Uint8Array(5), layout)).toThrow(/need 270 bytes, got 5/);
	});
});

describe('formatSimilarity', () => {
	it('shows two decimals with a minus sign', () => {
		expect(formatSimilarity(0.98765)).toBe('0.99');
		expect(formatSimilarity(-0.5)).toBe('−0.50');
		expect(formatSimilarity(Number.NaN)).toBe('—');
	});
});
