import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/generators/random';
import {
	adjustBrightness,
	adjustContrast,
	adjustHue,
	adjustSaturation,
	augmentView,
	luma,
	randomResizedCropBox,
	resizeCropBilinear,
	roundHalfEven,
	stl10Mean,
	stl10Std,
	type CropBox,
	type SourceImage
} from '../../../src/core/training/augment';
import { augmentConfigSchema, type AugmentConfig } from '../../../src/core/training/config';

/** Indexed access that fails loudly instead of yielding undefined. */
function at<T>(items: ArrayLike<T>, index: number): T {
	const item = items[index];
	if (item === undefined) throw new RangeError(`index ${index} is outside 0..${items.length - 1}`);
	return item;
}

const paperConfig = augmentConfigSchema.parse({});

function configWith(overrides: Partial<AugmentConfig>): AugmentConfig {
	return augmentConfigSchema.parse({ ...paperConfig, ...overrides });
}

/** Whole image, no flip, no jitter, no grayscale: the view is the image itself. */
const identityConfig = configWith({
	cropScaleMin: 1,
	cropScaleMax: 1,
	cropRatioMin: 1,
	cropRatioMax: 1,
	flipProbability: 0,
	brightness: 0,
	contrast: 0,
	saturation: 0,
	hue: 0,
	grayscaleProbability: 0
});

function noiseImage(width: number, height: number, seed: number): SourceImage {
	const random = new Random(seed);
	const data = new Uint8Array(width * height * 3);
	for (let i = 0; i < data.length; i++) data[i] = random.int(256);
	return { width, height, data };
}

/** A smooth colourful image, closer to what the generators produce than white noise. */
function gradientImage(size: number): SourceImage {
	const data = new Uint8Array(size * size * 3);
	for (let y = 0; y < size; y++) {
		for (let x = 0; x < size; x++) {
			const i = (y * size + x) * 3;
			data[i] = Math.round((255 * x) / (size - 1));
			data[i + 1] = Math.round((255 * y) / (size - 1));
			data[i + 2] = Math.round(127.5 + 127.5 * Math.sin((x + y) / 9));
		}
	}
	return { width: size, height: size, data };
}

/** Inverts the normalisation back to bytes (exact: the forward map is injective per channel). */
function denormalise(view: Float32Array): Uint8Array {
	const bytes = new Uint8Array(view.length);
	for (let i = 0; i < view.length; i++) {
		const channel = i % 3;
		const value = (view[i] as number) * at(stl10Std, channel) + at(stl10Mean, channel);
		bytes[i] = Math.round(value * 255);
	}
	return bytes;
}

function render(image: SourceImage, seed: number, config: AugmentConfig, outSize: number) {
	const out = new Float32Array(outSize * outSize * 3);
	const record = augmentView(image, new Random(seed), config, outSize, out, 0);
	return { out, record };
}

describe('randomResizedCropBox', () => {
	it('honours the scale and ratio ranges up to the rounding of each side', () => {
		const random = new Random(1);
		const [width, height] = [128, 96];
		let smallest = 1;
		let largest = 0;
		for (let draw = 0; draw < 5000; draw++) {
			const box = randomResizedCropBox(width, height, random, paperConfig);
			expect(Number.isInteger(box.x) && Number.isInteger(box.width)).toBe(true);
			expect(box.x).toBeGreaterThanOrEqual(0);
			expect(box.y).toBeGreaterThanOrEqual(0);
			expect(box.x + box.width).toBeLessThanOrEqual(width);
			expect(box.y + box.height).toBeLessThanOrEqual(height);
			const area = width * height;
			// Each side was rounded from the exact value, so the exact box is within half a pixel.
			expect((box.width + 0.5) * (box.height + 0.5)).toBeGreaterThanOrEqual(0.08 * area);
			expect((box.width - 0.5) * (box.height - 0.5)).toBeLessThanOrEqual(area);
			expect((box.width + 0.5) / (box.height - 0.5)).toBeGreaterThanOrEqual(3 / 4);
			expect((box.width - 0.5) / (box.height + 0.5)).toBeLessThanOrEqual(4 / 3);
			const fraction = (box.width * box.height) / area;
			smallest = Math.min(smallest, fraction);
			largest = Math.max(largest, fraction);
		}
		expect(smallest).toBeLessThan(0.09);
		expect(largest).toBeGreaterThan(0.9);
	});

	it('gives the exact size when the ranges collapse, at uniformly drawn positions', () => {
		const random = new Random(2);
		const config = configWith({
			cropScaleMin: 0.5,
			cropScaleMax: 0.5,
			cropRatioMin: 1,
			cropRatioMax: 1
		});
		const leftCounts = new Array<number>(100 - 71 + 1).fill(0);
		for (let draw = 0; draw < 3000; draw++) {
			const box = randomResizedCropBox(100, 100, random, config);
			expect([box.width, box.height]).toEqual([71, 71]);
			leftCounts[box.x] = at(leftCounts, box.x) + 1;
		}
		// 30 positions, 100 expected each: every one is reached, none is far off.
		expect(Math.min(...leftCounts)).toBeGreaterThan(50);
		expect(Math.max(...leftCounts)).toBeLessThan(150);
	});

	it('falls back to a centre crop clamped to the ratio range when no try fits', () => {
		const config = configWith({ cropScaleMin: 0.9 });
		expect(randomResizedCropBox(200, 10, new Random(3), config)).toEqual({
			x: 93,
			y: 0,
			width: 13,
			height: 10
		});
		expect(randomResizedCropBox(10, 200, new Random(3), config)).toEqual({
			x: 0,
			y: 93,
			width: 10,
			height: 13
		});
	});

	it('rounds halves to even as Python does', () => {
		expect([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3]);
	});
});

