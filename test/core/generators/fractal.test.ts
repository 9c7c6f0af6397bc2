import { describe, expect, it } from 'vitest';
import {
	drawIfs,
	findCategory,
	fractal,
	fractalFlips,
	fractalLayout,
	fractalParams,
	fractalPresets,
	fractalWeights,
	identityWeightIndex,
	imageIndex,
	imageKey,
	layoutSize,
	pointCount,
	renderSearchCanvas,
	searchCanvas,
	searchCategory,
	searchStreams,
	type FractalFlip,
	type FractalParams
} from '../../../src/core/generators/fractal';
import { iterateIfs, unitWeights } from '../../../src/core/generators/fractal/ifs';
import type { RgbImage } from '../../../src/core/generators/image';
import { defaultParams } from '../../../src/core/generators/params';
import { Random } from '../../../src/core/generators/random';

const seed = 11;
/** Few categories keep the search (a few hundred ms per category) cheap. */
const base: FractalParams = { ...defaultParams(fractalParams), categories: 2 };
const size = 64;

function generate(params: FractalParams, index: number, at = size): RgbImage {
	return fractal.generate(params, seed, index, at) as RgbImage;
}

function indexOf(
	params: FractalParams,
	category: number,
	weight: number,
	instance: number,
	flip: FractalFlip
): number {
	return imageIndex(fractalLayout(params), { category, weight, instance, flip });
}

/** The image mirrored top–bottom and/or left–right. */
function mirrored(image: RgbImage, topBottom: boolean, leftRight: boolean): Uint8Array {
	const n = image.size;
	const out = new Uint8Array(image.data.length);
	for (let row = 0; row < n; row++) {
		for (let column = 0; column < n; column++) {
			const from =
				((topBottom ? n - 1 - row : row) * n + (leftRight ? n - 1 - column : column)) * 3;
			out.set(image.data.subarray(from, from + 3), (row * n + column) * 3);
		}
	}
	return out;
}

function distinctColours(image: RgbImage): Set<string> {
	const colours = new Set<string>();
	for (let i = 0; i < image.data.length; i += 3) {
		colours.add(`${image.data[i]},${image.data[i + 1]},${image.data[i + 2]}`);
	}
	return colours;
}

function litFraction(image: RgbImage): number {
	let lit = 0;
	for (let i = 0; i < image.data.length; i += 3) if (image.data[i] !== 0) lit++;
	return lit / (image.size * image.size);
}

describe('FractalDB category search', () => {
	it('accepts the first candidate that fills the threshold of the 512² search canvas', () => {
		for (const category of [0, 1]) {
			const found = findCategory(seed, category, 0.2);
			// Measured independently on a fresh render of the accepted attempt's canvas.
			const canvas = renderSearchCanvas(found, searchStreams(seed, category, found.attempt).orbit);
			expect(canvas.length).toBe(searchCanvas.size ** 2);
			let lit = 0;
			for (const value of canvas) if (value !== 0) lit++;
			expect(lit / canvas.length).toBeGreaterThanOrEqual(0.2);
			expect(lit / canvas.length).toBe(found.fillRatio);
			// Every earlier attempt of this category fell short.
			for (let attempt = 0; attempt < found.attempt; attempt++) {
				const streams = searchStreams(seed, category, attempt);
				const rejected = renderSearchCanvas(drawIfs(streams.maps), streams.orbit);
				let rejectedLit = 0;
				for (const value of rejected) if (value !== 0) rejectedLit++;
				expect(rejectedLit / rejected.length).toBeLessThan(0.2);
			}
		}
	});

	it('draws 2–7 maps with coefficients in (−1, 1) and selection probabilities ∝ |ad − bc|', () => {
		const found = findCategory(seed, 0, 0.2);
		expect(found.maps).toEqual(drawIfs(searchStreams(seed, 0, found.attempt).maps).maps);
		const counts = new Set<number>();
		for (let attempt = 0; attempt < 300; attempt++) {
			const system = drawIfs(new Random(5, attempt));
			counts.add(system.maps.length);
			const determinants = system.maps.map((m) => Math.abs(m.a * m.d - m.b * m.c));
			const total = determinants.reduce((sum, value) => sum + value, 0);
			system.maps.forEach((map, i) => {
				for (const value of [map.a, map.b, map.c, map.d, map.e, map.f]) {
					expect(Math.abs(value)).toBeLessThan(1);
				}
				expect(system.probabilities[i]).toBeCloseTo((determinants[i] as number) / total, 12);
			});
		}
		expect([...counts].sort()).toEqual([2, 3, 4, 5, 6, 7]);
	});

	it('gives the same category from the cache as from a fresh search, per (seed, category)', () => {
		const cached = findCategory(seed, 1, 0.2);
		expect(findCategory(seed, 1, 0.2)).toBe(cached);
		expect(searchCategory(seed, 1, 0.2)).toEqual(cached);
		expect(cached.maps).not.toEqual(findCategory(seed, 0, 0.2).maps);
	});

	it('stops with a clear error when the attempt bound is hit', () => {
		expect(() => searchCategory(seed, 0, 0.9, 3)).toThrow(
			/no IFS filled 0\.9 .* in 3 attempts \(category 0, seed 11\)/
		);
	});

	it('drops an overflowing orbit’s tail and keeps only finite points', () => {
		const expanding = { a: 1.9, b: 0, c: 0, d: 1.9, e: 1, f: 1 };
		const orbit = iterateIfs(
			{ maps: [expanding, expanding], probabilities: [0.5, 0.5] },
			unitWeights,
			5000,
			new Random(1)
		);
		// 1.9^n overflows near n = 1100; the 100 points before the overflow are discarded too.
		expect(orbit.count).toBeGreaterThan(900);
		expect(orbit.count).toBeLessThan(1100);
		for (let i = 0; i < orbit.count; i++) expect(Number.isFinite(orbit.xs[i])).toBe(true);
		expect(Number.isFinite(orbit.maxX)).toBe(true);
	});
});

