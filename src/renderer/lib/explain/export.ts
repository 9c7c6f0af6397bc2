/**
 * "Export PNG" of the Explain view: the grid of core's explain/grid.ts (the same tiles the CLI
 * writes) on a canvas with text labels, as a PNG Blob. The placement of tiles and labels is
 * pure ({@link planExport}) and unit-tested; the canvas calls are kept thin.
 */
import {
	camMethods,
	type CamMethod,
	type ExplainBatchParams,
	type ExplainBatchResult,
	type ExplainParams,
	type ExplainResult
} from '../../../core/api/explain';
import {
	explainCaption,
	explainPngEntries,
	withPngText,
	type ExplainCaptionSource
} from '../../../core/explain/png-text';
import { batchTargetKinds } from './explain-form';
import type { ColormapName } from '../../../core/explain/colormap';
import {
	batchLayout,
	composeGrid,
	scaleNearest,
	singleImageLayout,
	tileOffset,
	type GridLayout,
	type Raster
} from '../../../core/explain/grid';

export { colormapNames, type ColormapName } from '../../../core/explain/colormap';

/** How an export draws its maps. */
export interface ExportOptions {
	colormap: ColormapName;
	/** Of the map over the image, 0–1. */
	opacity: number;
}

/** Tiles are enlarged by a whole factor to at least this many pixels: small maps stay legible. */
const minimumTile = 128;
const gap = 6;
const margin = 12;
const fontSize = 13;
const lineHeight = 17;
const font = `${fontSize}px system-ui, sans-serif`;

/** A line of text at its baseline-left position on the canvas. */
export interface PlacedText {
	text: string;
	x: number;
	y: number;
}

/** Where everything of an export goes on the canvas. */
export interface ExportPlan {
	width: number;
	height: number;
	/** The tile grid and its top-left corner. */
	grid: Raster;
	gridX: number;
	gridY: number;
	labels: PlacedText[];
}

/**
 * Places the layout's grid (tiles enlarged to at least {@link minimumTile} pixels) below the
 * caption lines and its column headings, right of its row labels; `measure` gives a text's width
 * in pixels.
 */
export function planExport(
	layout: GridLayout,
	measure: (text: string) => number,
	caption: readonly string[] = []
): ExportPlan {
	const factor = Math.max(1, Math.ceil(minimumTile / layout.tile));
	const tile = layout.tile * factor;
	const rows = layout.rows.map((row) =>
		row.map((pixels) => (pixels === null ? null : scaleNearest(pixels, layout.tile, factor)))
	);
	const grid = composeGrid(rows, tile, gap);
	const labelWidth = Math.max(
		0,
		...layout.rowLabels.flat().map((text) => Math.ceil(measure(text)))
	);
	const gridX = margin + (labelWidth > 0 ? labelWidth + margin : 0);
	const captionHeight = caption.length > 0 ? caption.length * lineHeight + 6 : 0;
	const gridY = margin + captionHeight + (layout.columnLabels.length > 0 ? lineHeight + 4 : 0);
	const labels: PlacedText[] = caption.map((text, line) => ({
		text,
		x: margin,
		y: margin + fontSize + line * lineHeight
	}));
	for (const [column, text] of layout.columnLabels.entries()) {
		labels.push({ text, x: gridX + tileOffset(column, tile, gap), y: gridY - 6 });
	}
	for (const [row, lines] of layout.rowLabels.entries()) {
		for (const [line, text] of lines.entries()) {
			labels.push({
				text,
				x: margin,
				y: gridY + tileOffset(row, tile, gap) + fontSize + line * lineHeight
			});
		}
	}
	const captionWidth = Math.max(0, ...caption.map((text) => Math.ceil(measure(text))));
	return {
		width: Math.max(gridX + grid.width, margin + captionWidth) + margin,
		height: gridY + grid.height + margin,
		grid,
		gridX,
		gridY,
		labels
	};
}

/** RGB bytes as opaque RGBA, as `ImageData` wants them. */
export function rgbToRgba(rgb: Uint8Array): Uint8ClampedArray<ArrayBuffer> {
	const rgba = new Uint8ClampedArray(new ArrayBuffer((rgb.length / 3) * 4));
	for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
		rgba[j] = rgb[i] as number;
		rgba[j + 1] = rgb[i + 1] as number;
		rgba[j + 2] = rgb[i + 2] as number;
		rgba[j + 3] = 255;
	}
	return rgba;
}

async function renderPng(layout: GridLayout, source: ExplainCaptionSource): Promise<Blob> {
	const caption = explainCaption(source);
	const canvas = document.createElement('canvas');
	const context = canvas.getContext('2d');
	if (!context) throw new Error('This browser cannot draw on a canvas.');
	context.font = font;
	const plan = planExport(layout, (text) => context.measureText(text).width, caption);
	canvas.width = plan.width;
	canvas.height = plan.height;
	context.fillStyle = '#ffffff';
	context.fillRect(0, 0, plan.width, plan.height);
	if (plan.grid.width > 0 && plan.grid.height > 0) {
		const pixels = new ImageData(rgbToRgba(plan.grid.rgb), plan.grid.width, plan.grid.height);
		context.putImageData(pixels, plan.gridX, plan.gridY);
	}
	// Resizing the canvas reset the context's state.
	context.font = font;
	context.fillStyle = '#1f2328';
	for (const label of plan.labels) context.fillText(label.text, label.x, label.y);
	const drawn = await new Promise<Blob>((resolve, reject) => {
		canvas.toBlob(
			(blob) => (blob ? resolve(blob) : reject(new Error('The canvas gave no PNG.'))),
			'image/png'
		);
	});
	const png = withPngText(new Uint8Array(await drawn.arrayBuffer()), explainPngEntries(source));
	return new Blob([png.slice().buffer], { type: 'image/png' });
}

/**
 * The single-image grid as a PNG: a row per encoder (image | map over it) labelled with the
 * encoder, the target and deletion/insertion; then `|A − B|` with the agreement.
 */
export function exportSingleGrid(
	result: ExplainResult,
	params: Pick<ExplainParams, 'method'>,
	options: ExportOptions
): Promise<Blob> {
	return renderPng(singleImageLayout(result, options), {
		method: methodLabel(params.method),
		encoders: result.encoders.map((encoder) => ({
			label: encoder.label,
			layer: encoder.layer,
			target: encoder.target.description
		}))
	});
}

function methodLabel(method: CamMethod): string {
	return camMethods.find((candidate) => candidate.id === method)?.label ?? method;
}

/**
 * The batch grid as a PNG: the encoder labels as headings, a row per image (image | each
 * encoder's map over it) labelled with its class and agreement.
 */
export function exportBatchGrid(
	result: ExplainBatchResult,
	params: Pick<ExplainBatchParams, 'method' | 'layer' | 'target'>,
	options: ExportOptions
): Promise<Blob> {
	const target =
		batchTargetKinds.find((kind) => kind.kind === params.target)?.label ?? params.target;
	return renderPng(batchLayout(result, options), {
		method: methodLabel(params.method),
		encoders: result.labels.map((label) => ({
			label,
			layer: params.layer,
			target: `each image’s ${target.toLowerCase()}`
		}))
	});
}

/** Saves `blob` as a download named `fileName`. */
export function downloadBlob(blob: Blob, fileName: string): void {
	const url = URL.createObjectURL(blob);
	const link = document.createElement('a');
	link.href = url;
	link.download = fileName;
	document.body.append(link);
	link.click();
	link.remove();
	// Revoked after the click has been handled, so the download has its data.
	setTimeout(() => URL.revokeObjectURL(url), 0);
}