describe('resizeCropBilinear', () => {
	it('keeps a constant image constant for any crop and size', () => {
		const image: SourceImage = {
			width: 97,
			height: 61,
			data: new Uint8Array(97 * 61 * 3).map((_, i) => at([37, 150, 220], i % 3))
		};
		const random = new Random(4);
		for (let draw = 0; draw < 200; draw++) {
			const box = randomResizedCropBox(image.width, image.height, random, paperConfig);
			const size = at([16, 32, 64, 100], draw % 4);
			const out = new Uint8Array(size * size * 3);
			resizeCropBilinear(image, box, size, size, out);
			const wrong = out.filter((value, i) => value !== [37, 150, 220][i % 3]).length;
			if (wrong > 0) expect.fail(`${wrong} values changed for ${JSON.stringify(box)} → ${size}`);
		}
	});

	it('antialiases a downscale: a pixel checkerboard becomes mid-grey', () => {
		const size = 128;
		const data = new Uint8Array(size * size * 3);
		for (let i = 0; i < size * size; i++) {
			const value = ((i % size) + Math.floor(i / size)) % 2 === 0 ? 255 : 0;
			data.fill(value, i * 3, i * 3 + 3);
		}
		// At 37 and 45 px a point-sampling bilinear would alias to values anywhere in 0..255.
		for (const outSize of [64, 32, 37, 45]) {
			const out = new Uint8Array(outSize * outSize * 3);
			resizeCropBilinear(
				{ width: size, height: size, data },
				{ x: 0, y: 0, width: size, height: size },
				outSize,
				outSize,
				out
			);
			const values = Array.from(out);
			expect(Math.min(...values)).toBeGreaterThanOrEqual(122);
			expect(Math.max(...values)).toBeLessThanOrEqual(133);
		}
	});

	it('matches hand-computed PIL fixed-point values', () => {
		// 4 → 2 pixels: taps (3/7, 3/7, 1/7) over 0..2 and (1/7, 3/7, 3/7) over 1..3, in 22-bit
		// fixed point: 500/7 → 71 and 1465/7 → 209.
		const row = [0, 100, 200, 255];
		const data = new Uint8Array(row.flatMap((value) => [value, value, value]));
		const out = new Uint8Array(2 * 3);
		resizeCropBilinear(
			{ width: 4, height: 1, data },
			{ x: 0, y: 0, width: 4, height: 1 },
			2,
			1,
			out
		);
		expect(Array.from(out)).toEqual([71, 71, 71, 209, 209, 209]);
		const pair = new Uint8Array([0, 0, 0, 255, 255, 255]);
		const one = new Uint8Array(3);
		resizeCropBilinear(
			{ width: 2, height: 1, data: pair },
			{ x: 0, y: 0, width: 2, height: 1 },
			1,
			1,
			one
		);
		expect(Array.from(one)).toEqual([128, 128, 128]);
	});

	it('upscales by interpolating between neighbours', () => {
		const data = new Uint8Array([0, 0, 0, 200, 200, 200]);
		const out = new Uint8Array(4 * 3);
		resizeCropBilinear(
			{ width: 2, height: 1, data },
			{ x: 0, y: 0, width: 2, height: 1 },
			4,
			1,
			out
		);
		// Centres at 0.25, 0.75, 1.25, 1.75 source pixels: weights 1, 0.75/0.25, 0.25/0.75, 1.
		expect(Array.from(out.filter((_, i) => i % 3 === 0))).toEqual([0, 50, 150, 200]);
	});
});

