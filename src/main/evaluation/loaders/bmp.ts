/**
 * A small BMP decoder, because sharp's libvips build has no BMP loader. It reads the common
 * uncompressed kinds (24- and 32-bit BI_RGB, 32-bit BI_BITFIELDS with byte-aligned masks, 8-bit
 * palette); anything else is refused with a reason that the folder loader reports.
 */

/** Decoded pixels, RGB interleaved, top row first. */
export interface RgbImage {
	width: number;
	height: number;
	data: Uint8Array;
}

const biRgb = 0;
const biBitfields = 3;
const compressionNames: Record<number, string> = {
	1: 'RLE8',
	2: 'RLE4',
	4: 'JPEG',
	5: 'PNG',
	6: 'alpha bit fields'
};

/** Decodes a BMP file, or throws an Error whose message says why it cannot. */
export function decodeBmp(bytes: Uint8Array): RgbImage {
	if (bytes.length < 54 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) {
		throw new Error('not a BMP file (no BM header)');
	}
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const pixelOffset = view.getUint32(10, true);
	const headerSize = view.getUint32(14, true);
	if (headerSize < 40) throw new Error(`BMP core header (${headerSize} bytes) is not supported`);
	const width = view.getInt32(18, true);
	const signedHeight = view.getInt32(22, true);
	const bitsPerPixel = view.getUint16(28, true);
	const compression = view.getUint32(30, true);
	const height = Math.abs(signedHeight);
	if (width <= 0 || height === 0 || width * height > 100_000_000) {
		throw new Error(`BMP size ${width}×${signedHeight} is not usable`);
	}
	let channelShifts = [16, 8, 0];
	if (compression === biBitfields && bitsPerPixel === 32) {
		// Masks follow a 40-byte header; later headers (V4, V5) hold them in the same place.
		const masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)];
		channelShifts = masks.map(
			(mask) => [0, 8, 16, 24].find((shift) => mask === (0xff << shift) >>> 0) ?? -1
		);
		if (channelShifts.includes(-1)) throw new Error('BMP bit-field masks are not byte-aligned');
	} else if (compression !== biRgb) {
		const kind = compressionNames[compression] ?? `type ${compression}`;
		throw new Error(`BMP with ${kind} compression is not supported; convert it to PNG`);
	}
	if (![8, 24, 32].includes(bitsPerPixel)) {
		throw new Error(`${bitsPerPixel}-bit BMP is not supported; convert it to PNG`);
	}
	const rowBytes = Math.ceil((bitsPerPixel * width) / 32) * 4;
	if (pixelOffset + rowBytes * height > bytes.length) throw new Error('BMP file is truncated');
	let palette: Uint8Array | null = null;
	if (bitsPerPixel === 8) {
		const used = view.getUint32(46, true) || 256;
		const paletteStart = 14 + headerSize;
		if (paletteStart + used * 4 > pixelOffset) throw new Error('BMP palette is truncated');
		palette = bytes.subarray(paletteStart, paletteStart + used * 4);
	}
	const data = new Uint8Array(width * height * 3);
	const bottomUp = signedHeight > 0;
	for (let y = 0; y < height; y++) {
		const row = pixelOffset + (bottomUp ? height - 1 - y : y) * rowBytes;
		for (let x = 0; x < width; x++) {
			const target = 3 * (y * width + x);
			if (palette) {
				const entry = 4 * (bytes[row + x] as number);
				// Palette entries are B, G, R, reserved; indices beyond it read as black.
				data[target] = palette[entry + 2] ?? 0;
				data[target + 1] = palette[entry + 1] ?? 0;
				data[target + 2] = palette[entry] ?? 0;
			} else if (bitsPerPixel === 24) {
				const source = row + 3 * x;
				data[target] = bytes[source + 2] as number;
				data[target + 1] = bytes[source + 1] as number;
				data[target + 2] = bytes[source] as number;
			} else {
				const value = view.getUint32(row + 4 * x, true);
				for (let c = 0; c < 3; c++)
					data[target + c] = (value >>> (channelShifts[c] as number)) & 0xff;
			}
		}
	}
	return { width, height, data };
}
