import { describe, expect, it } from 'vitest';
import { Fft2d } from '../../../src/core/generators/fft2d';
import { defaultParams } from '../../../src/core/generators/params';
import { Random } from '../../../src/core/generators/random';
import {
	buildStyleganNetwork,
	clearStyleganCache,
	lanczosResize,
	normaliseColours,
	pinkNoise,
	sampleImagePlan,
	stylegan,
	styleganNetworkFor,
	styleganNetworkKey,
	styleganParams,
	styleganPlanes,
	styleganPresets,
	styleganSettings,
	waveletBankV1,
	waveletBankV3,
	type StyleganParams
} from '../../../src/core/generators/stylegan';
import { convLayerDirect } from '../../../src/core/generators/stylegan/synthesis';

/** Small widths keep the direct path and the tests cheap; the algorithms are the same. */
const small: StyleganParams = {
	...defaultParams(styleganParams),
	channel_base: 512,
	channel_max: 16,
	w_dim: 16
};

function rows(filter: Float64Array): number[][] {
	return [0, 1, 2].map((r) => Array.from(filter.slice(r * 3, r * 3 + 3)));
}

describe('filter banks', () => {
	it('v3 matches the spec table (PIL bilinear rotation, mean removed)', () => {
		const bank = waveletBankV3();
		expect(bank).toHaveLength(40);
		const expected: [number, number[][]][] = [
			[
				0,
				[
					[1, 0, -1],
					[1, 0, -1],
					[1, 0, -1]
				]
			],
			[
				1,
				[
					[0.541, -0.383, -1],
					[0.924, 0, -0.924],
					[1, 0.383, -0.541]
				]
			],
			[
				2,
				[
					[0, -0.707, -1],
					[0.707, 0, -0.707],
					[1, 0.707, 0]
				]
			],
			[
				4,
				[
					[-1, -1, -1],
					[0, 0, 0],
					[1, 1, 1]
				]
			],
			[
				7,
				[
					[-1, -0.383, 0.541],
					[-0.924, 0, 0.924],
					[-0.541, 0.383, 1]
				]
			],
			[
				8,
				[
					[0.667, -1.333, 0.667],
					[0.667, -1.333, 0.667],
					[0.667, -1.333, 0.667]
				]
			],
			[
				9,
				[
					[-0.183, -0.5, 0.734],
					[0.582, -1.266, 0.582],
					[0.734, -0.5, -0.183]
				]
			],
			[
				10,
				[
					[-1.073, 0.341, 0.927],
					[0.341, -1.073, 0.341],
					[0.927, 0.341, -1.073]
				]
			],
			[
				13,
				[
					[0.734, 0.582, -0.183],
					[-0.5, -1.266, -0.5],
					[-0.183, 0.582, 0.734]
				]
			],
			[
				15,
				[
					[0.734, -0.5, -0.183],
					[0.582, -1.266, 0.582],
					[-0.183, -0.5, 0.734]
				]
			],
			[
				17,
				[
					[-1, -1, -1],
					[-1, 1, -1],
					[-1, -1, -1]
				]
			]
		];
		for (const [index, values] of expected) {
			const actual = rows(bank[index] as Float64Array);
			values.forEach((row, r) =>
				row.forEach((value, c) => expect(actual[r]?.[c]).toBeCloseTo(value, 2))
			);
		}
		// The second half negates the first.
		for (let i = 0; i < 20; i++) {
			const negated = (bank[i] as Float64Array).map((v) => -v);
			expect(Array.from(bank[i + 20] as Float64Array)).toEqual(
				Array.from(negated).map((v) => v || 0)
			);
		}
	});

	it('v1 is 32 binarised filters with the spec’s structure', () => {
		const bank = waveletBankV1();
		expect(bank).toHaveLength(32);
		for (const filter of bank) for (const value of filter) expect([-1, 0, 1]).toContain(value);
		// Edges k (k·22.5°) binarise the v3 edges; k+8 is 180° further, i.e. negated. Taps whose
		// unbinarised value is ~0 take the sign of float32 rounding noise (in PIL too): skipped.
		const v3 = waveletBankV3();
		for (let k = 0; k < 8; k++) {
			const reference = v3[k] as Float64Array;
			const a = bank[k] as Float64Array;
			const b = bank[k + 8] as Float64Array;
			for (let tap = 0; tap < 9; tap++) {
				if (Math.abs(reference[tap] as number) < 0.1) continue;
				expect(a[tap]).toBe(Math.sign(reference[tap] as number));
				expect(b[tap]).toBe(-Math.sign(reference[tap] as number));
			}
		}
		expect(rows(bank[0] as Float64Array)).toEqual([
			[1, 0, -1],
			[1, 0, -1],
			[1, 0, -1]
		]);
		expect(rows(bank[16] as Float64Array)).toEqual([
			[1, -1, 1],
			[1, -1, 1],
			[1, -1, 1]
		]);
		expect(rows(bank[24] as Float64Array)).toEqual([
			[0, 0, 0],
			[0, 1, 0],
			[0, 0, 0]
		]);
	});
});