describe('colour operations', () => {
	it('brightness blends with black, truncating and clipping as PIL', () => {
		const pixels = new Uint8Array([200, 100, 1, 255, 0, 7]);
		adjustBrightness(pixels, 0.5);
		expect(Array.from(pixels)).toEqual([100, 50, 0, 127, 0, 3]);
		const bright = new Uint8Array([200, 100, 1]);
		adjustBrightness(bright, 1.4);
		expect(Array.from(bright)).toEqual([255, 140, 1]);
	});

	it('contrast 0 gives the rounded mean luma everywhere', () => {
		const image = noiseImage(16, 16, 5).data;
		let total = 0;
		for (let i = 0; i < image.length; i += 3)
			total += luma(at(image, i), at(image, i + 1), at(image, i + 2));
		const mean = Math.floor(total / 256 + 0.5);
		adjustContrast(image, 0);
		expect(new Set(image)).toEqual(new Set([mean]));
	});

	it('saturation 0 gives the luma image and 1 is the identity', () => {
		const image = noiseImage(16, 16, 6).data;
		const copy = image.slice();
		adjustSaturation(copy, 1);
		expect(copy).toEqual(image);
		adjustSaturation(copy, 0);
		for (let i = 0; i < image.length; i += 3) {
			const gray = luma(at(image, i), at(image, i + 1), at(image, i + 2));
			expect([copy[i], copy[i + 1], copy[i + 2]]).toEqual([gray, gray, gray]);
		}
	});

	it('a hue shift of 0 keeps colours within the PIL 8-bit HSV quantisation, greys exactly', () => {
		const image = noiseImage(32, 32, 7).data;
		const shifted = image.slice();
		adjustHue(shifted, 0);
		let worst = 0;
		for (let i = 0; i < image.length; i++)
			worst = Math.max(worst, Math.abs(at(shifted, i) - at(image, i)));
		// H is stored in 1/255 of a turn: one step moves a channel by up to 6/255 of its value.
		expect(worst).toBeLessThanOrEqual(6);
		const greys = new Uint8Array([0, 0, 0, 90, 90, 90, 255, 255, 255]);
		adjustHue(greys, 0.37);
		expect(Array.from(greys)).toEqual([0, 0, 0, 90, 90, 90, 255, 255, 255]);
	});

	it('a hue shift of a third of a turn maps red to green and green to blue', () => {
		const pixels = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]);
		adjustHue(pixels, 1 / 3);
		expect(Array.from(pixels)).toEqual([0, 255, 0, 0, 0, 255, 255, 0, 0]);
		const back = new Uint8Array([255, 0, 0]);
		adjustHue(back, -1 / 3);
		// trunc(−85) wraps to 171: blue, one hue step off.
		expect(back[0]).toBeLessThanOrEqual(6);
		expect(back[1]).toBe(0);
		expect(back[2]).toBe(255);
	});

	it('luma is ITU-R 601 with PIL fixed-point rounding', () => {
		const random = new Random(8);
		for (let draw = 0; draw < 2000; draw++) {
			const [r, g, b] = [random.int(256), random.int(256), random.int(256)];
			const exact = (r * 299 + g * 587 + b * 114) / 1000;
			expect(Math.abs(luma(r, g, b) - exact)).toBeLessThanOrEqual(0.51);
		}
		expect(luma(255, 255, 255)).toBe(255);
		expect(luma(255, 0, 0)).toBe(76);
		expect(luma(0, 255, 0)).toBe(150);
		expect(luma(0, 0, 255)).toBe(29);
	});
});

/**
 * Hashes (FNV-1a) and first bytes of what Pillow 9.4 returns for the same operations on the same
 * 16×12 image, computed once with `Image.crop/resize(BILINEAR)`, `ImageEnhance`, torchvision's
 * PIL `adjust_hue` and `convert('L')`.
 */
