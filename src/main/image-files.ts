import path from 'node:path';
import sharp from 'sharp';
import type { SourceImage } from '../core/training/augment';

/**
 * File extensions NoiseLab decodes as images (lower case): what sharp reads, plus BMP, which
 * the evaluation loaders decode themselves.
 */
export const imageExtensions: ReadonlySet<string> = new Set([
	'.jpg',
	'.jpeg',
	'.png',
	'.webp',
	'.gif',
	'.bmp',
	'.tif',
	'.tiff'
]);

/** Whether a file name has an image extension (any case). */
export function isImageFile(file: string): boolean {
	return imageExtensions.has(path.extname(file).toLowerCase());
}

/** The raster formats an uploaded image may be in. */
export type UploadFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff';

/**
 * The format of an uploaded image by its signature, or null. Uploads come from the network, so
 * only these raster formats reach the decoder: SVG and the other formats sharp could parse are
 * refused before any parser sees them.
 */
export function uploadFormat(bytes: Uint8Array): UploadFormat | null {
	const starts = (...signature: number[]) => signature.every((byte, i) => bytes[i] === byte);
	if (starts(0xff, 0xd8, 0xff)) return 'jpeg';
	if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
	if (starts(0x47, 0x49, 0x46, 0x38)) return 'gif';
	if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
	const riff = starts(0x52, 0x49, 0x46, 0x46);
	if (riff && [0x57, 0x45, 0x42, 0x50].every((byte, i) => bytes[8 + i] === byte)) return 'webp';
	return null;
}

/**
 * Decodes an image file (a path or its bytes) to 8-bit RGB: alpha is dropped (as PIL's
 * `convert('RGB')`, which the paper's loader uses), grey is expanded, and the image is scaled
 * down so its shorter side is at most `maxSide` (never up). EXIF orientation is ignored, as
 * PIL does, unless `orient` asks for it (a user's own photo).
 */
export async function decodeRgb(
	input: string | Uint8Array,
	maxSide: number,
	options: { orient?: boolean } = {}
): Promise<SourceImage> {
	const source =
		typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
	let image = sharp(source, { failOn: 'error' });
	if (options.orient) image = image.rotate();
	const { data, info } = await image
		.removeAlpha()
		.toColourspace('srgb')
		// 'outside' keeps the aspect ratio and makes the shorter side exactly maxSide.
		.resize({ width: maxSide, height: maxSide, fit: 'outside', withoutEnlargement: true })
		.raw()
		.toBuffer({ resolveWithObject: true });
	const pixels = info.width * info.height;
	if (info.channels === 3) {
		return {
			width: info.width,
			height: info.height,
			data: new Uint8Array(data.buffer, data.byteOffset, pixels * 3)
		};
	}
	const rgb = new Uint8Array(pixels * 3);
	for (let p = 0; p < pixels; p++) {
		for (let c = 0; c < 3; c++) {
			rgb[p * 3 + c] = data[p * info.channels + Math.min(c, info.channels - 1)] as number;
		}
	}
	return { width: info.width, height: info.height, data: rgb };
}