describe('pink noise', () => {
	it('has unit std, zero mean without the envelope, and a falling spectrum', () => {
		const size = 64;
		const stats = (map: Float32Array) => {
			let mean = 0;
			for (const v of map) mean += v;
			mean /= map.length;
			let variance = 0;
			for (const v of map) variance += (v - mean) ** 2;
			return { mean, std: Math.sqrt(variance / (map.length - 1)) };
		};
		// The reference removes the mean before the envelope and divides by the std after it.
		expect(stats(pinkNoise(new Random(5), size, true)).std).toBeCloseTo(1, 5);
		const plainStats = stats(pinkNoise(new Random(5), size, false));
		expect(Math.abs(plainStats.mean)).toBeLessThan(1e-6);
		expect(plainStats.std).toBeCloseTo(1, 5);

		const plain = pinkNoise(new Random(6), size, false);
		const re = Float64Array.from(plain);
		const im = new Float64Array(size * size);
		new Fft2d(size).forward(re, im);
		const band = (low: number, high: number) => {
			let sum = 0;
			let count = 0;
			for (let y = 0; y < size; y++) {
				for (let x = 0; x < size; x++) {
					const r = Math.hypot(y < size / 2 ? y : y - size, x < size / 2 ? x : x - size);
					if (r >= low && r < high) {
						sum += (re[y * size + x] as number) ** 2 + (im[y * size + x] as number) ** 2;
						count++;
					}
				}
			}
			return sum / count;
		};
		// 1/f^α amplitude with α ≥ 0.5: power at radius 2–4 beats power at 16–32 by well over 2×.
		expect(band(2, 4)).toBeGreaterThan(4 * band(16, 32));
	});

	it('inverts a Hermitian spectrum with the half-work real inverse as the full inverse does', () => {
		for (const size of [2, 8, 64]) {
			// The spectrum of a random real image is Hermitian.
			const random = new Random(size);
			const image = Float64Array.from({ length: size * size }, () => random.normal());
			const re = image.slice();
			const im = new Float64Array(size * size);
			const fft = new Fft2d(size);
			fft.forward(re, im);
			const full = { re: re.slice(), im: im.slice() };
			fft.inverse(full.re, full.im);
			fft.inverseReal(re, im);
			for (let i = 0; i < image.length; i++) {
				expect(re[i]).toBeCloseTo(image[i] as number, 12);
				expect(re[i]).toBeCloseTo(full.re[i] as number, 12);
			}
		}
	});

	it('Lanczos upscaling reproduces a constant and interpolates the samples', () => {
		const flat = lanczosResize(new Float64Array(16).fill(2.5), 4, 32);
		for (const v of flat) expect(v).toBeCloseTo(2.5, 5);
		const ramp = Float64Array.from({ length: 16 }, (_, i) => i % 4);
		const up = lanczosResize(ramp, 4, 32);
		// Monotone left to right along a row in the interior.
		for (let x = 5; x < 26; x++)
			expect(up[16 * 32 + x + 1] as number).toBeGreaterThanOrEqual(
				(up[16 * 32 + x] as number) - 1e-6
			);
	});
});

