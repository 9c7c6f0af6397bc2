/** A square RGB image, 8 bits per channel, row-major, channels interleaved (RGBRGB…). */
export interface RgbImage {
	/** Width and height in pixels. */
	size: number;
	/** `size * size * 3` bytes. */
	data: Uint8Array;
}

/** The smallest and largest image sizes every generator supports. */
export const imageSizeRange = { min: 32, max: 512 } as const;

/** A black image of the given size. */
export function createImage(size: number): RgbImage {
	return { size, data: new Uint8Array(size * size * 3) };
}

/**
 * Converts three float planes (any range) to an image by one min-max over all channels, as the
 * paper's statistical models do. A constant image becomes mid-grey.
 */
export function planesToImage(
	planes: readonly Float64Array[] | readonly Float32Array[],
	size: number
): RgbImage {
	let lo = Infinity;
	let hi = -Infinity;
	for (const plane of planes) {
		for (let i = 0; i < plane.length; i++) {
			const value = plane[i] as number;
			if (value < lo) lo = value;
			if (value > hi) hi = value;
		}
	}
	const image = createImage(size);
	const scale = hi > lo ? 255 / (hi - lo) : 0;
	const pixels = size * size;
	for (let c = 0; c < 3; c++) {
		const plane = planes[c] as Float64Array;
		for (let i = 0; i < pixels; i++) {
			image.data[i * 3 + c] = scale === 0 ? 128 : Math.round(((plane[i] as number) - lo) * scale);
		}
	}
	return image;
}