describe('FractalDB indexing', () => {
	it('round-trips index ↔ (category, weight, instance, flip) in both orders', () => {
		for (const order of ['interleaved', 'category_major'] as const) {
			for (const [useWeights, useFlips] of [
				[true, true],
				[false, true],
				[true, false]
			] as const) {
				const layout = fractalLayout({ categories: 3, useWeights, instances: 2, useFlips, order });
				const total = layoutSize(layout);
				expect(total).toBe(3 * (useWeights ? 25 : 1) * 2 * (useFlips ? 4 : 1));
				const seen = new Set<string>();
				for (let index = 0; index < total; index++) {
					const key = imageKey(layout, index);
					expect(imageIndex(layout, key)).toBe(index);
					seen.add(JSON.stringify(key));
					expect(imageKey(layout, index + total)).toEqual(key);
				}
				expect(seen.size).toBe(total);
			}
		}
	});

	it('documents the two orders: interleaved cycles categories, category_major is the file order', () => {
		const interleaved = fractalLayout({ ...base, categories: 1000 });
		expect(layoutSize(interleaved)).toBe(1_000_000);
		expect(imageKey(interleaved, 0)).toEqual({ category: 0, weight: 0, instance: 0, flip: 'none' });
		expect(imageKey(interleaved, 999).category).toBe(999);
		expect(imageKey(interleaved, 1000)).toEqual({
			category: 0,
			weight: 1,
			instance: 0,
			flip: 'none'
		});
		expect(imageKey(interleaved, 25_000)).toEqual({
			category: 0,
			weight: 0,
			instance: 1,
			flip: 'none'
		});
		const fileOrder = fractalLayout({ ...base, categories: 1000, order: 'category_major' });
		expect(imageKey(fileOrder, 1)).toEqual({
			category: 0,
			weight: 0,
			instance: 0,
			flip: 'top_bottom'
		});
		expect(imageKey(fileOrder, 4)).toEqual({ category: 0, weight: 0, instance: 1, flip: 'none' });
		expect(imageKey(fileOrder, 40)).toEqual({ category: 0, weight: 1, instance: 0, flip: 'none' });
		expect(imageKey(fileOrder, 1000)).toEqual({
			category: 1,
			weight: 0,
			instance: 0,
			flip: 'none'
		});
		const identityOnly = fractalLayout({ ...base, useWeights: false });
		expect(imageKey(identityOnly, 0).weight).toBe(identityWeightIndex);
		expect(fractalWeights[identityWeightIndex]).toEqual([1, 1, 1, 1, 1, 1]);
		expect(() => imageKey(interleaved, -1)).toThrow(RangeError);
	});

	it('has the 25 weight rows of weights_0.4.csv: identity and one coefficient scaled at a time', () => {
		expect(fractalWeights).toHaveLength(25);
		const variants = new Set<string>();
		for (const row of fractalWeights) {
			const scaled = row.map((value, i) => [i, value] as const).filter(([, value]) => value !== 1);
			expect(scaled.length).toBeLessThanOrEqual(1);
			variants.add(scaled.map(([i, value]) => `${'abcdef'[i]}${value}`).join() || 'identity');
		}
		expect(variants.size).toBe(25);
		for (const coefficient of 'abcdef') {
			for (const scale of [0.2, 0.6, 1.4, 1.8])
				expect(variants).toContain(`${coefficient}${scale}`);
		}
	});
});

