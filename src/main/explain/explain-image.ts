/**
 * The CLI's Explain grid: the same layout and colours as the renderer's "Export PNG"
 * (`core/explain/grid.ts`), encoded by sharp. The row and column names go to the terminal;
 * the PNG holds the tiles, and says what they show (method, layer, encoders, target) in its
 * text chunks (`core/explain/png-text.ts`).
 */
import sharp from 'sharp';
import { camMethods, type CamMethod, type ExplainResult } from '../../core/api/explain';
import { explainPngEntries, withPngText } from '../../core/explain/png-text';
import { composeGrid, singleImageLayout, type GridStyle } from '../../core/explain/grid';

/** Gap between tiles, in pixels. */
export const gridGap = 4;

/** The single-image grid (a row per encoder: image, map over it; then |A − B|) as a PNG. */
export async function explainGridPng(
	result: ExplainResult,
	method: CamMethod,
	style: GridStyle
): Promise<Buffer> {
	const layout = singleImageLayout(result, style);
	const raster = composeGrid(layout.rows, layout.tile, gridGap);
	const png = await sharp(
		Buffer.from(raster.rgb.buffer, raster.rgb.byteOffset, raster.rgb.length),
		{
			raw: { width: raster.width, height: raster.height, channels: 3 }
		}
	)
		.png()
		.toBuffer();
	const text = explainPngEntries({
		method: camMethods.find((candidate) => candidate.id === method)?.label ?? method,
		encoders: result.encoders.map((encoder) => ({
			label: encoder.label,
			layer: encoder.layer,
			target: encoder.target.description
		}))
	});
	return Buffer.from(withPngText(png, text));
}
