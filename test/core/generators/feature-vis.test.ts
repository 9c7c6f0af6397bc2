import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
	acquireRandomNetwork,
	FftImage,
	featureVis,
	featureVisPresets,
	imagenetNormalisation,
	normalisedColourMatrix,
	RandomResNet,
	renderFeatureVis,
	targetCount,
	targetUnits
} from '../../../src/core/generators/feature-vis';
import { ensureFeatureVisGradients } from '../../../src/core/generators/feature-vis/gradients';
import {
	colourCorrelationSvdSqrt,
	halfSpectrumWidth
} from '../../../src/core/generators/feature-vis/parametrisation';
import {
	augment,
	rotate,
	rotationPlan,
	scaleImage,
	type TransformDraw
} from '../../../src/core/generators/feature-vis/transforms';
import { defaultParams } from '../../../src/core/generators/params';
import { Random } from '../../../src/core/generators/random';

beforeAll(async () => {
	await tf.setBackend('cpu');
	ensureFeatureVisGradients();
});

/** The paper's `generate_sorted_k_of_n` up to its pairs. */
function enumerateTargets(units: number, limit: number): number[][] {
	const targets: number[][] = [];
	for (let i = 0; i < units && targets.length < limit; i++) targets.push([i]);
	for (let i = 0; i < units && targets.length < limit; i++) {
		for (let j = i + 1; j < units && targets.length < limit; j++) targets.push([i, j]);
	}
	return targets;
}

describe('targetUnits', () => {
	it('matches the lexicographic enumeration for every index of small layers', () => {
		for (let units = 1; units <= 40; units++) {
			const expected = enumerateTargets(units, Infinity);
			expect(expected.length).toBe(targetCount(units));
			for (let index = 0; index < 2 * expected.length; index++) {
				expect(targetUnits(index, units)).toEqual(expected[index % expected.length]);
			}
		}
	});

	it('reproduces the paper’s 105k targets of a 2048-unit avgpool', () => {
		const expected = enumerateTargets(2048, 105_000);
		for (const index of [0, 2047, 2048, 2048 + 2046, 2048 + 2047, 50_000, 104_999]) {
			expect(targetUnits(index, 2048)).toEqual(expected[index]);
		}
		expect(targetUnits(2048 + 2046, 2048)).toEqual([0, 2047]);
		expect(targetUnits(2048 + 2047, 2048)).toEqual([1, 2]);
		expect(targetCount(2048) - 2048).toBe((2048 * 2047) / 2);
		expect(targetUnits(targetCount(2048) - 1, 2048)).toEqual([2046, 2047]);
		expect(targetUnits(targetCount(2048), 2048)).toEqual([0]);
		expect(targetUnits(1_299_999, 2048)).toEqual(enumerateTargets(2048, 1_300_000)[1_299_999]);
	});
});