describe('FractalDB rendering', () => {
	it('is deterministic and independent of the order images are drawn in', () => {
		const index = indexOf(base, 1, 7, 3, 'left_right');
		const first = generate(base, index);
		generate(base, indexOf(base, 0, 3, 0, 'none'));
		generate({ ...base, drawing: 'plain' }, 5, 96);
		expect(generate(base, index).data).toEqual(first.data);
		expect(generate(base, index + 1).data).not.toEqual(first.data);
	});

	it('makes the flips exact mirrors of the unflipped image, byte for byte', () => {
		for (const drawing of ['patch_gray', 'plain'] as const) {
			const params = { ...base, drawing };
			const at = (flip: FractalFlip) => generate(params, indexOf(params, 0, 5, 1, flip));
			const none = at('none');
			expect(at('top_bottom').data).toEqual(mirrored(none, true, false));
			expect(at('left_right').data).toEqual(mirrored(none, false, true));
			expect(at('both').data).toEqual(mirrored(none, true, true));
			expect(at('top_bottom').data).not.toEqual(none.data);
		}
	});

	it('changes the image with every weight variant', () => {
		const params = { ...base, drawing: 'plain' as const };
		const identity = generate(params, indexOf(params, 0, identityWeightIndex, 0, 'none'));
		const images = new Set<string>();
		for (let weight = 0; weight < fractalWeights.length; weight++) {
			const image = generate(params, indexOf(params, 0, weight, 0, 'none'));
			images.add(Buffer.from(image.data).toString('base64'));
			if (weight !== identityWeightIndex) expect(image.data).not.toEqual(identity.data);
		}
		expect(images.size).toBe(25);
	});

	it('draws patch_gray and plain in grey 127 on black only, with a visible fractal', () => {
		for (const drawing of ['patch_gray', 'plain'] as const) {
			const image = generate({ ...base, drawing }, 3, 128);
			expect([...distinctColours(image)].sort()).toEqual(['0,0,0', '127,127,127']);
			expect(litFraction(image)).toBeGreaterThan(0.05);
		}
	});

	it('varies instances by patch pattern with the shared point sequence, as the original does', () => {
		const patch = (instance: number) => generate(base, indexOf(base, 0, 2, instance, 'none'));
		const plain = { ...base, drawing: 'plain' as const };
		const plainAt = (params: FractalParams, instance: number) =>
			generate(params, indexOf(params, 0, 2, instance, 'none'));
		expect(patch(1).data).not.toEqual(patch(0).data);
		// Shared: the same orbit, so plain instances coincide; per_instance: their own orbits.
		expect(plainAt(plain, 1).data).toEqual(plainAt(plain, 0).data);
		const perInstance = { ...plain, pointSequence: 'per_instance' as const };
		expect(plainAt(perInstance, 1).data).not.toEqual(plainAt(perInstance, 0).data);
		expect(plainAt(perInstance, 0).data).toEqual(plainAt(plain, 0).data);
	});

	it('colours by category or by point index when asked', () => {
		const byCategory = { ...base, colour: 'category' as const };
		const a = distinctColours(generate(byCategory, indexOf(byCategory, 0, 2, 0, 'none')));
		const b = distinctColours(generate(byCategory, indexOf(byCategory, 0, 9, 1, 'both')));
		const other = distinctColours(generate(byCategory, indexOf(byCategory, 1, 2, 0, 'none')));
		expect(a.size).toBe(2);
		expect(b).toEqual(a);
		expect(other).not.toEqual(a);
		const hues = distinctColours(generate({ ...base, colour: 'point_hue' }, 0, 128));
		expect(hues.size).toBeGreaterThan(100);
	});

	it('supports every size from 32 to 512 and scales the point count with the area', () => {
		expect(pointCount(200_000, 362)).toBe(200_000);
		expect(pointCount(200_000, 128)).toBe(Math.round((200_000 * 128 * 128) / 362 ** 2));
		for (const at of [32, 77, 512]) {
			const image = generate(base, 0, at);
			expect(image.size).toBe(at);
			expect(image.data).toHaveLength(at * at * 3);
			expect(litFraction(image)).toBeGreaterThan(0.02);
		}
	});

	it('ships fractaldb-1k and fractaldb-plain presets at 128 px with valid params', () => {
		expect(fractalPresets.map((preset) => preset.name)).toEqual([
			'fractaldb-1k',
			'fractaldb-plain'
		]);
		for (const preset of fractalPresets) {
			expect(preset.generator).toBe(fractal.id);
			expect(preset.size).toBe(128);
			for (const [name, value] of Object.entries(preset.params)) {
				const spec = fractalParams[name as keyof typeof fractalParams];
				expect(spec.kind).toBe('choice');
				if (spec.kind === 'choice') expect(spec.options).toContain(value);
			}
		}
		expect(fractalFlips).toEqual(['none', 'top_bottom', 'left_right', 'both']);
	});
});
