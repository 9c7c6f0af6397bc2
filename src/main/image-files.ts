import path from 'node:path';

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