describe('fft + decorrelate parametrisation', () => {
	it('normalises Lucid’s colour matrix by its largest column norm', () => {
		const matrix = normalisedColourMatrix();
		const norms = [0, 1, 2].map((c) => Math.hypot(...matrix.map((row) => row[c] as number)));
		expect(Math.max(...norms)).toBeCloseTo(1, 12);
		const scale = (colourCorrelationSvdSqrt[0]?.[0] as number) / (matrix[0]?.[0] as number);
		expect(scale).toBeCloseTo(Math.hypot(0.26, 0.27, 0.27), 12);
	});

	it.each([8, 9])('is an orthonormal inverse rfft ÷ 4 then colour mixing, at %i px', (size) => {
		const image = new FftImage(size, new Random(3, 1));
		const spectrum = image.spectrum.arraySync();
		const logits = tf.tidy(() => image.logits().arraySync())[0] as number[][][];
		const k = halfSpectrumWidth(size);
		const frequency = (i: number) => (i < Math.ceil(size / 2) ? i : i - size) / size;
		const colour = normalisedColourMatrix();
		// Hermitian completion of the half spectrum, then a naive inverse 2-D DFT.
		const planes = [0, 1, 2].map((channel) => {
			const plane: number[] = [];
			for (let y = 0; y < size; y++) {
				for (let x = 0; x < size; x++) {
					let sum = 0;
					for (let ky = 0; ky < size; ky++) {
						for (let kx = 0; kx < size; kx++) {
							const mirrored = kx >= k;
							const column = mirrored ? size - kx : kx;
							const row = mirrored ? (size - ky) % size : ky;
							const gain = 1 / Math.max(Math.hypot(frequency(row), column / size), 1 / size);
							let re = (spectrum[row]?.[channel * k + column] as number) * gain;
							let im = (spectrum[size + row]?.[channel * k + column] as number) * gain;
							if (mirrored) im = -im;
							// numpy's C2R ignores the imaginary part of the DC and Nyquist columns.
							if (column === 0 || 2 * column === size) {
								const partner =
									(spectrum[(size - row) % size]?.[channel * k + column] as number) * gain;
								const partnerIm =
									(spectrum[size + ((size - row) % size)]?.[channel * k + column] as number) * gain;
								re = (re + partner) / 2;
								im = (im - partnerIm) / 2;
							}
							const angle = (2 * Math.PI * (ky * y)) / size + (2 * Math.PI * (kx * x)) / size;
							sum += re * Math.cos(angle) - im * Math.sin(angle);
						}
					}
					plane.push(sum / Math.sqrt(size * size) / 4);
				}
			}
			return plane;
		});
		let worst = 0;
		for (let y = 0; y < size; y++) {
			for (let x = 0; x < size; x++) {
				for (let c = 0; c < 3; c++) {
					let expected = 0;
					for (let j = 0; j < 3; j++) {
						expected += (colour[c]?.[j] as number) * (planes[j]?.[y * size + x] as number);
					}
					const actual = logits[y]?.[x]?.[c] as number;
					worst = Math.max(worst, Math.abs(actual - expected));
				}
			}
		}
		expect(worst).toBeLessThan(1e-6);
		image.dispose();
	});

	it('starts from N(0, 0.01²) parameters and maps them into (0, 1)', () => {
		const image = new FftImage(32, new Random(5, 2));
		const params = image.spectrum.dataSync() as Float32Array;
		const mean = params.reduce((a, b) => a + b, 0) / params.length;
		const std = Math.sqrt(params.reduce((a, b) => a + (b - mean) ** 2, 0) / params.length);
		expect(std).toBeGreaterThan(0.0095);
		expect(std).toBeLessThan(0.0105);
		const values = tf.tidy(() => image.image().dataSync());
		expect(Math.min(...values)).toBeGreaterThan(0);
		expect(Math.max(...values)).toBeLessThan(1);
		image.dispose();
	});
});

describe('transforms', () => {
	it('rotates with the same bilinear zero-fill sampling as the plan, and back-propagates its transpose', () => {
		const size = 20;
		const random = new Random(9);
		const source = Float32Array.from({ length: size * size * 3 }, () => random.uniform());
		const probe = Float32Array.from({ length: size * size * 3 }, () => random.normal());
		const plan = rotationPlan(size, size, 7);
		const x = tf.tensor4d(source, [1, size, size, 3]);
		const rotated = tf.tidy(() => rotate(x, 7).dataSync() as Float32Array);
		let worst = 0;
		for (let p = 0; p < size * size; p++) {
			for (let c = 0; c < 3; c++) {
				let expected = 0;
				for (let t = 0; t < 4; t++) {
					const tap = plan.taps[4 * p + t] as number;
					expected += (plan.weights[4 * p + t] as number) * (source[tap * 3 + c] as number);
				}
				worst = Math.max(worst, Math.abs((rotated[p * 3 + c] as number) - expected));
			}
		}
		expect(worst).toBeLessThan(1e-5);
		// Adjoint identity: <R x, y> = <x, Rᵀ y>, with Rᵀ y from the custom gradient.
		const y = tf.tensor4d(probe, [1, size, size, 3]);
		const transposed = tf.tidy(
			() =>
				tf
					.grad((input: tf.Tensor) => tf.sum(tf.mul(rotate(input as tf.Tensor4D, 7), y)))(x)
					.dataSync() as Float32Array
		);
		const left = rotated.reduce((sum, value, i) => sum + value * (probe[i] as number), 0);
		const right = transposed.reduce((sum, value, i) => sum + value * (source[i] as number), 0);
		expect(Math.abs(left - right)).toBeLessThan(1e-3 * Math.abs(left));
		tf.dispose([x, y]);
	});

	it('scales like Lucent: ⌈s·d⌉ then symmetric zero padding when shrinking', () => {
		const x = tf.ones([1, 56, 56, 3]) as tf.Tensor4D;
		const shapes = tf.tidy(() => [0.9, 1, 1.1].map((scale) => scaleImage(x, scale).shape));
		// ⌈0.9·56⌉ = 51 (50.4), padded by ⌈5/2⌉ = 3 per side; ⌈1.1·56⌉ = 62 (61.6…), not cropped.
		expect(shapes).toEqual([
			[1, 57, 57, 3],
			[1, 56, 56, 3],
			[1, 62, 62, 3]
		]);
		x.dispose();
	});
});

