/**
 * Drawing a fitted orbit the way `fractal_renderer/ifs_function.py` does: on a canvas of palette
 * indices (0 is black), then flipped top to bottom (the original's y axis points up) and
 * optionally mirrored into the four FractalDB flips while copying to RGB.
 */
import { createImage, type RgbImage } from '../image';
import type { Random } from '../random';
import type { PixelOrbit } from './ifs';

/** The four FractalDB flips, in the original's `flip0`…`flip3` order. */
export const fractalFlips = ['none', 'top_bottom', 'left_right', 'both'] as const;

/** One of {@link fractalFlips}. */
export type FractalFlip = (typeof fractalFlips)[number];

/** How many hues the original's `*_color` draw types cycle through, one per point index. */
export const hueCycleLength = 128;

/**
 * Point `i` gets palette index 1 (one colour for the whole image) or, when `cycleHues`, the
 * index 1 + (i mod 128) of {@link pointHuePalette}. Later points overwrite earlier ones.
 */
export function plotPoints(
	pixels: PixelOrbit,
	canvas: Uint8Array,
	size: number,
	cycleHues: boolean
): void {
	const { columns, rows, count } = pixels;
	for (let i = 0; i < count; i++) {
		canvas[(rows[i] as number) * size + (columns[i] as number)] = cycleHues
			? 1 + (i % hueCycleLength)
			: 1;
	}
}

/**
 * `patch` drawing: each point pastes a 3×3 binary pattern drawn uniformly from the 511 non-empty
 * ones, its top-left corner one pixel right of and below the point (PIL `paste` at (x+1, y+1)).
 * A paste replaces the whole 3×3 block, so its zero bits erase what earlier points drew; blocks
 * are clipped at the canvas edge. Bit 8 of the pattern is the top-left cell, row-major, as the
 * original's `'{:09b}'` string.
 */
export function stampPatches(
	pixels: PixelOrbit,
	canvas: Uint8Array,
	size: number,
	cycleHues: boolean,
	random: Random
): void {
	const { columns, rows, count } = pixels;
	for (let i = 0; i < count; i++) {
		// Nine uniform bits, redrawn when all zero: uniform over the 511 non-empty patterns.
		let pattern = random.uint32() >>> 23;
		while (pattern === 0) pattern = random.uint32() >>> 23;
		const colour = cycleHues ? 1 + (i % hueCycleLength) : 1;
		const top = (rows[i] as number) + 1;
		const left = (columns[i] as number) + 1;
		if (top + 2 < size && left + 2 < size) {
			let at = top * size + left;
			canvas[at] = pattern & 256 ? colour : 0;
			canvas[at + 1] = pattern & 128 ? colour : 0;
			canvas[at + 2] = pattern & 64 ? colour : 0;
			at += size;
			canvas[at] = pattern & 32 ? colour : 0;
			canvas[at + 1] = pattern & 16 ? colour : 0;
			canvas[at + 2] = pattern & 8 ? colour : 0;
			at += size;
			canvas[at] = pattern & 4 ? colour : 0;
			canvas[at + 1] = pattern & 2 ? colour : 0;
			canvas[at + 2] = pattern & 1 ? colour : 0;
			continue;
		}
		for (let dy = 0; dy < 3 && top + dy < size; dy++) {
			for (let dx = 0; dx < 3 && left + dx < size; dx++) {
				canvas[(top + dy) * size + left + dx] = (pattern >> (8 - dy * 3 - dx)) & 1 ? colour : 0;
			}
		}
	}
}

/**
 * The original's `convert_color`: an HSI-like colour with saturation and intensity 0.75 at hue
 * `turns` (0–1), each channel truncated to 8 bits. The tuple is written to the image in the order
 * the original returns it.
 */
export function hsiColour(turns: number): [number, number, number] {
	const saturation = 0.75;
	const intensity = 0.75;
	const sector = 6 * (turns - Math.floor(turns));
	const h = Math.min(5, Math.floor(sector));
	const fraction = sector - h;
	const p = Math.trunc(intensity * (1 - saturation) * 255);
	const q = Math.trunc(intensity * (1 - saturation * fraction) * 255);
	const t = Math.trunc(intensity * (1 - saturation * (1 - fraction)) * 255);
	const i = Math.trunc(intensity * 255);
	switch (h) {
		case 0:
			return [p, t, i];
		case 1:
			return [p, i, q];
		case 2:
			return [t, i, p];
		case 3:
			return [i, q, p];
		case 4:
			return [i, p, t];
		default:
			return [q, p, i];
	}
}

/** Palette with black at 0 and one colour at 1. */
export function singleColourPalette(colour: readonly [number, number, number]): Uint8Array {
	return Uint8Array.of(0, 0, 0, ...colour);
}

/** Palette with black at 0 and the 128 hues of the original `*_color` draw types at 1–128. */
export const pointHuePalette: Uint8Array = (() => {
	const palette = new Uint8Array((hueCycleLength + 1) * 3);
	for (let k = 0; k < hueCycleLength; k++) palette.set(hsiColour(k / hueCycleLength), (k + 1) * 3);
	return palette;
})();

/**
 * Copies a canvas of palette indices to RGB. Every image is first flipped top to bottom, as the
 * original saves it, and then gets the FractalDB flip, so `top_bottom` shows the raw canvas.
 */
export function canvasToImage(
	canvas: Uint8Array,
	size: number,
	palette: Uint8Array,
	flip: FractalFlip
): RgbImage {
	const image = createImage(size);
	const data = image.data;
	const topBottom = flip === 'none' || flip === 'left_right';
	const leftRight = flip === 'left_right' || flip === 'both';
	for (let row = 0; row < size; row++) {
		const sourceRow = (topBottom ? size - 1 - row : row) * size;
		let out = row * size * 3;
		for (let column = 0; column < size; column++) {
			const index = (canvas[sourceRow + (leftRight ? size - 1 - column : column)] as number) * 3;
			data[out] = palette[index] as number;
			data[out + 1] = palette[index + 1] as number;
			data[out + 2] = palette[index + 2] as number;
			out += 3;
		}
	}
	return image;
}
