/**
 * Pure pixel helpers of the Explain area. The colour maps and compositing live in core
 * (src/core/explain/colormap.ts) so that the renderer and the CLI draw the same pixels; the
 * names the renderer has always used are kept here as aliases.
 */
import {
	colorize,
	colormapTables,
	differenceMap,
	jetColor,
	overlay,
	type ColormapName,
	type Rgb
} from '../../../core/explain/colormap';

export { colormapNames, type ColormapName } from '../../../core/explain/colormap';
export { differenceMap, jetColor, type Rgb };

/** The jet colours of all 256 map values, `256 * 3` bytes, so compositing is a table lookup. */
export const jetTable: Uint8Array = colormapTables.jet;

/** Colours a one-byte-per-pixel map (jet by default): `map.length * 3` RGB bytes. */
export function colorizeMap(map: Uint8Array, colormap: ColormapName = 'jet'): Uint8Array {
	return colorize(map, colormap);
}

/**
 * Blends the coloured map over the image: `opacity` 0 shows the image, 1 only the map
 * (pytorch-grad-cam's `show_cam_on_image` with `image_weight = 1 - opacity`).
 */
export function overlayHeatmap(
	rgb: Uint8Array,
	map: Uint8Array,
	opacity: number,
	colormap: ColormapName = 'jet'
): Uint8Array {
	return overlay(rgb, map, opacity, colormap);
}

/** The mean of a difference map on 0–1 (0: identical maps), for a one-line summary. */
export function meanDifference(difference: Uint8Array): number {
	if (difference.length === 0) return 0;
	let sum = 0;
	for (const value of difference) sum += value;
	return sum / difference.length / 255;
}

/** A score or AUC (in the encoder's score units) with three decimals; em dash when not finite. */
export function formatAuc(value: number): string {
	return Number.isFinite(value) ? value.toFixed(3) : '—';
}

/** The Spearman agreement in words, so a reader needs no statistics to judge it. */
export function describeAgreement(agreement: number | null): string {
	if (agreement === null) return 'not defined (one encoder, or a flat map)';
	const strength =
		Math.abs(agreement) >= 0.7
			? 'strong'
			: Math.abs(agreement) >= 0.4
				? 'moderate'
				: Math.abs(agreement) >= 0.15
					? 'weak'
					: 'no';
	const direction = agreement < 0 && strength !== 'no' ? ' inverse' : '';
	return `${agreement.toFixed(2)} — ${strength}${direction} agreement`;
}