describe('random ResNets', () => {
	it('have torchvision’s layouts and kaiming fan_out weights', { timeout: 30_000 }, () => {
		const resnet18 = new RandomResNet('resnet18', 1);
		expect(resnet18.pooledWidth).toBe(512);
		// torchvision resnet18: 11,689,512 parameters minus fc (513,000) and BN (9,600).
		expect(resnet18.parameterCount()).toBe(11_166_912);
		resnet18.dispose();
		const small = new RandomResNet('small', 1);
		expect(small.pooledWidth).toBe(256);
		small.dispose();
	});
});

describe('gradients through the parametrisation and transforms', () => {
	it('match finite differences (the pipeline is smooth, so a tight tolerance holds)', () => {
		const image = new FftImage(32, new Random(4, 0));
		const draw: TransformDraw = { jitter1: [3, 5], scale: 0.94, angleDegrees: -6, jitter2: [1, 2] };
		const random = new Random(11);
		const readout = tf.tensor4d(
			Float32Array.from({ length: 32 * 32 * 3 }, () => random.normal()),
			[1, 32, 32, 3]
		);
		const objective = () =>
			tf.tidy(
				() =>
					tf.sum(
						tf.mul(augment(image.image(), draw, imagenetNormalisation, 32), readout)
					) as tf.Scalar
			);
		const { value, grads } = tf.variableGrads(objective, [image.spectrum]);
		const gradient = grads[image.spectrum.name] as tf.Tensor;
		const original = image.spectrum.clone();
		const direction = tf.tensor(
			Float32Array.from({ length: original.size }, () => random.normal()),
			original.shape
		);
		const predicted = tf.tidy(() => tf.sum(tf.mul(gradient, direction)).dataSync()[0] as number);
		const eps = 1e-3;
		const at = (sign: number) => {
			tf.tidy(() =>
				image.spectrum.assign(tf.add(original, tf.mul(direction, sign * eps)) as tf.Tensor2D)
			);
			const result = objective();
			const number = result.dataSync()[0] as number;
			result.dispose();
			return number;
		};
		const measured = (at(1) - at(-1)) / (2 * eps);
		expect(Math.abs(predicted)).toBeGreaterThan(1);
		expect(Math.abs(measured - predicted)).toBeLessThan(0.01 * Math.abs(predicted));
		tf.dispose([value, gradient, original, direction, readout]);
		image.dispose();
	});
});

describe('feature_vis generator', () => {
	const params = { ...defaultParams(featureVis.params), network: 'small', steps: 3 };

	it('is marked slow and offers the paper’s random-network preset', () => {
		expect(featureVis.speed).toBe('slow');
		expect(featureVis.description).toMatch(/slow/i);
		expect(featureVisPresets.map((p) => p.name)).toEqual(['feature_vis-random']);
		expect(featureVisPresets[0]).toMatchObject({
			params: { network: 'resnet50', steps: 128 },
			size: 256
		});
	});

	it(
		'draws identical bytes for the same seed and index, different ones for another index',
		{
			timeout: 60_000
		},
		async () => {
			const first = await featureVis.generate(params, 7, 2, 32);
			const again = await featureVis.generate(params, 7, 2, 32);
			const other = await featureVis.generate(params, 7, 3, 32);
			expect(first.size).toBe(32);
			expect(first.data.length).toBe(32 * 32 * 3);
			expect(Buffer.from(again.data).equals(Buffer.from(first.data))).toBe(true);
			expect(Buffer.from(other.data).equals(Buffer.from(first.data))).toBe(false);
			// Min-max per image: the full 0..255 range is used.
			expect(Math.min(...first.data)).toBe(0);
			expect(Math.max(...first.data)).toBe(255);
		}
	);

	it('frees every tensor it creates after a warm-up call', { timeout: 60_000 }, async () => {
		await featureVis.generate(params, 8, 0, 32);
		const before = tf.memory().numTensors;
		await featureVis.generate(params, 8, 1, 32);
		expect(tf.memory().numTensors).toBe(before);
	});

	it('raises the targeted unit’s activation', { timeout: 60_000 }, async () => {
		const lease = acquireRandomNetwork('small', 12);
		const network = lease.network;
		// A unit that is alive on the initial image (a dead ReLU has no gradient at 32 px).
		const initial = new FftImage(32, new Random(12, 0));
		const pooled = tf.tidy(() =>
			network.forward(augment(initial.image(), null, imagenetNormalisation, 32)).dataSync()
		);
		initial.dispose();
		const unit = pooled.findIndex((value) => value > 0);
		const result = await renderFeatureVis(
			network,
			[unit],
			{ size: 32, steps: 8, learningRate: 0.05, transforms: true, measure: true },
			new Random(12, 0)
		);
		expect(result.activationBefore).toBeCloseTo(pooled[unit] as number, 5);
		expect(result.activationAfter as number).toBeGreaterThan(
			2 * (result.activationBefore as number)
		);
		lease.release();
	});
});
