/**
 * The Explain export as a raster: square RGB tiles laid out in rows with gaps, and the two
 * layouts of the export (one image under several encoders; a batch of images). Text labels are
 * left to the caller (sharp in the CLI, a canvas in the renderer); the layouts say what the
 * labels are, so both draw the same grid.
 */
import type { ExplainBatchResult, ExplainResult } from '../api/explain';
import { colorize, differenceMap, overlay, type ColormapName, type Rgb } from './colormap';

/** An RGB image, row-major, 3 bytes per pixel. */
export interface Raster {
	width: number;
	height: number;
	rgb: Uint8Array;
}

/** The offset in pixels of tile `index` (a row or a column) from the grid's edge. */
export function tileOffset(index: number, tile: number, gap: number): number {
	return index * (tile + gap);
}

/**
 * Lays out square tiles of `tile × tile` RGB bytes in rows, `gap` pixels of `background`
 * between them. The grid is as wide as its longest row; a `null` tile, and the missing end of a
 * shorter row, is background. Throws for a tile of the wrong size.
 */
export function composeGrid(
	rows: readonly (readonly (Uint8Array | null)[])[],
	tile: number,
	gap: number,
	background: Rgb = [255, 255, 255]
): Raster {
	if (!Number.isInteger(tile) || tile < 1) throw new RangeError(`tile size ${tile}`);
	if (!Number.isInteger(gap) || gap < 0) throw new RangeError(`gap ${gap}`);
	const columns = Math.max(0, ...rows.map((row) => row.length));
	const width = columns === 0 ? 0 : columns * tile + (columns - 1) * gap;
	const height = rows.length === 0 ? 0 : rows.length * tile + (rows.length - 1) * gap;
	const rgb = new Uint8Array(width * height * 3);
	for (let i = 0; i < width * height; i++) rgb.set(background, i * 3);
	const tileBytes = tile * tile * 3;
	for (const [rowIndex, row] of rows.entries()) {
		for (const [columnIndex, pixels] of row.entries()) {
			if (pixels === null) continue;
			if (pixels.length !== tileBytes) {
				throw new RangeError(
					`tile (${rowIndex}, ${columnIndex}) has ${pixels.length} bytes; a ${tile}×${tile} RGB tile has ${tileBytes}`
				);
			}
			const top = tileOffset(rowIndex, tile, gap);
			const left = tileOffset(columnIndex, tile, gap);
			for (let y = 0; y < tile; y++) {
				const from = y * tile * 3;
				rgb.set(pixels.subarray(from, from + tile * 3), ((top + y) * width + left) * 3);
			}
		}
	}
	return { width, height, rgb };
}

/** A square RGB image enlarged `factor` times by repeating pixels (no smoothing, as maps are). */
export function scaleNearest(rgb: Uint8Array, size: number, factor: number): Uint8Array {
	if (rgb.length !== size * size * 3) {
		throw new RangeError(
			`expected ${size}×${size}×3 = ${size * size * 3} bytes, got ${rgb.length}`
		);
	}
	if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`scale factor ${factor}`);
	if (factor === 1) return rgb;
	const scaled = size * factor;
	const out = new Uint8Array(scaled * scaled * 3);
	for (let y = 0; y < scaled; y++) {
		const sourceRow = Math.floor(y / factor) * size;
		for (let x = 0; x < scaled; x++) {
			const from = (sourceRow + Math.floor(x / factor)) * 3;
			const to = (y * scaled + x) * 3;
			out[to] = rgb[from] as number;
			out[to + 1] = rgb[from + 1] as number;
			out[to + 2] = rgb[from + 2] as number;
		}
	}
	return out;
}

/** How the maps of an export are drawn. */
export interface GridStyle {
	colormap: ColormapName;
	/** Of the map over the image, 0–1. */
	opacity: number;
}

/** The tiles of an export and what the caller writes above its columns and beside its rows. */
export interface GridLayout {
	/** Side of every tile (the result's display size). */
	tile: number;
	rows: (Uint8Array | null)[][];
	/** One heading per column. */
	columnLabels: string[];
	/** Lines of text beside each row, first line the row's name. */
	rowLabels: string[][];
}

/** The parts of an {@link ExplainResult} the single-image export draws. */
export type SingleGridSource = Pick<ExplainResult, 'size' | 'rgb' | 'agreement'> & {
	encoders: Pick<
		ExplainResult['encoders'][number],
		'label' | 'map' | 'target' | 'deletion' | 'insertion'
	>[];
};

/** The parts of an {@link ExplainBatchResult} the batch export draws. */
export type BatchGridSource = Pick<ExplainBatchResult, 'size' | 'classes' | 'labels'> & {
	items: Pick<
		ExplainBatchResult['items'][number],
		'labelIndex' | 'index' | 'rgb' | 'maps' | 'agreement'
	>[];
};

function formatNumber(value: number | null, digits: number): string {
	return value !== null && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/**
 * The single-image export: a row per encoder (the image, the map over it), labelled with the
 * encoder, what the map explains and its deletion/insertion scores; with two encoders or more,
 * a last row with `|A − B|` of the first two maps (in the map column) and their agreement.
 */
export function singleImageLayout(result: SingleGridSource, style: GridStyle): GridLayout {
	const rows: (Uint8Array | null)[][] = result.encoders.map((encoder) => [
		result.rgb,
		overlay(result.rgb, encoder.map, style.opacity, style.colormap)
	]);
	const rowLabels = result.encoders.map((encoder) => [
		encoder.label,
		encoder.target.description,
		`deletion ${formatNumber(encoder.deletion, 3)} · insertion ${formatNumber(encoder.insertion, 3)}`
	]);
	const [first, second] = result.encoders;
	if (first && second) {
		rows.push([null, colorize(differenceMap(first.map, second.map), style.colormap)]);
		rowLabels.push(['|A − B|', `agreement ${formatNumber(result.agreement, 2)}`]);
	}
	return { tile: result.size, rows, columnLabels: ['image', 'map'], rowLabels };
}

/**
 * The batch export: a row per image (the image, then each encoder's map over it), headed by
 * the encoder labels, each row labelled with the image's class, its index and the agreement
 * of its first two maps.
 */
export function batchLayout(result: BatchGridSource, style: GridStyle): GridLayout {
	const rows = result.items.map((item) => [
		item.rgb,
		...item.maps.map((map) => overlay(item.rgb, map, style.opacity, style.colormap))
	]);
	const rowLabels = result.items.map((item) => [
		result.classes[item.labelIndex] ?? `class ${item.labelIndex}`,
		`#${item.index} · agreement ${formatNumber(item.agreement, 2)}`
	]);
	return { tile: result.size, rows, columnLabels: ['image', ...result.labels], rowLabels };
}
