/**
 * Pure pixel helpers of the Explain area: the jet colour map, heatmap-on-image compositing and
 * the difference of two maps. Kept free of the DOM so they are unit-tested directly.
 */

/** One RGB colour, each channel 0–255. */
export type Rgb = [number, number, number];

function channel(value: number): number {
	return Math.round(255 * Math.min(1, Math.max(0, value)));
}

/**
 * The classic jet colour map (dark blue → cyan → yellow → dark red), the one pytorch-grad-cam
 * draws with `cv2.COLORMAP_JET`, so maps look as users know them.
 */
export function jetColor(value: number): Rgb {
	const x = Math.min(255, Math.max(0, value)) / 255;
	return [
		channel(1.5 - Math.abs(4 * x - 3)),
		channel(1.5 - Math.abs(4 * x - 2)),
		channel(1.5 - Math.abs(4 * x - 1))
	];
}

/** The jet colours of all 256 map values, `256 * 3` bytes, so compositing is a table lookup. */
export const jetTable: Uint8Array = (() => {
	const table = new Uint8Array(256 * 3);
	for (let value = 0; value < 256; value++) table.set(jetColor(value), value * 3);
	return table;
})();

/** Colours a one-byte-per-pixel map with jet: `map.length * 3` RGB bytes. */
export function colorizeMap(map: Uint8Array): Uint8Array {
	const rgb = new Uint8Array(map.length * 3);
	for (let i = 0; i < map.length; i++) {
		const at = (map[i] as number) * 3;
		rgb[i * 3] = jetTable[at] as number;
		rgb[i * 3 + 1] = jetTable[at + 1] as number;
		rgb[i * 3 + 2] = jetTable[at + 2] as number;
	}
	return rgb;
}

/**
 * Blends the jet-coloured map over the image: `opacity` 0 shows the image, 1 only the map
 * (pytorch-grad-cam's `show_cam_on_image` with `image_weight = 1 - opacity`).
 */
export function overlayHeatmap(rgb: Uint8Array, map: Uint8Array, opacity: number): Uint8Array {
	if (rgb.length !== map.length * 3) {
		throw new Error(`image has ${rgb.length / 3} pixels but the map ${map.length}`);
	}
	const alpha = Math.min(1, Math.max(0, opacity));
	const out = new Uint8Array(rgb.length);
	for (let i = 0; i < map.length; i++) {
		const at = (map[i] as number) * 3;
		for (let c = 0; c < 3; c++) {
			const image = rgb[i * 3 + c] as number;
			const heat = jetTable[at + c] as number;
			out[i * 3 + c] = Math.round((1 - alpha) * image + alpha * heat);
		}
	}
	return out;
}

/** `|A − B|` per pixel of two equally sized maps (0 = they agree there). */
export function differenceMap(a: Uint8Array, b: Uint8Array): Uint8Array {
	if (a.length !== b.length) throw new Error(`maps differ in size: ${a.length} vs ${b.length}`);
	const out = new Uint8Array(a.length);
	for (let i = 0; i < a.length; i++) out[i] = Math.abs((a[i] as number) - (b[i] as number));
	return out;
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