const pillowGolden: [string, number, number[]][] = [
	['resize 3,2 11x9 -> 5x5', 0x24993218, [159, 147, 119, 155, 148, 129]],
	['resize 3,2 11x9 -> 13x13', 0x118aeb2c, [175, 246, 61, 236, 110, 122]],
	['resize full -> 7x4', 0x444cea96, [107, 128, 144, 136, 143, 142]],
	['brightness 1.3', 0x82633ba1, [0, 92, 184, 68, 161, 253]],
	['contrast 0.7', 0x9c696d2a, [38, 87, 137, 75, 124, 174]],
	['contrast 1.38', 0xae698771, [0, 49, 147, 24, 122, 220]],
	['saturation 1.37', 0x963dc5ed, [0, 75, 173, 31, 128, 226]],
	['saturation 0.61', 0x745d6215, [22, 65, 109, 75, 118, 162]],
	['hue -0.23', 0x8a7ff660, [0, 142, 17, 54, 195, 70]],
	['hue 0.4', 0xc3f07bc8, [142, 0, 17, 195, 54, 70]],
	['gray', 0x21dd7ea2, [58, 111, 164, 188, 90, 67]]
];

function goldenSource(): SourceImage {
	const [width, height] = [16, 12];
	const data = new Uint8Array(width * height * 3);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			for (let c = 0; c < 3; c++) {
				data[(y * width + x) * 3 + c] = (x * 53 + y * 97 + c * 71 + x * y * 13) % 256;
			}
		}
	}
	return { width, height, data };
}

function fnv1a(bytes: Uint8Array): number {
	let hash = 0x811c9dc5;
	for (const value of bytes) hash = Math.imul(hash ^ value, 0x01000193) >>> 0;
	return hash;
}

function goldenOperation(name: string, image: SourceImage): Uint8Array {
	const pixels = image.data.slice();
	const resized = (crop: CropBox, width: number, height: number) => {
		const out = new Uint8Array(width * height * 3);
		resizeCropBilinear(image, crop, width, height, out);
		return out;
	};
	const [operation, argument] = name.split(' ');
	const factor = Number(argument);
	switch (operation) {
		case 'brightness':
			adjustBrightness(pixels, factor);
			return pixels;
		case 'contrast':
			adjustContrast(pixels, factor);
			return pixels;
		case 'saturation':
			adjustSaturation(pixels, factor);
			return pixels;
		case 'hue':
			adjustHue(pixels, factor);
			return pixels;
		case 'gray':
			return pixels
				.filter((_, i) => i % 3 === 0)
				.map((_, i) => luma(at(pixels, i * 3), at(pixels, i * 3 + 1), at(pixels, i * 3 + 2)));
		default:
			if (name.endsWith('5x5')) return resized({ x: 3, y: 2, width: 11, height: 9 }, 5, 5);
			if (name.endsWith('13x13')) return resized({ x: 3, y: 2, width: 11, height: 9 }, 13, 13);
			return resized({ x: 0, y: 0, width: 16, height: 12 }, 7, 4);
	}
}

describe('bit-exact against Pillow', () => {
	for (const [name, hash, head] of pillowGolden) {
		it(name, () => {
			const bytes = goldenOperation(name, goldenSource());
			expect(Array.from(bytes.subarray(0, 6))).toEqual(head);
			expect(fnv1a(bytes).toString(16)).toBe(hash.toString(16));
		});
	}
});

