import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/main/explain/explain-session';
import { uploadFormat } from '../../src/main/image-files';

const pixel = { create: { width: 2, height: 2, channels: 3 as const, background: '#336699' } };

describe('uploaded images', () => {
	it('are recognised by their signature in every raster format sharp writes', async () => {
		const encoded = {
			jpeg: await sharp(pixel).jpeg().toBuffer(),
			png: await sharp(pixel).png().toBuffer(),
			webp: await sharp(pixel).webp().toBuffer(),
			gif: await sharp(pixel).gif().toBuffer(),
			tiff: await sharp(pixel).tiff().toBuffer()
		};
		for (const [format, bytes] of Object.entries(encoded)) {
			expect(uploadFormat(new Uint8Array(bytes)), format).toBe(format);
			await expect(decodeImage(new Uint8Array(bytes), `a.${format}`)).resolves.toMatchObject({
				width: 2,
				height: 2
			});
		}
	});

	it('in any other format never reach a decoder (SVG, text, a RIFF that is not WebP)', async () => {
		const svg =
			'<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"><image href="file:///etc/passwd"/></svg>';
		for (const bytes of [
			new TextEncoder().encode(svg),
			new TextEncoder().encode('root:x:0:0'),
			Uint8Array.of(0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x41, 0x56, 0x45),
			new Uint8Array(0)
		]) {
			expect(uploadFormat(bytes)).toBeNull();
			await expect(decodeImage(bytes, 'x')).rejects.toThrow(
				'Could not read "x" as an image: it is not a JPEG, PNG, WebP, GIF or TIFF file.'
			);
		}
	});
});
