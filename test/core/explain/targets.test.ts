import type { FeatureLayer } from '../../../src/core/encoders/architecture';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src/core/api/errors';
import { predictionSchema, resolvedTargetSchema } from '../../../src/core/api/explain';
import { computeCam } from '../../../src/core/explain/gradcam';
import {
	classMeanEmbedding,
	probeProbabilities,
	resolveTarget,
	type ExplainProbe,
	type TargetContext
} from '../../../src/core/explain/targets';
import { predictProbe, type LinearProbe } from '../../../src/core/evaluation/linear-probe';
import { encoderLayers, type EncoderLayer } from '../../../src/core/training/encoder-spec';
import type { SmallAlexNet } from '../../../src/core/training/model';
import { registerWasmKernelPack } from '../../../src/main/compute/kernels';
import { registerAllGradients } from '../../../src/main/compute/kernels/register-gradients';
import { microEncoder, microSpec, normals } from './fixtures';

const pixels = microSpec.inputSize ** 2 * 3;
const classes = ['circle', 'square', 'star', 'cross', 'ring'];

let encoder: SmallAlexNet;

beforeAll(async () => {
	registerAllGradients();
	registerWasmKernelPack();
	expect(await tf.setBackend('wasm')).toBe(true);
	encoder = microEncoder(3);
});

afterAll(async () => {
	encoder.dispose();
	await tf.setBackend('cpu');
});

/** A 5-class probe on `layer`'s features with weights large enough to separate the classes. */
function probeOn(layer: EncoderLayer, seed: number): ExplainProbe {
	const index = encoderLayers.indexOf(layer);
	const dim = index < 5 ? (microSpec.channels[index] as number) : microSpec.fcWidth;
	const probe: LinearProbe = {
		dim,
		classes: classes.length,
		weight: normals(dim * classes.length, seed).map((value) => value * 2),
		bias: normals(classes.length, seed + 1),
		lossHistory: []
	};
	return { probe, layer };
}

function features(input: Float32Array, layer: FeatureLayer): Float32Array {
	return tf.tidy(() =>
		encoder
			.forward(tf.tensor4d(input, [1, microSpec.inputSize, microSpec.inputSize, 3]), {
				training: false,
				layer
			})
			.dataSync<'float32'>()
			.slice()
	);
}

function context(overrides: Partial<TargetContext> = {}): TargetContext {
	const input = normals(pixels, 40);
	return {
		encoder,
		input,
		probe: probeOn('fc6', 50),
		camLayer: 'conv5',
		trueClass: 2,
		classes,
		classMean: () => {
			throw new Error('not asked for');
		},
		encoderLabel: 'run "noise"',
		dataset: 'structured:shapes',
		...overrides
	};
}

async function failure(run: () => Promise<unknown>): Promise<AppFailure> {
	try {
		await run();
	} catch (error) {
		expect(error).toBeInstanceOf(AppFailure);
		return error as AppFailure;
	}
	throw new Error('did not fail');
}

describe('probe probabilities', () => {
	it('are the softmax of the probe logits on the layer features', async () => {
		const input = normals(pixels, 41);
		const { probe, layer } = probeOn('fc6', 51);
		await probeProbabilities(encoder, input, probe, layer);
		const before = tf.memory().numTensors;
		const probabilities = await probeProbabilities(encoder, input, probe, layer);
		expect(tf.memory().numTensors).toBe(before);
		const { logits } = await predictProbe(probe, features(input, layer));
		const exps = Array.from(logits, (value) => Math.exp(value));
		const total = exps.reduce((a, b) => a + b, 0);
		expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
		exps.forEach((value, c) => expect(probabilities[c]).toBeCloseTo(value / total, 5));
		// Not uniform: the test would say nothing otherwise.
		expect(Math.max(...probabilities) - Math.min(...probabilities)).toBeGreaterThan(0.05);
	});

	it('refuse a probe of another width, saying what to do', async () => {
		const { probe } = probeOn('conv5', 52);
		const error = await failure(() =>
			probeProbabilities(encoder, normals(pixels, 1), probe, 'fc6')
		);
		expect(error.message).toMatch(/reads 6 fc6 features, but this encoder has 16/);
	});
});

describe('class-mean embedding', () => {
	it('averages unit-norm embeddings in batches', async () => {
		const inputs = Array.from({ length: 70 }, (_, i) => normals(pixels, 100 + i));
		const mean = await classMeanEmbedding(encoder, inputs);
		const expected = new Float64Array(microSpec.embeddingDim);
		for (const input of inputs) {
			const embedding = features(input, 'fc8');
			let norm = 0;
			for (const value of embedding) norm += value * value;
			expect(Math.sqrt(norm)).toBeCloseTo(1, 5);
			embedding.forEach((value, d) => (expected[d] = (expected[d] as number) + value / 70));
		}
		expected.forEach((value, d) => expect(mean[d]).toBeCloseTo(value, 6));
		await expect(classMeanEmbedding(encoder, [])).rejects.toThrow(/at least one image/);
	});
});