describe('augmentView', () => {
	it('is the image itself when every augmentation is off', () => {
		const image = noiseImage(48, 48, 9);
		const { out, record } = render(image, 10, identityConfig, 48);
		expect(denormalise(out)).toEqual(image.data);
		expect(record).toMatchObject({
			crop: { x: 0, y: 0, width: 48, height: 48 },
			flipped: false,
			brightness: 1,
			contrast: 1,
			saturation: 1,
			hue: 0,
			grayscale: false
		});
	});

	it('grayscale is exactly PIL luma replicated to three channels', () => {
		const image = noiseImage(40, 40, 11);
		const { out, record } = render(image, 12, { ...identityConfig, grayscaleProbability: 1 }, 40);
		expect(record.grayscale).toBe(true);
		const bytes = denormalise(out);
		for (let i = 0; i < bytes.length; i += 3) {
			const gray = luma(at(image.data, i), at(image.data, i + 1), at(image.data, i + 2));
			expect([bytes[i], bytes[i + 1], bytes[i + 2]]).toEqual([gray, gray, gray]);
		}
	});

	it('a flipped view is the mirror of the unflipped one drawn from the same state', () => {
		const image = gradientImage(128);
		for (const seed of [13, 14, 15]) {
			const size = 64;
			const plain = render(image, seed, { ...paperConfig, flipProbability: 0 }, size);
			const mirrored = render(image, seed, { ...paperConfig, flipProbability: 1 }, size);
			expect(plain.record.flipped).toBe(false);
			expect(mirrored.record.flipped).toBe(true);
			expect({ ...mirrored.record, flipped: false }).toEqual(plain.record);
			for (let y = 0; y < size; y++) {
				for (let x = 0; x < size; x++) {
					for (let c = 0; c < 3; c++) {
						const a = mirrored.out[(y * size + x) * 3 + c];
						const b = plain.out[(y * size + size - 1 - x) * 3 + c];
						if (a !== b) expect.fail(`pixel (${x}, ${y}) channel ${c}: ${a} vs ${b}`);
					}
				}
			}
		}
	});

	it('is a pure function of the random state', () => {
		const image = gradientImage(128);
		const first = render(image, 16, paperConfig, 64);
		const again = render(image, 16, paperConfig, 64);
		const other = render(image, 17, paperConfig, 64);
		expect(again.out).toEqual(first.out);
		expect(again.record).toEqual(first.record);
		expect(other.out).not.toEqual(first.out);
		// The state is left in the same place too, so a batch's later views agree as well.
		const [left, right] = [new Random(18), new Random(18)];
		const sink = new Float32Array(32 * 32 * 3);
		augmentView(image, left, paperConfig, 32, sink, 0);
		augmentView(image, right, paperConfig, 32, sink, 0);
		expect(left.uint32()).toBe(right.uint32());
	});

	it('writes only its own slot of a batch buffer', () => {
		const image = gradientImage(64);
		const size = 16;
		const view = size * size * 3;
		const batch = new Float32Array(view * 3).fill(Number.NaN);
		augmentView(image, new Random(19), paperConfig, size, batch, view);
		expect(batch.subarray(0, view).every(Number.isNaN)).toBe(true);
		expect(batch.subarray(2 * view).every(Number.isNaN)).toBe(true);
		expect(batch.subarray(view, 2 * view)).toEqual(render(image, 19, paperConfig, size).out);
		expect(() => augmentView(image, new Random(1), paperConfig, size, batch, 2 * view + 1)).toThrow(
			/offset/
		);
	});

	it('stays finite and inside the normalised range; draws follow the configured laws', () => {
		const random = new Random(20);
		const lows = [0, 1, 2].map((c) => (0 - at(stl10Mean, c)) / at(stl10Std, c) - 1e-6);
		const highs = [0, 1, 2].map((c) => (1 - at(stl10Mean, c)) / at(stl10Std, c) + 1e-6);
		const images = [gradientImage(128), noiseImage(256, 256, 21), noiseImage(150, 90, 22)];
		let flips = 0;
		let grays = 0;
		const views = 600;
		const firstOps = [0, 0, 0, 0];
		for (let index = 0; index < views; index++) {
			const size = at([64, 32], index % 2);
			const out = new Float32Array(size * size * 3);
			const record = augmentView(at(images, index % 3), random, paperConfig, size, out, 0);
			for (let i = 0; i < out.length; i++) {
				const value = at(out, i);
				if (!(value >= at(lows, i % 3) && value <= at(highs, i % 3))) {
					expect.fail(`view ${index} value ${i} is ${value}`);
				}
			}
			expect([...record.jitterOrder].sort()).toEqual([0, 1, 2, 3]);
			for (const factor of [record.brightness, record.contrast, record.saturation]) {
				expect(factor).toBeGreaterThanOrEqual(0.6);
				expect(factor).toBeLessThan(1.4);
			}
			expect(Math.abs(record.hue)).toBeLessThanOrEqual(0.4);
			flips += record.flipped ? 1 : 0;
			grays += record.grayscale ? 1 : 0;
			const firstOp = at(record.jitterOrder, 0);
			firstOps[firstOp] = at(firstOps, firstOp) + 1;
		}
		// Binomial bounds at about four standard deviations.
		expect(Math.abs(flips / views - 0.5)).toBeLessThan(0.09);
		expect(Math.abs(grays / views - 0.2)).toBeLessThan(0.07);
		for (const count of firstOps) expect(Math.abs(count / views - 0.25)).toBeLessThan(0.08);
	});

	it('rejects an image whose buffer does not match its size', () => {
		const image = { width: 10, height: 10, data: new Uint8Array(10) };
		expect(() =>
			augmentView(image, new Random(1), paperConfig, 8, new Float32Array(192), 0)
		).toThrow(/300 bytes/);
	});
});
