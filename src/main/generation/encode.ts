import sharp from 'sharp';
import type { RgbImage } from '../../core/generators/image';
import type { ImageFormat } from '../../core/generators/manifest';

/** Encodes an image as PNG (lossless) or JPEG (4:4:4 chroma so colour noise is not smeared). */
export function encodeImage(
	image: RgbImage,
	format: ImageFormat,
	quality: number
): Promise<Buffer> {
	const pipeline = sharp(
		Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength),
		{
			raw: { width: image.size, height: image.size, channels: 3 }
		}
	);
	return format === 'png'
		? pipeline.png({ compressionLevel: 6 }).toBuffer()
		: pipeline.jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
}

/**
 * Whether a file's bytes are a complete image of the format: PNG ends with its IEND chunk and
 * JPEG with the EOI marker. A truncated file (a crash mid-write elsewhere) fails this check.
 */
export function isCompleteImage(bytes: Buffer, format: ImageFormat): boolean {
	if (format === 'png') {
		return (
			bytes.length > 57 &&
			bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) &&
			bytes.subarray(-8, -4).toString('latin1') === 'IEND'
		);
	}
	return (
		bytes.length > 4 &&
		bytes[0] === 0xff &&
		bytes[1] === 0xd8 &&
		bytes.at(-2) === 0xff &&
		bytes.at(-1) === 0xd9
	);
}