describe('resolveTarget', () => {
	it('explains the own embedding (projection) when asked for the prediction without a probe', async () => {
		const ctx = context({ probe: null });
		const { target, resolved, prediction } = await resolveTarget({ kind: 'predicted' }, ctx);
		resolvedTargetSchema.parse(resolved);
		expect(resolved.kind).toBe('embedding');
		expect(resolved.classIndex).toBeNull();
		expect(resolved.description).toBe('own embedding (no probe on structured:shapes)');
		expect(prediction).toBeNull();
		if (target.kind !== 'embedding') throw new Error('expected an embedding target');
		expect(target.measure).toBe('projection');
		expect(Array.from(target.reference)).toEqual(Array.from(features(ctx.input, 'fc8')));
		// The same target as asking for the embedding itself.
		expect((await resolveTarget({ kind: 'embedding' }, ctx)).target).toEqual(target);
	});

	it('takes the probe argmax as the predicted class and fills the prediction', async () => {
		for (const seed of [60, 61, 62, 63]) {
			const { probe } = probeOn('fc6', seed);
			const ctx = context({ probe: { probe, layer: 'fc6' }, input: normals(pixels, seed) });
			const probabilities = await probeProbabilities(encoder, ctx.input, probe, 'fc6');
			const order = Array.from(probabilities.keys()).sort(
				(a, b) => (probabilities[b] as number) - (probabilities[a] as number)
			);
			const { target, resolved, prediction } = await resolveTarget({ kind: 'predicted' }, ctx);
			predictionSchema.parse(prediction);
			expect(prediction?.classIndex).toBe(order[0]);
			expect(prediction?.confidence).toBeCloseTo(probabilities[order[0] as number] as number, 12);
			expect(prediction?.top.map((entry) => entry.classIndex)).toEqual(order.slice(0, 3));
			expect(target).toMatchObject({ kind: 'class', probeLayer: 'fc6', classIndex: order[0] });
			expect(resolved).toEqual({
				kind: 'class',
				classIndex: order[0],
				description: `probe class "${classes[order[0] as number]}" (predicted)`
			});
			// The map's score is that class's logit.
			const cam = await computeCam(encoder, ctx.input, {
				method: 'gradcam',
				layer: 'conv5',
				target
			});
			const { logits } = await predictProbe(probe, features(ctx.input, 'fc6'));
			expect(cam.score).toBeCloseTo(logits[order[0] as number] as number, 4);
		}
	});

	it('explains the true class through the probe, and says what is missing when it cannot', async () => {
		const resolved = await resolveTarget({ kind: 'true' }, context());
		expect(resolved.target).toMatchObject({ kind: 'class', classIndex: 2 });
		expect(resolved.resolved.description).toBe('probe class "star" (true label)');
		expect(resolved.prediction).not.toBeNull();
		const noLabel = await failure(() =>
			resolveTarget({ kind: 'true' }, context({ trueClass: null }))
		);
		expect(noLabel.code).toBe('INVALID_REQUEST');
		expect(noLabel.message).toMatch(/uploaded image has no label/);
		const noProbe = await failure(() => resolveTarget({ kind: 'true' }, context({ probe: null })));
		expect(noProbe.code).toBe('INVALID_REQUEST');
		expect(noProbe.message).toMatch(
			/evaluate run "noise" on structured:shapes with the linear probe first/
		);
	});

	it('range-checks a class and refuses a probe that reads a layer before the CAM layer', async () => {
		const chosen = await resolveTarget({ kind: 'class', classIndex: 4 }, context());
		expect(chosen.resolved).toEqual({
			kind: 'class',
			classIndex: 4,
			description: 'probe class "ring"'
		});
		expect(
			(await failure(() => resolveTarget({ kind: 'class', classIndex: 5 }, context()))).message
		).toMatch(/has 5 classes \(0–4\); class 5 does not exist/);
		const early = context({ probe: probeOn('conv5', 70), camLayer: 'conv5' });
		expect((await resolveTarget({ kind: 'predicted' }, early)).target.kind).toBe('class');
		const tooEarly = await failure(() =>
			resolveTarget({ kind: 'predicted' }, { ...early, probe: probeOn('conv4', 71) })
		);
		expect(tooEarly.message).toMatch(/reads conv4, before the CAM layer conv5/);
		const mismatch = await failure(() =>
			resolveTarget({ kind: 'embedding' }, context({ classes: classes.slice(0, 3) }))
		);
		expect(mismatch.message).toMatch(/has 5 classes but structured:shapes has 3/);
	});

	it('takes the cosine to the class mean, which is 1 for the mean of the image itself', async () => {
		const input = normals(pixels, 80);
		const asked: number[] = [];
		const ctx = context({
			input,
			classMean: (classIndex) => {
				asked.push(classIndex);
				return classMeanEmbedding(encoder, [input]);
			}
		});
		const { target, resolved, prediction } = await resolveTarget(
			{ kind: 'class-mean', classIndex: 1 },
			ctx
		);
		expect(asked).toEqual([1]);
		expect(resolved).toEqual({
			kind: 'class-mean',
			classIndex: 1,
			description: 'cosine to the mean embedding of "square"'
		});
		expect(prediction).not.toBeNull();
		expect(target).toMatchObject({ kind: 'embedding', measure: 'cosine' });
		const cam = await computeCam(encoder, input, { method: 'gradcam', layer: 'conv5', target });
		expect(cam.score).toBeCloseTo(1, 5);
		// Another image is less similar to it.
		const other = await computeCam(encoder, normals(pixels, 81), {
			method: 'gradcam',
			layer: 'conv5',
			target
		});
		expect(other.score).toBeLessThan(0.999);
		expect(
			(await failure(() => resolveTarget({ kind: 'class-mean', classIndex: 9 }, ctx))).message
		).toMatch(/class 9 does not exist/);
	});

	it('leaves no tensors behind', async () => {
		const ctx = context();
		await resolveTarget({ kind: 'predicted' }, ctx);
		const before = tf.memory().numTensors;
		await resolveTarget({ kind: 'predicted' }, ctx);
		await resolveTarget({ kind: 'embedding' }, ctx);
		await resolveTarget({ kind: 'true' }, ctx);
		expect(tf.memory().numTensors).toBe(before);
	});
});
