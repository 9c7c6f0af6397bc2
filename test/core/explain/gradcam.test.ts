import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { camMethods } from '../../../src/core/api/explain';
import {
	camParts,
	computeCam,
	foldStandardization,
	targetScores,
	upsampleBilinear,
	type CamMethod,
	type CamTarget
} from '../../../src/core/explain/gradcam';
import type { LinearProbe } from '../../../src/core/evaluation/linear-probe';
import type { EncoderLayer } from '../../../src/core/training/model';
import { registerWasmKernelPack } from '../../../src/main/compute/kernels';
import { registerAllGradients } from '../../../src/main/compute/kernels/register-gradients';
import {
	constructedEncoder,
	constructedProbe,
	constructedSize,
	microEncoder,
	microSpec,
	normals,
	patchImage,
	quadrantShare
} from './fixtures';

beforeAll(async () => {
	registerAllGradients();
	registerWasmKernelPack();
	expect(await tf.setBackend('cpu')).toBe(true);
});

afterAll(async () => {
	await tf.setBackend('cpu');
});

describe.each(['cpu', 'wasm'])('Grad-CAM on a constructed encoder (%s)', async (backend) => {
	beforeAll(async () => {
		expect(await tf.setBackend(backend)).toBe(true);
	});

	it.each<[CamMethod, EncoderLayer]>([
		['gradcam', 'conv5'],
		['gradcam', 'conv4'],
		['gradcam', 'conv3'],
		['gradcam++', 'conv5'],
		['gradcam++', 'conv4'],
		['xgradcam', 'conv5'],
		['hirescam', 'conv5'],
		['hirescam', 'conv4'],
		['layercam', 'conv5'],
		['layercam', 'conv4']
	])('%s at %s puts the mass on the top-left patch the target detects', async (method, layer) => {
		const encoder = constructedEncoder();
		const probe = constructedProbe();
		const image = patchImage();
		const before = tf.memory().numTensors;
		const cam = await computeCam(encoder, image, {
			method,
			layer,
			target: { kind: 'class', probe, probeLayer: 'conv5', classIndex: 0 }
		});
		expect(tf.memory().numTensors).toBe(before);
		// Class 0 is conv5 channel 0's mean: the patch detector's (R − G − B − 3.5) = 5.5 at
		// the single nonzero cell of the 3×3 map, scaled by eval BN's 1/√(1 + 1e-5) per block.
		expect(cam.score).toBeCloseTo(0.25 + 5.5 / 9, 3);
		expect(cam.map).toHaveLength(constructedSize ** 2);
		expect(Math.max(...cam.map)).toBeCloseTo(1, 3);
		expect(Math.min(...cam.map)).toBe(0);
		expect(quadrantShare(cam.map, constructedSize)).toBeGreaterThan(0.99);
		encoder.dispose();
	});

	it('follows the patch when it moves to the bottom-right corner', async () => {
		const encoder = constructedEncoder();
		for (const method of camMethods.map((entry) => entry.id)) {
			const cam = await computeCam(encoder, patchImage(6, { y: 24, x: 24 }), {
				method,
				layer: 'conv4',
				target: { kind: 'class', probe: constructedProbe(), probeLayer: 'conv5', classIndex: 0 }
			});
			expect(quadrantShare(cam.map, constructedSize, 'bottom-right')).toBeGreaterThan(0.99);
		}
		encoder.dispose();
	});
});

