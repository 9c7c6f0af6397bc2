/**
 * Layout of the first-layer filter figure: `count` filters of `kernel × kernel` RGB pixels as a
 * grid of tiles, each filter pixel a `scale × scale` block (nearest-neighbour upscaling, so a
 * 3×3 filter stays nine crisp squares) and tiles separated by a `gap` of transparent pixels.
 * Kept free of the DOM so it is unit-tested directly.
 */

/** How the grid is laid out. */
export interface FilterGridLayout {
	kernel: number;
	count: number;
	/** Tiles per row. */
	columns: number;
	/** Screen pixels per filter pixel. */
	scale: number;
	/** Pixels between tiles. */
	gap: number;
}

/** The grid as RGBA pixels, ready for `new ImageData(data, width, height)`. */
export interface FilterGridPixels {
	width: number;
	height: number;
	data: Uint8ClampedArray<ArrayBuffer>;
}

/**
 * Draws filters (`count × kernel² × 3` bytes, filter after filter, row-major, RGB interleaved)
 * into one RGBA image; the gaps stay transparent so the page background shows through.
 */
export function filterGridPixels(rgb: Uint8Array, layout: FilterGridLayout): FilterGridPixels {
	const { kernel, count, scale, gap } = layout;
	if (rgb.length !== count * kernel * kernel * 3) {
		throw new RangeError(
			`${count} filters of ${kernel}×${kernel} need ${count * kernel * kernel * 3} bytes, got ${rgb.length}.`
		);
	}
	const columns = Math.max(1, Math.min(layout.columns, count));
	const rows = Math.ceil(count / columns);
	const tile = kernel * scale;
	const width = Math.max(0, columns * (tile + gap) - gap);
	const height = Math.max(0, rows * (tile + gap) - gap);
	const data = new Uint8ClampedArray(width * height * 4);
	for (let filter = 0; filter < count; filter++) {
		const left = (filter % columns) * (tile + gap);
		const top = Math.floor(filter / columns) * (tile + gap);
		for (let y = 0; y < tile; y++) {
			const source = Math.floor(y / scale) * kernel;
			for (let x = 0; x < tile; x++) {
				const from = (filter * kernel * kernel + source + Math.floor(x / scale)) * 3;
				const to = ((top + y) * width + left + x) * 4;
				data[to] = rgb[from] as number;
				data[to + 1] = rgb[from + 1] as number;
				data[to + 2] = rgb[from + 2] as number;
				data[to + 3] = 255;
			}
		}
	}
	return { width, height, data };
}

/** A similarity for display: two decimals, with a real minus sign. */
export function formatSimilarity(similarity: number): string {
	if (!Number.isFinite(similarity)) return '—';
	return similarity.toFixed(2).replace('-', '−');
}
