/**
 * The paper's view augmentations (`paper-protocol.md` §3.1) on plain typed arrays, seeded, so
 * that data threads can build batches while the training step runs.
 *
 * The reference pipeline is torchvision 0.x on PIL images, and PIL works on 8-bit pixels with
 * its own rounding at every stage. Each stage here reproduces PIL's integer and float32
 * arithmetic (`libImaging/Resample.c`, `Blend.c`, `Convert.c`, `ImageEnhance.py`) rather than
 * an idealised float version, so that a view matches what the paper's data loader produced.
 *
 * Random draws, in this fixed order, from the `Random` passed in:
 * 1. crop: for each of up to 10 tries, `uniform` for the area fraction then `uniform` for the
 *    log aspect ratio; on the accepted try `int` for the top row then `int` for the left column
 *    (torchvision draws `i` before `j`); the centre-crop fallback draws nothing more;
 * 2. flip: one `uniform`, always drawn (flipped when it is below `flipProbability`);
 * 3. colour jitter: a permutation of the four operations (`Random.shuffle` of [0, 1, 2, 3]),
 *    then one `uniform` each for brightness, contrast, saturation and hue, skipping (as
 *    torchvision does) any whose strength is 0, which also skips that operation;
 * 4. grayscale: one `uniform`, always drawn.
 * A view is therefore a pure function of (image, random state, config, outSize).
 */
import type { Random } from '../generators/random';
import type { AugmentConfig } from './config';

/** An RGB image of any shape, 8 bits per channel, row-major, channels interleaved. */
export interface SourceImage {
	width: number;
	height: number;
	/** `width * height * 3` bytes. */
	data: Uint8Array;
}

/** STL-10 channel statistics, which the paper normalises with. */
export const stl10Mean = [0.44087802, 0.42790631, 0.38678794] as const;
/** See {@link stl10Mean}. */
export const stl10Std = [0.26826769, 0.26104504, 0.26866837] as const;

/** A crop rectangle in source pixels (integers, as torchvision draws them). */
export interface CropBox {
	x: number;
	y: number;
	width: number;
	height: number;
}

/** Everything that was drawn for one view, for tests and for debugging a batch. */
export interface ViewRecord {
	crop: CropBox;
	flipped: boolean;
	/** The order the four jitter operations ran in: 0 brightness, 1 contrast, 2 saturation, 3 hue. */
	jitterOrder: number[];
	brightness: number;
	contrast: number;
	saturation: number;
	/** Hue shift as a fraction of a full turn. */
	hue: number;
	grayscale: boolean;
}

/** torchvision's number of (scale, ratio) tries before the centre-crop fallback. */
const cropTries = 10;

/**
 * Python 3's `round`: halves go to the even neighbour. torchvision rounds crop sizes with it, and
 * a half-up rounding would shift some crop sizes by a pixel.
 */