describe('Grad-CAM against finite differences (cpu, 16 px encoder)', () => {
	const layer: EncoderLayer = 'conv3';
	const probe: LinearProbe = {
		dim: microSpec.fcWidth,
		classes: 3,
		weight: normals(microSpec.fcWidth * 3, 1),
		bias: new Float32Array([0.1, 0, -0.1]),
		lossHistory: []
	};
	const targets: [string, CamTarget][] = [
		['a probe logit at fc7', { kind: 'class', probe, probeLayer: 'fc7', classIndex: 2 }],
		['cosine to a reference embedding', { kind: 'embedding', reference: normals(8, 2) }],
		[
			'projection on a reference embedding',
			{ kind: 'embedding', reference: normals(8, 3), measure: 'projection' }
		]
	];

	it.each(targets)(
		'%s: autodiff gradients and weights match central differences',
		async (_, target) => {
			const encoder = microEncoder(4);
			const image = normals(16 * 16 * 3, 5);
			const grad = await camParts(encoder, image, { method: 'gradcam', layer, target });
			const plus = await camParts(encoder, image, { method: 'gradcam++', layer, target });
			const { height, width, channels, activation } = grad;
			expect([height, width, channels]).toEqual([3, 3, 8]);
			// Every element of A perturbed by ±ε, all 2·H·W·K copies scored in one batch through the
			// forward-from-layer path.
			const elements = activation.length;
			const epsilon = 1e-2;
			const perturbed = new Float32Array(2 * elements * elements);
			for (let e = 0; e < elements; e++) {
				for (const [sign, row] of [
					[1, 2 * e],
					[-1, 2 * e + 1]
				] as const) {
					perturbed.set(activation, row * elements);
					perturbed[row * elements + e] = (activation[e] as number) + sign * epsilon;
				}
			}
			const scores = tf.tidy(() =>
				targetScores(
					encoder,
					tf.tensor4d(perturbed, [2 * elements, height, width, channels]),
					layer,
					target
				).dataSync()
			);
			const numeric = Float32Array.from(
				{ length: elements },
				(_, e) => ((scores[2 * e] as number) - (scores[2 * e + 1] as number)) / (2 * epsilon)
			);
			const scale = Math.max(...numeric.map(Math.abs));
			expect(scale).toBeGreaterThan(1e-3);
			for (let e = 0; e < elements; e++) {
				expect(Math.abs((grad.gradient[e] as number) - (numeric[e] as number))).toBeLessThan(
					0.02 * scale
				);
			}
			// Grad-CAM's α_k: the mean gradient of channel k; Grad-CAM++ from pytorch-grad-cam's
			// formula, both from the numeric gradient.
			for (let k = 0; k < channels; k++) {
				let mean = 0;
				let sumA = 0;
				for (let p = 0; p < height * width; p++) {
					mean += (numeric[p * channels + k] as number) / (height * width);
					sumA += activation[p * channels + k] as number;
				}
				let plusWeight = 0;
				for (let p = 0; p < height * width; p++) {
					const g = grad.gradient[p * channels + k] as number;
					const alpha = g === 0 ? 0 : (g * g) / (2 * g * g + sumA * g ** 3 + 1e-6);
					plusWeight += alpha * Math.max(g, 0);
				}
				expect(Math.abs((grad.weights[k] as number) - mean)).toBeLessThan(0.02 * scale);
				expect(plus.weights[k]).toBeCloseTo(plusWeight, 4);
			}
			// The map is ReLU(Σ_k α_k A_k).
			const cam = await computeCam(encoder, image, { method: 'gradcam', layer, target });
			for (let p = 0; p < height * width; p++) {
				let sum = 0;
				for (let k = 0; k < channels; k++) {
					sum += (grad.weights[k] as number) * (activation[p * channels + k] as number);
				}
				expect(cam.raw[p]).toBeCloseTo(Math.max(0, sum), 4);
			}
			expect(cam.score).toBeCloseTo(grad.score, 5);
			// The other methods from the same (checked) gradient, by pytorch-grad-cam's formulas:
			// XGrad-CAM Σ_p g·A / Σ_p A per channel, HiResCAM Σ_k g·A and LayerCAM Σ_k ReLU(g)·A
			// per position, each map ReLU'd.
			const { gradient } = grad;
			const at = (values: Float32Array, p: number, k: number) => values[p * channels + k] as number;
			const expected: Record<'xgradcam' | 'hirescam' | 'layercam', (p: number) => number> = {
				xgradcam: (p) => {
					let sum = 0;
					for (let k = 0; k < channels; k++) {
						let weighted = 0;
						let total = 0;
						for (let q = 0; q < height * width; q++) {
							weighted += at(gradient, q, k) * at(activation, q, k);
							total += at(activation, q, k);
						}
						sum += (weighted / (total + 1e-7)) * at(activation, p, k);
					}
					return sum;
				},
				hirescam: (p) => {
					let sum = 0;
					for (let k = 0; k < channels; k++) sum += at(gradient, p, k) * at(activation, p, k);
					return sum;
				},
				layercam: (p) => {
					let sum = 0;
					for (let k = 0; k < channels; k++) {
						sum += Math.max(0, at(gradient, p, k)) * at(activation, p, k);
					}
					return sum;
				}
			};
			for (const [method, formula] of Object.entries(expected)) {
				const other = await computeCam(encoder, image, {
					method: method as CamMethod,
					layer,
					target
				});
				for (let p = 0; p < height * width; p++) {
					expect(other.raw[p]).toBeCloseTo(Math.max(0, formula(p)), 4);
				}
			}
			encoder.dispose();
		}
	);

	it('forwardFrom(convActivation(x)) reproduces forward(x) at every later layer', () => {
		const encoder = microEncoder(6);
		const x = tf.tensor4d(normals(2 * 16 * 16 * 3, 7), [2, 16, 16, 3]);
		for (const from of ['conv1', 'conv3', 'conv5'] as const) {
			const activation = encoder.convActivation(x, from, { training: false });
			for (const to of ['conv5', 'fc6', 'fc8'] as const) {
				const direct = encoder.forward(x, { training: false, layer: to });
				const resumed = encoder.forwardFrom(activation, from, { training: false, layer: to });
				expect(Array.from(resumed.dataSync())).toEqual(Array.from(direct.dataSync()));
				tf.dispose([direct, resumed]);
			}
			activation.dispose();
		}
		x.dispose();
		encoder.dispose();
	});

	it('a probe folded from standardised features scores the same logits', async () => {
		const encoder = microEncoder(8);
		const image = normals(16 * 16 * 3, 9);
		const statistics = { mean: normals(16, 10), std: normals(16, 11).map((v) => 0.5 + v * v) };
		const folded = foldStandardization(probe, statistics);
		const features = tf.tidy(() =>
			encoder
				.forward(tf.tensor4d(image, [1, 16, 16, 3]), { training: false, layer: 'fc7' })
				.dataSync()
		);
		const cam = await computeCam(encoder, image, {
			method: 'gradcam',
			layer,
			target: { kind: 'class', probe: folded, probeLayer: 'fc7', classIndex: 1 }
		});
		let logit = probe.bias[1] as number;
		for (let d = 0; d < 16; d++) {
			const z =
				((features[d] as number) - (statistics.mean[d] as number)) / (statistics.std[d] as number);
			logit += z * (probe.weight[d * 3 + 1] as number);
		}
		expect(cam.score).toBeCloseTo(logit, 3);
		encoder.dispose();
	});
});

describe('upsampleBilinear', () => {
	it('matches cv2.resize (half-pixel centres, clamped edges) on a 2×2 map', () => {
		const out = upsampleBilinear(new Float32Array([0, 1, 2, 3]), 2, 2, 4);
		// cv2.resize(np.float32([[0, 1], [2, 3]]), (4, 4)) row 0: [0, 0.25, 0.75, 1]
		expect(Array.from(out.slice(0, 4))).toEqual([0, 0.25, 0.75, 1]);
		expect(Array.from(out.slice(12, 16))).toEqual([2, 2.25, 2.75, 3]);
		expect(out[5]).toBeCloseTo(0.75, 6);
	});
});