describe('stylegan generator', () => {
	it('is deterministic and independent of generation order and cache', () => {
		const params: StyleganParams = { ...small, variant: 'sparse' };
		clearStyleganCache();
		const a = stylegan.generate(params, 11, 3, 32);
		stylegan.generate(params, 11, 900, 32);
		stylegan.generate(params, 12, 3, 32);
		const b = stylegan.generate(params, 11, 3, 32);
		clearStyleganCache();
		const c = stylegan.generate(params, 11, 3, 32);
		expect(b).toEqual(a);
		expect(c).toEqual(a);
		const other = stylegan.generate(params, 11, 4, 32);
		expect(other).not.toEqual(a);
	});

	it.each([
		['highfreq', 'chin-chout', 'v2'],
		['sparse', 'chin-chout', 'v2'],
		['sparse', 'chin-chout', 'v3'],
		['oriented', 'chin-chout', 'v2'],
		['oriented', 'chout-chin', 'v2']
	] as const)(
		'fast path equals the direct modulated conv (%s, %s, sparse %s)',
		(variant, configuration, recipe) => {
			const params: StyleganParams = {
				...small,
				variant,
				random_configuration: configuration,
				sparse_recipe: recipe
			};
			for (const index of [0, 401]) {
				const fast = styleganPlanes(params, 2, index, 32, 'auto');
				const direct = styleganPlanes(params, 2, index, 32, 'direct');
				let scale = 0;
				let difference = 0;
				for (let c = 0; c < 3; c++) {
					const f = fast.planes[c] as Float64Array;
					const d = direct.planes[c] as Float64Array;
					for (let p = 0; p < d.length; p++) {
						scale = Math.max(scale, Math.abs(d[p] as number));
						difference = Math.max(difference, Math.abs((f[p] as number) - (d[p] as number)));
					}
				}
				expect(scale).toBeGreaterThan(0.01);
				expect(difference / scale).toBeLessThan(1e-9);
			}
		}
	);

	it('the factorisation is real: the channels of a layer are ± one map (no noise, no bias)', () => {
		const params: StyleganParams = { ...small, variant: 'highfreq', noise_strength_max: 0 };
		const network = buildStyleganNetwork(styleganSettings(params, 32), 4, 0);
		const plan = sampleImagePlan(network, 4, 0);
		const layer = network.architecture.convLayers[0];
		if (!layer) throw new Error('no conv layer');
		const input = {
			size: 4,
			planes: Array.from({ length: layer.inChannels }, (_, c) =>
				network.constInput.slice(c * 16, c * 16 + 16)
			)
		};
		const output = convLayerDirect(network, layer, plan, input);
		const gains = plan.conv[0]?.gains as Float64Array;
		let sameSign = 0;
		let oppositeSign = 0;
		for (let a = 0; a < layer.outChannels; a++) {
			for (let b = a + 1; b < layer.outChannels; b++) {
				const x = output.planes[a] as Float64Array;
				const y = output.planes[b] as Float64Array;
				for (let p = 0; p < x.length; p++) {
					if (Math.sign(gains[a] as number) === Math.sign(gains[b] as number)) {
						// |g_o| cancels in the demodulation (up to the 1e-8 epsilon).
						expect(Math.abs((x[p] as number) - (y[p] as number))).toBeLessThan(1e-6);
						sameSign++;
					} else {
						expect((x[p] as number) * (y[p] as number)).toBe(0);
						oppositeSign++;
					}
				}
			}
		}
		expect(sameSign).toBeGreaterThan(0);
		expect(oppositeSign).toBeGreaterThan(0);
	});

	it('restarts the network every 400 images', () => {
		expect(styleganNetworkKey(9, 0, 400)).toBe(styleganNetworkKey(9, 399, 400));
		expect(styleganNetworkKey(9, 400, 400)).not.toBe(styleganNetworkKey(9, 399, 400));
		expect(styleganNetworkKey(9, 799, 400)).toBe(styleganNetworkKey(9, 400, 400));
		const params: StyleganParams = { ...small, variant: 'original' };
		clearStyleganCache();
		const first = styleganNetworkFor(params, 9, 0, 32);
		clearStyleganCache();
		const last = styleganNetworkFor(params, 9, 399, 32);
		const next = styleganNetworkFor(params, 9, 400, 32);
		expect(Array.from(last.constInput)).toEqual(Array.from(first.constInput));
		expect(Array.from(last.convWeights?.[0] ?? [])).toEqual(
			Array.from(first.convWeights?.[0] ?? [])
		);
		expect(Array.from(next.constInput)).not.toEqual(Array.from(first.constInput));
		// A shorter interval moves the boundary.
		expect(styleganNetworkKey(9, 10, 10)).not.toBe(styleganNetworkKey(9, 9, 10));
	});

	it('the oriented variant has more oriented spectral energy than highfreq and an isotropic control', () => {
		const size = 64;
		const fft = new Fft2d(size);
		const anisotropy = (luminance: Float64Array) => {
			const re = Float64Array.from(luminance);
			const mean = re.reduce((a, b) => a + b, 0) / re.length;
			for (let i = 0; i < re.length; i++) re[i] = (re[i] as number) - mean;
			const im = new Float64Array(size * size);
			fft.forward(re, im);
			const bins = new Float64Array(8);
			for (let y = 0; y < size; y++) {
				for (let x = 0; x < size; x++) {
					const ky = y < size / 2 ? y : y - size;
					const kx = x < size / 2 ? x : x - size;
					const r = Math.hypot(kx, ky);
					if (r < 4 || r > size / 2) continue;
					let angle = Math.atan2(ky, kx);
					if (angle < 0) angle += Math.PI;
					const bin = Math.min(7, Math.floor((angle / Math.PI) * 8));
					bins[bin] =
						(bins[bin] as number) +
						(re[y * size + x] as number) ** 2 +
						(im[y * size + x] as number) ** 2;
				}
			}
			const total = bins.reduce((a, b) => a + b, 0);
			return Math.max(...bins) / (total / 8);
		};
		const meanAnisotropy = (variant: StyleganParams['variant']) => {
			const params: StyleganParams = { ...small, variant, channel_base: 1024, channel_max: 32 };
			let sum = 0;
			const count = 8;
			for (let i = 0; i < count; i++) {
				const image = stylegan.generate(params, 3, i * 37, size) as { data: Uint8Array };
				const luminance = new Float64Array(size * size);
				for (let p = 0; p < size * size; p++) {
					luminance[p] =
						(image.data[3 * p] as number) +
						(image.data[3 * p + 1] as number) +
						(image.data[3 * p + 2] as number);
				}
				sum += anisotropy(luminance);
			}
			return sum / count;
		};
		let control = 0;
		for (let i = 0; i < 8; i++)
			control += anisotropy(Float64Array.from(pinkNoise(new Random(i), size, true))) / 8;
		const oriented = meanAnisotropy('oriented');
		const highfreq = meanAnisotropy('highfreq');
		expect(oriented).toBeGreaterThan(1.4 * control);
		expect(oriented).toBeGreaterThan(1.15 * highfreq);
	});

	it('prior colour normalisation gives each channel the drawn mean and std', () => {
		const size = 64;
		const random = new Random(1);
		const planes = [0, 1, 2].map((c) =>
			Float64Array.from({ length: size * size }, () => random.normal() * (c + 1) + c)
		);
		const image = normaliseColours(
			planes,
			size,
			size,
			{ colourMean: [0.5, 0.4, 0.6], colourStd: [0.1, 0.05, 0.08] },
			'prior'
		);
		[0.5, 0.4, 0.6].forEach((target, c) => {
			let mean = 0;
			let squares = 0;
			for (let p = 0; p < size * size; p++) {
				const value = (image.data[p * 3 + c] as number) / 255;
				mean += value;
				squares += value * value;
			}
			mean /= size * size;
			const std = Math.sqrt(squares / (size * size) - mean * mean);
			// Truncation to bytes lowers the mean by half a level on average.
			expect(mean).toBeCloseTo(target - 0.5 / 255, 2);
			expect(std).toBeCloseTo([0.1, 0.05, 0.08][c] as number, 2);
		});
		// Across images, per-image channel means follow the prior N(0.483, 0.145²) etc.
		const params: StyleganParams = { ...small, variant: 'highfreq' };
		const redMeans: number[] = [];
		for (let i = 0; i < 24; i++) {
			const { data } = stylegan.generate(params, 8, i, 32) as { data: Uint8Array };
			let sum = 0;
			for (let p = 0; p < 32 * 32; p++) sum += data[p * 3] as number;
			redMeans.push(sum / (32 * 32) / 255);
		}
		const average = redMeans.reduce((a, b) => a + b, 0) / redMeans.length;
		expect(Math.abs(average - 0.483)).toBeLessThan(0.08);
		expect(Math.max(...redMeans) - Math.min(...redMeans)).toBeGreaterThan(0.15);
	});

	it('legacy min-max normalisation maps [−5, 5] to the byte range', () => {
		const planes = [0, 1, 2].map(() => Float64Array.from([-5, -2.5, 0, 2.5, 5, 1, -1, 0.5, 0]));
		const image = normaliseColours(
			planes,
			3,
			3,
			{ colourMean: [0, 0, 0], colourStd: [1, 1, 1] },
			'minmax'
		);
		expect(Array.from({ length: 5 }, (_, p) => image.data[p * 3])).toEqual([0, 63, 127, 191, 255]);
	});

	it('serves any size from 32 to 512 by centre-cropping the next power of two', () => {
		const image = stylegan.generate({ ...small, variant: 'oriented' }, 1, 0, 48) as {
			size: number;
			data: Uint8Array;
		};
		expect(image.size).toBe(48);
		expect(image.data.length).toBe(48 * 48 * 3);
		expect(styleganSettings(small, 48).resolution).toBe(64);
		expect(styleganSettings(small, 256).resolution).toBe(256);
	});

	it('the original variant runs directly at a small width', () => {
		const { planes, resolution } = styleganPlanes({ ...small, variant: 'original' }, 1, 0, 32);
		expect(resolution).toBe(32);
		const plane = planes[0] as Float64Array;
		let variance = 0;
		for (const v of plane) variance += v * v;
		expect(variance / plane.length).toBeGreaterThan(0);
	});

	it('has the paper’s four presets at 256 px', () => {
		expect(styleganPresets.map((preset) => preset.name)).toEqual([
			'stylegan-random',
			'stylegan-highfreq',
			'stylegan-sparse',
			'stylegan-oriented'
		]);
		for (const preset of styleganPresets) {
			expect(preset.size).toBe(256);
			expect(styleganParams.variant.options).toContain(preset.params.variant);
		}
	});
});