export function roundHalfEven(value: number): number {
	const floor = Math.floor(value);
	const fraction = value - floor;
	if (fraction > 0.5) return floor + 1;
	if (fraction < 0.5) return floor;
	return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * torchvision's `RandomResizedCrop.get_params`: up to 10 tries of (scale, log-uniform ratio),
 * then a centre crop clamped to the ratio range.
 */
export function randomResizedCropBox(
	width: number,
	height: number,
	random: Random,
	config: AugmentConfig
): CropBox {
	const area = width * height;
	const logRatioMin = Math.log(config.cropRatioMin);
	const logRatioMax = Math.log(config.cropRatioMax);
	for (let attempt = 0; attempt < cropTries; attempt++) {
		const targetArea = area * random.range(config.cropScaleMin, config.cropScaleMax);
		const aspectRatio = Math.exp(random.range(logRatioMin, logRatioMax));
		const cropWidth = roundHalfEven(Math.sqrt(targetArea * aspectRatio));
		const cropHeight = roundHalfEven(Math.sqrt(targetArea / aspectRatio));
		if (cropWidth > 0 && cropWidth <= width && cropHeight > 0 && cropHeight <= height) {
			const y = random.int(height - cropHeight + 1);
			const x = random.int(width - cropWidth + 1);
			return { x, y, width: cropWidth, height: cropHeight };
		}
	}
	const inputRatio = width / height;
	let cropWidth = width;
	let cropHeight = height;
	if (inputRatio < config.cropRatioMin) {
		cropHeight = roundHalfEven(cropWidth / config.cropRatioMin);
	} else if (inputRatio > config.cropRatioMax) {
		cropWidth = roundHalfEven(cropHeight * config.cropRatioMax);
	}
	return {
		x: Math.floor((width - cropWidth) / 2),
		y: Math.floor((height - cropHeight) / 2),
		width: cropWidth,
		height: cropHeight
	};
}

// ---------------------------------------------------------------------------------------------
// Resampling: PIL's ImagingResample with the BILINEAR (triangle) filter.

/** PIL's fixed-point precision for 8-bit resampling coefficients. */
const precisionBits = 32 - 8 - 2;
const roundingHalf = 1 << (precisionBits - 1);

/** One axis of a resize: for each output index, its first input index, tap count and weights. */
interface ResampleAxis {
	tapsPerOutput: number;
	firstInput: Int32Array;
	tapCount: Int32Array;
	/**
	 * `outSize * tapsPerOutput` fixed-point weights, held as doubles: every product and sum is an
	 * integer below 2^31, so the arithmetic is exact and skips V8's int32 overflow checks.
	 */
	weights: Float64Array;
}

function triangleFilter(x: number): number {
	const distance = x < 0 ? -x : x;
	return distance < 1 ? 1 - distance : 0;
}

/** PIL's `precompute_coeffs` followed by `normalize_coeffs_8bpc`, for a box starting at 0. */
function buildResampleAxis(inSize: number, outSize: number): ResampleAxis {
	const scale = inSize / outSize;
	const filterScale = scale < 1 ? 1 : scale;
	// Widening the triangle by the scale factor is what makes PIL's downscale antialiased.
	const support = filterScale;
	const tapsPerOutput = Math.ceil(support) * 2 + 1;
	const firstInput = new Int32Array(outSize);
	const tapCount = new Int32Array(outSize);
	const weights = new Float64Array(outSize * tapsPerOutput);
	const raw = new Float64Array(tapsPerOutput);
	const inverseFilterScale = 1 / filterScale;
	for (let outIndex = 0; outIndex < outSize; outIndex++) {
		const center = (outIndex + 0.5) * scale;
		let first = Math.trunc(center - support + 0.5);
		if (first < 0) first = 0;
		let end = Math.trunc(center + support + 0.5);
		if (end > inSize) end = inSize;
		const count = end - first;
		let total = 0;
		for (let tap = 0; tap < count; tap++) {
			const weight = triangleFilter((tap + first - center + 0.5) * inverseFilterScale);
			raw[tap] = weight;
			total += weight;
		}
		for (let tap = 0; tap < count; tap++) {
			const normalised = total !== 0 ? (raw[tap] as number) / total : (raw[tap] as number);
			const scaled = normalised * (1 << precisionBits);
			weights[outIndex * tapsPerOutput + tap] = Math.trunc(
				normalised < 0 ? scaled - 0.5 : scaled + 0.5
			);
		}
		firstInput[outIndex] = first;
		tapCount[outIndex] = count;
	}
	return { tapsPerOutput, firstInput, tapCount, weights };
}

/** Crop sizes repeat constantly (at most one per source length and output size). */
const resampleAxisCache = new Map<number, ResampleAxis>();
const resampleAxisCacheLimit = 2048;

function resampleAxis(inSize: number, outSize: number): ResampleAxis {
	const key = inSize * 65536 + outSize;
	let axis = resampleAxisCache.get(key);
	if (axis === undefined) {
		if (resampleAxisCache.size >= resampleAxisCacheLimit) resampleAxisCache.clear();
		axis = buildResampleAxis(inSize, outSize);
		resampleAxisCache.set(key, axis);
	}
	return axis;
}

function clipFixedPoint(sum: number): number {
	const value = sum >> precisionBits;
	return value < 0 ? 0 : value > 255 ? 255 : value;
}

/**
 * Reused between calls: a data thread builds one view at a time. Clamped, so that storing a sum
 * shifted down is PIL's `clip8`.
 */
let horizontalScratch = new Uint8ClampedArray(0);

/**
 * Crops `crop` out of `image` and resizes it to `outWidth × outHeight` into `out` (RGB bytes),
 * as PIL's `image.crop(box).resize(size, BILINEAR)`: horizontal pass first, rounded to 8 bits,
 * then the vertical pass, with only the rows the vertical pass reads computed.
 */
export function resizeCropBilinear(
	image: SourceImage,
	crop: CropBox,
	outWidth: number,
	outHeight: number,
	out: Uint8Array
): void {
	const horizontal = resampleAxis(crop.width, outWidth);
	const vertical = resampleAxis(crop.height, outHeight);
	const firstRow = vertical.firstInput[0] as number;
	const lastRow =
		(vertical.firstInput[outHeight - 1] as number) + (vertical.tapCount[outHeight - 1] as number);
	const rowCount = lastRow - firstRow;
	const tempStride = outWidth * 3;
	if (horizontalScratch.length < rowCount * tempStride) {
		horizontalScratch = new Uint8ClampedArray(rowCount * tempStride);
	}
	const temp = horizontalScratch;
	const source = image.data;
	const sourceStride = image.width * 3;
	const {
		tapsPerOutput: hTaps,
		firstInput: hFirst,
		tapCount: hCount,
		weights: hWeights
	} = horizontal;
	for (let row = 0; row < rowCount; row++) {
		const sourceRow = (crop.y + firstRow + row) * sourceStride + crop.x * 3;
		const tempRow = row * tempStride;
		for (let outX = 0; outX < outWidth; outX++) {
			const weightBase = outX * hTaps;
			const count = hCount[outX] as number;
			let pixel = sourceRow + (hFirst[outX] as number) * 3;
			let red = roundingHalf;
			let green = roundingHalf;
			let blue = roundingHalf;
			for (let tap = 0; tap < count; tap++, pixel += 3) {
				const weight = hWeights[weightBase + tap] as number;
				red += (source[pixel] as number) * weight;
				green += (source[pixel + 1] as number) * weight;
				blue += (source[pixel + 2] as number) * weight;
			}
			const target = tempRow + outX * 3;
			temp[target] = red >> precisionBits;
			temp[target + 1] = green >> precisionBits;
			temp[target + 2] = blue >> precisionBits;
		}
	}
	const {
		tapsPerOutput: vTaps,
		firstInput: vFirst,
		tapCount: vCount,
		weights: vWeights
	} = vertical;
	for (let outY = 0; outY < outHeight; outY++) {
		const weightBase = outY * vTaps;
		const count = vCount[outY] as number;
		const firstOffset = ((vFirst[outY] as number) - firstRow) * tempStride;
		const outRow = outY * tempStride;
		for (let i = 0; i < tempStride; i++) {
			let sum = roundingHalf;
			let offset = firstOffset + i;
			for (let tap = 0; tap < count; tap++, offset += tempStride) {
				sum += (temp[offset] as number) * (vWeights[weightBase + tap] as number);
			}
			out[outRow + i] = clipFixedPoint(sum);
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Colour: PIL's ImageEnhance and HSV conversions on RGB bytes, in place.

/** PIL's `convert('L')`: ITU-R 601-2 luma in 16-bit fixed point, halves rounded up. */
export function luma(red: number, green: number, blue: number): number {
	return (red * 19595 + green * 38470 + blue * 7471 + 0x8000) >> 16;
}

/**
 * PIL's `Image.blend(degenerate, image, factor)` for one byte: float32 arithmetic, truncated,
 * clipped when extrapolating.
 */
function blendByte(degenerate: number, value: number, factor32: number): number {
	const blended = Math.fround(degenerate + Math.fround(factor32 * (value - degenerate)));
	return blended <= 0 ? 0 : blended >= 255 ? 255 : Math.trunc(blended);
}

const blendTable = new Uint8Array(256);

function blendTowardsConstant(pixels: Uint8Array, degenerate: number, factor: number): void {
	const factor32 = Math.fround(factor);
	for (let value = 0; value < 256; value++)
		blendTable[value] = blendByte(degenerate, value, factor32);
	for (let i = 0; i < pixels.length; i++) pixels[i] = blendTable[pixels[i] as number] as number;
}

/** torchvision's `adjust_brightness` on PIL: `ImageEnhance.Brightness` (blend with black). */
export function adjustBrightness(pixels: Uint8Array, factor: number): void {
	blendTowardsConstant(pixels, 0, factor);
}

/**
 * torchvision's `adjust_contrast` on PIL: `ImageEnhance.Contrast`, a blend with a flat grey at
 * the mean of the luma image, rounded half up.
 */
export function adjustContrast(pixels: Uint8Array, factor: number): void {
	let total = 0;
	for (let i = 0; i < pixels.length; i += 3) {
		total += luma(pixels[i] as number, pixels[i + 1] as number, pixels[i + 2] as number);
	}
	const mean = Math.trunc(total / (pixels.length / 3) + 0.5);
	blendTowardsConstant(pixels, mean, factor);
}

/** torchvision's `adjust_saturation` on PIL: `ImageEnhance.Color`, a blend with the luma image. */
export function adjustSaturation(pixels: Uint8Array, factor: number): void {
	const factor32 = Math.fround(factor);
	for (let i = 0; i < pixels.length; i += 3) {
		const red = pixels[i] as number;
		const green = pixels[i + 1] as number;
		const blue = pixels[i + 2] as number;
		const gray = luma(red, green, blue);
		pixels[i] = blendByte(gray, red, factor32);
		pixels[i + 1] = blendByte(gray, green, factor32);
		pixels[i + 2] = blendByte(gray, blue, factor32);
	}
}

/**
 * Tables for PIL's 8-bit HSV conversions, built on first use: `quotients[d * 256 + n]` is the
 * float32 `n / d` of `rgb2hsv_row`, and per hue byte the sector and float32 remainder, per
 * saturation byte the float32 `s / 255`, of `hsv2rgb`.
 */
interface HsvTables {
	quotients: Float32Array;
	hueSector: Uint8Array;
	hueFraction: Float32Array;
	saturationUnit: Float32Array;
}

let hsvTables: HsvTables | null = null;

/** For each `hsv2rgb` sector, which of (v, p, q, t) goes to red, green and blue. */
const sectorChannels = new Uint8Array([0, 3, 1, 2, 0, 1, 1, 0, 3, 1, 2, 0, 3, 1, 0, 0, 1, 2]);
const hsvCandidates = new Uint8Array(4);

function getHsvTables(): HsvTables {
	if (hsvTables !== null) return hsvTables;
	const quotients = new Float32Array(256 * 256);
	for (let denominator = 1; denominator < 256; denominator++) {
		for (let numerator = 0; numerator <= denominator; numerator++) {
			quotients[denominator * 256 + numerator] = numerator / denominator;
		}
	}
	const hueSector = new Uint8Array(256);
	const hueFraction = new Float32Array(256);
	const saturationUnit = new Float32Array(256);
	for (let byte = 0; byte < 256; byte++) {
		const sector = Math.floor((byte * 6) / 255);
		// Byte 255 lands on sector 6, which PIL folds back to 0 with `i % 6`.
		hueSector[byte] = sector % 6;
		hueFraction[byte] = (byte * 6) / 255 - sector;
		saturationUnit[byte] = byte / 255;
	}
	hsvTables = { quotients, hueSector, hueFraction, saturationUnit };
	return hsvTables;
}

/**
 * torchvision's `adjust_hue` on PIL: to PIL's 8-bit HSV, add `trunc(factor · 255)` to H with
 * uint8 wrap-around (numpy's cast of a negative float), and back to RGB. The float32/float64
 * mix of PIL's `rgb2hsv_row` and `hsv2rgb` is kept, since it decides which byte a hue lands on.
 */
export function adjustHue(pixels: Uint8Array, factor: number): void {
	const shift = ((Math.trunc(factor * 255) % 256) + 256) % 256;
	const { quotients, hueSector, hueFraction, saturationUnit } = getHsvTables();
	const f32 = Math.fround;
	// Flat regions (dead leaves, shapes) repeat a colour over many pixels in a row.
	let lastInput = -1;
	let lastRed = 0;
	let lastGreen = 0;
	let lastBlue = 0;
	for (let i = 0; i < pixels.length; i += 3) {
		const red = pixels[i] as number;
		const green = pixels[i + 1] as number;
		const blue = pixels[i + 2] as number;
		const packed = (red << 16) | (green << 8) | blue;
		if (packed !== lastInput) {
			lastInput = packed;
			const max = red > green ? (red > blue ? red : blue) : green > blue ? green : blue;
			const min = red < green ? (red < blue ? red : blue) : green < blue ? green : blue;
			const range = max - min;
			// Grey has saturation 0, which PIL maps back to grey whatever the hue; so does a
			// saturation below one byte step.
			const saturationByte =
				range === 0 ? 0 : Math.trunc((quotients[max * 256 + range] as number) * 255);
			if (saturationByte === 0) {
				lastRed = max;
				lastGreen = max;
				lastBlue = max;
			} else {
				const row = range * 256;
				const redDistance = quotients[row + max - red] as number;
				const greenDistance = quotients[row + max - green] as number;
				const blueDistance = quotients[row + max - blue] as number;
				let hue: number;
				if (red === max) hue = f32(blueDistance - greenDistance);
				else if (green === max) hue = f32(2 + redDistance - blueDistance);
				else hue = f32(4 + greenDistance - redDistance);
				// PIL's fmod(h / 6 + 1, 1): the argument lies in [5/6, 11/6], where this is exact.
				const turns = hue / 6 + 1;
				const hueByte = (Math.trunc(f32(turns >= 1 ? turns - 1 : turns) * 255) + shift) & 255;
				const unit = saturationUnit[saturationByte] as number;
				const fraction = hueFraction[hueByte] as number;
				// All three lie in [0, max], so PIL's clip never acts, and C's round is floor(x + 0.5).
				hsvCandidates[0] = max;
				hsvCandidates[1] = (max * (1 - unit) + 0.5) | 0;
				hsvCandidates[2] = (max * (1 - f32(unit * fraction)) + 0.5) | 0;
				hsvCandidates[3] = (max * (1 - unit * (1 - fraction)) + 0.5) | 0;
				// Each sector places (v, p, q, t) in a fixed channel order; a table avoids a six-way
				// branch that noise images mispredict on almost every pixel.
				const slot = (hueSector[hueByte] as number) * 3;
				lastRed = hsvCandidates[sectorChannels[slot] as number] as number;
				lastGreen = hsvCandidates[sectorChannels[slot + 1] as number] as number;
				lastBlue = hsvCandidates[sectorChannels[slot + 2] as number] as number;
			}
		}
		pixels[i] = lastRed;
		pixels[i + 1] = lastGreen;
		pixels[i + 2] = lastBlue;
	}
}

// ---------------------------------------------------------------------------------------------
// The view.

/**
 * `(v / 255 − mean) / std` in float32 for every byte and channel, as torchvision's `ToTensor`
 * and `Normalize` compute it; indexed `channel * 256 + byte`.
 */
const normalisationTable = (() => {
	const table = new Float32Array(3 * 256);
	for (let channel = 0; channel < 3; channel++) {
		const mean = Math.fround(stl10Mean[channel] as number);
		const std = Math.fround(stl10Std[channel] as number);
		for (let value = 0; value < 256; value++) {
			table[channel * 256 + value] = Math.fround(Math.fround(value / 255) - mean) / std;
		}
	}
	return table;
})();

let viewScratch = new Uint8Array(0);

/** A jitter factor range `[max(0, 1 − s), 1 + s]`, or null when torchvision would skip it. */
function drawFactor(random: Random, strength: number): number | null {
	if (strength === 0) return null;
	return random.range(Math.max(0, 1 - strength), 1 + strength);
}

/**
 * Draws one augmented view of `image` and writes it, normalised with the STL-10 statistics, as
 * `outSize × outSize × 3` floats (NHWC, row-major) into `out` starting at `offset`.
 */
export function augmentView(
	image: SourceImage,
	random: Random,
	config: AugmentConfig,
	outSize: number,
	out: Float32Array,
	offset: number
): ViewRecord {
	if (image.data.length !== image.width * image.height * 3) {
		throw new RangeError(
			`augmentView needs width·height·3 = ${image.width * image.height * 3} bytes for a ` +
				`${image.width}×${image.height} image, got ${image.data.length}; pass interleaved RGB.`
		);
	}
	const valueCount = outSize * outSize * 3;
	if (!Number.isInteger(outSize) || outSize < 1 || offset < 0 || offset + valueCount > out.length) {
		throw new RangeError(
			`augmentView cannot write a ${outSize}×${outSize} view at offset ${offset} into ` +
				`${out.length} floats; size the batch buffer for ${valueCount} floats per view.`
		);
	}

	const crop = randomResizedCropBox(image.width, image.height, random, config);
	const flipped = random.uniform() < config.flipProbability;
	const jitterOrder = random.shuffle([0, 1, 2, 3]);
	const brightness = drawFactor(random, config.brightness);
	const contrast = drawFactor(random, config.contrast);
	const saturation = drawFactor(random, config.saturation);
	const hue = config.hue === 0 ? null : random.range(-config.hue, config.hue);
	const grayscale = random.uniform() < config.grayscaleProbability;

	if (viewScratch.length < valueCount) viewScratch = new Uint8Array(valueCount);
	const pixels = viewScratch.subarray(0, valueCount);
	resizeCropBilinear(image, crop, outSize, outSize, pixels);
	// Every jitter operation is per pixel or uses a flip-invariant mean, so the flip is applied
	// when writing the output rather than as a separate pass.
	for (const operation of jitterOrder) {
		if (operation === 0 && brightness !== null) adjustBrightness(pixels, brightness);
		else if (operation === 1 && contrast !== null) adjustContrast(pixels, contrast);
		else if (operation === 2 && saturation !== null) adjustSaturation(pixels, saturation);
		else if (operation === 3 && hue !== null) adjustHue(pixels, hue);
	}

	const table = normalisationTable;
	for (let y = 0; y < outSize; y++) {
		const rowStart = y * outSize;
		for (let x = 0; x < outSize; x++) {
			const source = (rowStart + (flipped ? outSize - 1 - x : x)) * 3;
			const target = offset + (rowStart + x) * 3;
			const red = pixels[source] as number;
			const green = pixels[source + 1] as number;
			const blue = pixels[source + 2] as number;
			if (grayscale) {
				const gray = luma(red, green, blue);
				out[target] = table[gray] as number;
				out[target + 1] = table[256 + gray] as number;
				out[target + 2] = table[512 + gray] as number;
			} else {
				out[target] = table[red] as number;
				out[target + 1] = table[256 + green] as number;
				out[target + 2] = table[512 + blue] as number;
			}
		}
	}

	return {
		crop,
		flipped,
		jitterOrder,
		brightness: brightness ?? 1,
		contrast: contrast ?? 1,
		saturation: saturation ?? 1,
		hue: hue ?? 0,
		grayscale
	};
}
