import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeCam, type CamResult, type CamTarget } from '../../../src/core/explain/gradcam';
import { deletionInsertion, spearman } from '../../../src/core/explain/sanity';
import { Random } from '../../../src/core/generators/random';
import { trainConfigSchema } from '../../../src/core/training/config';
import { modelPresets, SmallAlexNet } from '../../../src/core/training/model';
import { ContrastiveTrainer } from '../../../src/core/training/trainer';
import { registerWasmKernelPack } from '../../../src/main/compute/kernels';
import { registerAllGradients } from '../../../src/main/compute/kernels/register-gradients';
import {
	constructedEncoder,
	constructedProbe,
	constructedSize,
	normals,
	patchImage
} from './fixtures';

beforeAll(async () => {
	registerAllGradients();
	registerWasmKernelPack();
	expect(await tf.setBackend('wasm')).toBe(true);
});

afterAll(async () => {
	await tf.setBackend('cpu');
});

describe('spearman', () => {
	const f = (values: number[]) => Float32Array.from(values);

	it('is 1 for any increasing relation and −1 for a decreasing one', () => {
		expect(spearman(f([1, 2, 3, 4]), f([10, 20, 30, 400]))).toBeCloseTo(1, 12);
		expect(spearman(f([1, 2, 3, 4]), f([4, 3, 2, -9]))).toBeCloseTo(-1, 12);
	});

	it('matches the hand-computed value 1 − 6Σd²/(n(n²−1)) without ties', () => {
		// Ranks [1, 2, 3, 4, 5] and [2, 1, 4, 3, 5]: Σd² = 4, ρ = 1 − 24/120 = 0.8.
		expect(spearman(f([1, 2, 3, 4, 5]), f([0.2, 0.1, 0.4, 0.3, 0.5]))).toBeCloseTo(0.8, 6);
	});

	it('averages the ranks of ties (scipy.stats.spearmanr)', () => {
		// Ranks [1.5, 1.5, 3, 4] and [1, 2, 3.5, 3.5]: their Pearson correlation is 4/4.5.
		expect(spearman(f([0, 0, 1, 2]), f([1, 2, 3, 3]))).toBeCloseTo(8 / 9, 6);
		// A map that is zero except one peak, against a ramp: ranks [2, 2, 2, 4], ρ = 3/√15.
		expect(spearman(f([0, 0, 0, 1]), f([1, 2, 3, 4]))).toBeCloseTo(0.7745966692414834, 6);
	});

	it('is NaN for a constant map and rejects different lengths', () => {
		expect(spearman(f([1, 1, 1]), f([1, 2, 3]))).toBeNaN();
		expect(() => spearman(f([1, 2]), f([1, 2, 3]))).toThrow(RangeError);
	});
});

describe('deletion and insertion (wasm, constructed encoder)', () => {
	const target: CamTarget = {
		kind: 'class',
		probe: constructedProbe(),
		probeLayer: 'conv5',
		classIndex: 0
	};

	it.each(['mean', 'blur'] as const)(
		'the CAM order beats a random order (%s baseline)',
		async (baseline) => {
			const encoder = constructedEncoder();
			const image = patchImage();
			const cam = await computeCam(encoder, image, { method: 'gradcam', layer: 'conv4', target });
			const random = new Random(21);
			const shuffled: CamResult = {
				...cam,
				map: Float32Array.from({ length: constructedSize ** 2 }, () => random.uniform())
			};
			const before = tf.memory().numTensors;
			const faithful = await deletionInsertion(encoder, image, cam, target, { baseline });
			const control = await deletionInsertion(encoder, image, shuffled, target, { baseline });
			expect(tf.memory().numTensors).toBe(before);
			expect(faithful.deletionCurve).toHaveLength(17);
			// Both curves start from the image's score (deletion) or the baseline's (insertion).
			expect(faithful.deletionCurve[0]).toBeCloseTo(cam.score, 4);
			expect(faithful.insertionCurve[16]).toBeCloseTo(cam.score, 4);
			expect(faithful.deletionCurve[16]).toBeCloseTo(faithful.insertionCurve[0] as number, 4);
			if (baseline === 'mean') expect(faithful.deletionCurve[16]).toBeCloseTo(0.25, 4);
			expect(faithful.deletion).toBeLessThan(control.deletion - 0.2);
			expect(faithful.insertion).toBeGreaterThan(control.insertion);
			encoder.dispose();
		}
	);
});

describe('model randomisation (wasm, tiny encoder after 20 training steps)', () => {
	it('maps of a trained encoder differ from its random init; the same encoder agrees exactly', async () => {
		const config = trainConfigSchema.parse({
			source: { kind: 'folder', path: '/unused' },
			model: 'tiny',
			steps: 1000,
			batch: 6,
			lr: 0.05,
			seed: 13
		});
		const trainer = ContrastiveTrainer.create(config);
		const imageFloats = 32 * 32 * 3;
		const images = normals(6 * imageFloats, 14);
		const views = new Float32Array(12 * imageFloats);
		views.set(images);
		const noise = normals(6 * imageFloats, 15);
		for (let i = 0; i < images.length; i++) {
			views[images.length + i] = (images[i] as number) + 0.2 * (noise[i] as number);
		}
		for (let step = 0; step < 20; step++) await trainer.step(views, step);
		const initial = SmallAlexNet.create(modelPresets.tiny, config.seed);
		const agreement = async (a: SmallAlexNet, b: SmallAlexNet) => {
			let total = 0;
			for (let i = 0; i < 6; i++) {
				const image = images.subarray(i * imageFloats, (i + 1) * imageFloats);
				const cam = async (encoder: SmallAlexNet) => {
					const embedding = tf.tidy(() =>
						encoder
							.forward(tf.tensor4d(image, [1, 32, 32, 3]), { training: false })
							.dataSync<'float32'>()
					);
					return (
						await computeCam(encoder, image, {
							method: 'gradcam',
							layer: 'conv4',
							target: { kind: 'embedding', reference: embedding, measure: 'projection' }
						})
					).map;
				};
				total += spearman(await cam(a), await cam(b));
			}
			return total / 6;
		};
		expect(await agreement(trainer.model, trainer.model)).toBe(1);
		const acrossTraining = await agreement(trainer.model, initial);
		expect(acrossTraining).toBeLessThan(0.6);
		initial.dispose();
		trainer.dispose();
	}, 30_000);
});
