/**
 * The CLI's Explain grid: the same layout and colours as the renderer's "Export PNG"
 * (`core/explain/grid.ts`), encoded by sharp. The row and column names go to the terminal;
 * the PNG holds the tiles only.
 */
import sharp from 'sharp';
import type { ExplainResult } from '../../core/api/explain';
import { composeGrid, singleImageLayout, type GridStyle } from '../../core/explain/grid';

/** Gap between tiles, in pixels. */
export const gridGap = 4;

/** The single-image grid (a row per encoder: image, map over it; then |A − B|) as a PNG. */
export async function explainGridPng(result: ExplainResult, style: GridStyle): Promise<Buffer> {
	const layout = singleImageLayout(result, style);
	const raster = composeGrid(layout.rows, layout.tile, gridGap);
	return sharp(Buffer.from(raster.rgb.buffer, raster.rgb.byteOffset, raster.rgb.length), {
		raw: { width: raster.width, height: raster.height, channels: 3 }
	})
		.png()
		.toBuffer();
}
