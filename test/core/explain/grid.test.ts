import { describe, expect, it } from 'vitest';
import { colorize, differenceMap, overlay } from '../../../src/core/explain/colormap';
import {
	batchLayout,
	composeGrid,
	scaleNearest,
	singleImageLayout,
	tileOffset
} from '../../../src/core/explain/grid';

/** A `tile × tile` tile of one colour. */
function solid(tile: number, rgb: [number, number, number]): Uint8Array {
	const out = new Uint8Array(tile * tile * 3);
	for (let i = 0; i < tile * tile; i++) out.set(rgb, i * 3);
	return out;
}

function pixel(raster: { width: number; rgb: Uint8Array }, x: number, y: number): number[] {
	const at = (y * raster.width + x) * 3;
	return [...raster.rgb.subarray(at, at + 3)];
}

describe('composeGrid', () => {
	const red = solid(2, [255, 0, 0]);
	const blue = solid(2, [0, 0, 255]);
	const background: [number, number, number] = [9, 9, 9];

	it('is as wide as the longest row, gaps between tiles only', () => {
		const grid = composeGrid([[red, blue, red], [blue]], 2, 3, background);
		expect(grid.width).toBe(3 * 2 + 2 * 3);
		expect(grid.height).toBe(2 * 2 + 1 * 3);
		expect(grid.rgb).toHaveLength(grid.width * grid.height * 3);
		expect(tileOffset(2, 2, 3)).toBe(10);
	});

	it('puts each tile at its offset and background everywhere else', () => {
		const grid = composeGrid([[red, null, blue], [blue]], 2, 1, background);
		const expected = (x: number, y: number): number[] => {
			const column = Math.floor(x / 3);
			const row = Math.floor(y / 3);
			if (x % 3 === 2 || y % 3 === 2) return background;
			if (row === 0 && column === 0) return [255, 0, 0];
			if ((row === 0 && column === 2) || (row === 1 && column === 0)) return [0, 0, 255];
			return background;
		};
		for (let y = 0; y < grid.height; y++) {
			for (let x = 0; x < grid.width; x++) expect(pixel(grid, x, y)).toEqual(expected(x, y));
		}
	});

	it('keeps a tile’s own pixel order', () => {
		const tile = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 10);
		const grid = composeGrid([[null, tile]], 2, 1);
		expect(pixel(grid, 3, 0)).toEqual([0, 10, 20]);
		expect(pixel(grid, 4, 0)).toEqual([30, 40, 50]);
		expect(pixel(grid, 3, 1)).toEqual([60, 70, 80]);
		expect(pixel(grid, 0, 0)).toEqual([255, 255, 255]);
	});

	it('is empty without rows and rejects a tile of the wrong size', () => {
		expect(composeGrid([], 4, 2)).toEqual({ width: 0, height: 0, rgb: new Uint8Array(0) });
		expect(() => composeGrid([[new Uint8Array(5)]], 2, 1)).toThrow(/12/);
	});
});

describe('scaleNearest', () => {
	it('repeats each pixel factor × factor times', () => {
		const rgb = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
		const scaled = scaleNearest(rgb, 2, 3);
		expect(scaled).toHaveLength(6 * 6 * 3);
		const raster = { width: 6, rgb: scaled };
		expect(pixel(raster, 2, 2)).toEqual([1, 2, 3]);
		expect(pixel(raster, 3, 0)).toEqual([4, 5, 6]);
		expect(pixel(raster, 0, 5)).toEqual([7, 8, 9]);
		expect(pixel(raster, 5, 5)).toEqual([10, 11, 12]);
		expect(scaleNearest(rgb, 2, 1)).toBe(rgb);
	});
});

describe('export layouts', () => {
	const size = 2;
	const rgb = Uint8Array.from({ length: size * size * 3 }, (_, i) => 20 * i);
	const mapA = Uint8Array.from([0, 80, 160, 255]);
	const mapB = Uint8Array.from([255, 80, 0, 10]);
	const style = { colormap: 'viridis' as const, opacity: 0.4 };
	const encoder = (label: string, map: Uint8Array) => ({
		label,
		map,
		target: { kind: 'class' as const, classIndex: 1, description: 'probe class "b"' },
		deletion: 0.1234,
		insertion: Number.NaN
	});

	it('single image: a row per encoder, then |A − B| in the map column', () => {
		const layout = singleImageLayout(
			{ size, rgb, agreement: 0.5, encoders: [encoder('noise', mapA), encoder('real', mapB)] },
			style
		);
		expect(layout.tile).toBe(size);
		expect(layout.columnLabels).toEqual(['image', 'map']);
		expect(layout.rows).toHaveLength(3);
		expect(layout.rows[0]).toEqual([rgb, overlay(rgb, mapA, 0.4, 'viridis')]);
		expect(layout.rows[1]).toEqual([rgb, overlay(rgb, mapB, 0.4, 'viridis')]);
		expect(layout.rows[2]).toEqual([null, colorize(differenceMap(mapA, mapB), 'viridis')]);
		expect(layout.rowLabels[0]).toEqual([
			'noise',
			'probe class "b"',
			'deletion 0.123 · insertion —'
		]);
		expect(layout.rowLabels[2]).toEqual(['|A − B|', 'agreement 0.50']);
	});

	it('single image with one encoder has no difference row', () => {
		const layout = singleImageLayout(
			{ size, rgb, agreement: null, encoders: [encoder('noise', mapA)] },
			style
		);
		expect(layout.rows).toHaveLength(1);
		expect(layout.rowLabels).toHaveLength(1);
	});

	it('batch: encoder headings, a row per image with its class and agreement', () => {
		const layout = batchLayout(
			{
				size,
				classes: ['a', 'b'],
				labels: ['noise', 'real'],
				items: [
					{ index: 4, labelIndex: 1, rgb, maps: [mapA, mapB], agreement: -0.25 },
					{ index: 9, labelIndex: 0, rgb, maps: [mapB, mapA], agreement: null }
				]
			},
			style
		);
		expect(layout.columnLabels).toEqual(['image', 'noise', 'real']);
		expect(layout.rows[1]).toEqual([
			rgb,
			overlay(rgb, mapB, 0.4, 'viridis'),
			overlay(rgb, mapA, 0.4, 'viridis')
		]);
		expect(layout.rowLabels).toEqual([
			['b', '#4 · agreement -0.25'],
			['a', '#9 · agreement —']
		]);
		const grid = composeGrid(layout.rows, layout.tile, 1);
		expect([grid.width, grid.height]).toEqual([3 * 2 + 2, 2 * 2 + 1]);
	});
});
