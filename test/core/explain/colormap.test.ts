import { describe, expect, it } from 'vitest';
import {
	colorize,
	colormapNames,
	colormapTable,
	colormapTables,
	differenceMap,
	jetColor,
	mapToBytes,
	overlay,
	type ColormapName
} from '../../../src/core/explain/colormap';

/** CIE L* of an sRGB colour: the lightness viridis and inferno are designed to increase. */
function lightness(table: Uint8Array, value: number): number {
	const linear = [0, 1, 2].map((c) => {
		const v = (table[value * 3 + c] as number) / 255;
		return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
	}) as [number, number, number];
	const y = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
	return y > 216 / 24389 ? 116 * Math.cbrt(y) - 16 : (y * 24389) / 27;
}

function entry(name: ColormapName, value: number): number[] {
	return [...colormapTables[name].subarray(value * 3, value * 3 + 3)];
}

describe('colour tables', () => {
	it('has 256 RGB entries per map', () => {
		for (const name of colormapNames) expect(colormapTable(name)).toHaveLength(768);
		expect(() => colormapTable('rainbow' as ColormapName)).toThrow(/rainbow/);
	});

	it('keeps jet as the renderer has drawn it (cv2.COLORMAP_JET form)', () => {
		for (let value = 0; value < 256; value++) expect(entry('jet', value)).toEqual(jetColor(value));
		expect(entry('jet', 0)).toEqual([0, 0, 128]);
		expect(entry('jet', 255)).toEqual([128, 0, 0]);
	});

	it("ends viridis and inferno at matplotlib's published colours", () => {
		// viridis #440154 → #fde725, inferno #000004 → #fcffa4.
		expect(entry('viridis', 0)).toEqual([0x44, 0x01, 0x54]);
		expect(entry('viridis', 255)).toEqual([0xfd, 0xe7, 0x25]);
		expect(entry('inferno', 0)).toEqual([0x00, 0x00, 0x04]);
		expect(entry('inferno', 255)).toEqual([0xfc, 0xff, 0xa4]);
	});

	it.each(['viridis', 'inferno'] as const)('%s grows in lightness all the way', (name) => {
		const table = colormapTables[name];
		const lightnesses = Array.from({ length: 256 }, (_, value) => lightness(table, value));
		// Rounding to bytes can cost a hair of a step; any 8 steps gain clearly.
		for (let value = 1; value < 256; value++) {
			expect(lightnesses[value] as number).toBeGreaterThan(
				(lightnesses[value - 1] as number) - 0.1
			);
		}
		for (let value = 8; value < 256; value++) {
			expect(lightnesses[value] as number).toBeGreaterThan((lightnesses[value - 8] as number) + 1);
		}
		expect((lightnesses[255] as number) - (lightnesses[0] as number)).toBeGreaterThan(55);
		// Smooth, as subsampled from a continuous map: no channel jumps more than 5 per entry.
		for (let i = 3; i < table.length; i++) {
			expect(Math.abs((table[i] as number) - (table[i - 3] as number))).toBeLessThanOrEqual(5);
		}
	});

	it('makes gray the identity', () => {
		for (const value of [0, 1, 77, 254, 255])
			expect(entry('gray', value)).toEqual([value, value, value]);
	});
});

describe('colorize and overlay', () => {
	const map = new Uint8Array([0, 128, 255]);
	const image = new Uint8Array([10, 20, 30, 200, 100, 0, 255, 255, 255]);

	it('colours each pixel from its map value', () => {
		for (const name of colormapNames) {
			const rgb = colorize(map, name);
			expect(rgb).toHaveLength(9);
			for (const [i, value] of map.entries()) {
				expect([...rgb.subarray(i * 3, i * 3 + 3)]).toEqual(entry(name, value));
			}
		}
		expect([...colorize(map)]).toEqual([...colorize(map, 'jet')]);
	});

	it('shows the image at opacity 0, the coloured map at 1, and blends linearly between', () => {
		for (const name of colormapNames) {
			expect([...overlay(image, map, 0, name)]).toEqual([...image]);
			expect([...overlay(image, map, 1, name)]).toEqual([...colorize(map, name)]);
			expect([...overlay(image, map, 7, name)]).toEqual([...colorize(map, name)]);
			expect([...overlay(image, map, -1, name)]).toEqual([...image]);
			const heat = colorize(map, name);
			const blended = overlay(image, map, 0.25, name);
			for (let i = 0; i < image.length; i++) {
				const expected = 0.75 * (image[i] as number) + 0.25 * (heat[i] as number);
				expect(Math.abs((blended[i] as number) - expected)).toBeLessThanOrEqual(0.5);
			}
		}
	});

	it('rejects an image and a map of different sizes', () => {
		expect(() => overlay(image, new Uint8Array(2), 0.5)).toThrow(/pixels/);
	});
});

describe('differenceMap and mapToBytes', () => {
	it('is |A − B|, symmetric, zero for equal maps', () => {
		const a = new Uint8Array([0, 100, 255, 7]);
		const b = new Uint8Array([255, 40, 255, 9]);
		expect([...differenceMap(a, b)]).toEqual([255, 60, 0, 2]);
		expect([...differenceMap(b, a)]).toEqual([...differenceMap(a, b)]);
		expect([...differenceMap(a, a)]).toEqual([0, 0, 0, 0]);
		expect(() => differenceMap(a, new Uint8Array(3))).toThrow(/size/);
	});

	it('turns a [0, 1] map into rounded bytes, clamping and zeroing NaN', () => {
		const bytes = mapToBytes(Float32Array.from([0, 1, 0.5, 0.2, -3, 4, Number.NaN]));
		expect([...bytes]).toEqual([0, 255, 128, 51, 0, 255, 0]);
	});
});
