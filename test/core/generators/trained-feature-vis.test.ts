import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
	areaResize,
	clearTrainedNetworkCache,
	createTrainedFeatureVisGenerator
} from '../../../src/core/generators/feature-vis';
import { ensureFeatureVisGradients } from '../../../src/core/generators/feature-vis/gradients';
import { parseParamAssignments, paramsValidator } from '../../../src/core/generators/params';
import { findGenerator, findPreset, resolveConfig } from '../../../src/core/generators/registry';
import {
	installedEncoderWeights,
	installEncoderWeightsSource,
	parseEncoderReference,
	pinnedEncoder,
	type EncoderTensors,
	type EncoderWeightsSource
} from '../../../src/core/generators/trained-encoders';
import { modelPresets, SmallAlexNet } from '../../../src/core/training/model';

beforeAll(async () => {
	await tf.setBackend('cpu');
	ensureFeatureVisGradients();
});

/** Adam on tfjs's cpu backend: seconds here, many more on a loaded 2-core CI runner. */
const tfjsTimeoutMs = 60_000;

afterEach(() => {
	clearTrainedNetworkCache();
	installEncoderWeightsSource(null);
});

const shaA = 'a'.repeat(64);
const shaB = 'b'.repeat(64);

/** The `tiny` encoder's weights at the initialisation of `seed`, as a checkpoint holds them. */
function tinyWeights(seed: number): EncoderTensors {
	const encoder = SmallAlexNet.create(modelPresets.tiny, seed);
	const tensors: EncoderTensors = {};
	for (const [name, variable] of [...encoder.trainable, ...encoder.buffers]) {
		tensors[name] = { shape: variable.shape, data: variable.dataSync() as Float32Array };
	}
	encoder.dispose();
	return tensors;
}

/** Two fake checkpoints, built on first use (1.8M normal draws each). */
const checkpoints = new Map<string, EncoderTensors>();
function checkpointWeights(sha256: string): EncoderTensors {
	let tensors = checkpoints.get(sha256);
	if (!tensors) {
		if (sha256 !== shaA && sha256 !== shaB) throw new Error(`no checkpoint ${sha256}`);
		tensors = tinyWeights(sha256 === shaA ? 1 : 2);
		checkpoints.set(sha256, tensors);
	}
	return tensors;
}

/** A source over the fake checkpoints that counts its loads. */
function countingSource(): { source: EncoderWeightsSource; loads: string[] } {
	const loads: string[] = [];
	return {
		loads,
		source: (encoder) => {
			loads.push(encoder.sha256);
			return { model: 'tiny', tensors: checkpointWeights(encoder.sha256) };
		}
	};
}

describe('encoder references', () => {
	it('parses the three forms and refuses anything else', () => {
		expect(parseEncoderReference('newest:dead_leaves-mixed')).toEqual({
			kind: 'newest',
			preset: 'dead_leaves-mixed'
		});
		expect(parseEncoderReference('run:12')).toEqual({ kind: 'run', runId: 12, sha256: null });
		expect(parseEncoderReference(`run:12@${shaA}`)).toEqual({
			kind: 'run',
			runId: 12,
			sha256: shaA
		});
		for (const bad of [
			'',
			'run:',
			'run:0',
			'run:x',
			`run:3@${shaA.slice(1)}`,
			'newest:',
			'latest'
		]) {
			expect(parseEncoderReference(bad), bad).toBeNull();
		}
		expect(pinnedEncoder('run:12')).toBeNull();
		expect(pinnedEncoder(`run:12@${shaA}`)).toEqual({ runId: 12, sha256: shaA });
	});

	it('validates encoder parameters and parses them from the command line', () => {
		const schema = findGenerator('feature_vis_trained')?.params ?? {};
		expect(paramsValidator(schema).safeParse({ encoder: 'run:4' }).success).toBe(true);
		const refused = paramsValidator(schema).safeParse({ encoder: 'run four' });
		expect(refused.success).toBe(false);
		expect(refused.error?.issues[0]?.message).toBe(
			'encoder must be newest:PRESET, run:ID or run:ID@SHA256; got "run four"'
		);
		expect(parseParamAssignments(schema, ['encoder=run:4', 'layer=fc6'])).toEqual({
			ok: true,
			value: { encoder: 'run:4', layer: 'fc6' }
		});
	});

	it('says so when no process installed a source of weights', () => {
		expect(() => installedEncoderWeights({ runId: 3, sha256: shaA })).toThrow(
			/No trained encoders are available in this process, so run 3's encoder/
		);
	});
});

describe('feature_vis-dead_leaves', () => {
	it('is the paper’s dataset, defaulting to the newest run on dead_leaves-mixed', () => {
		const preset = findPreset('feature_vis-dead_leaves');
		expect(preset).toMatchObject({ generator: 'feature_vis_trained', size: 256 });
		const resolved = resolveConfig({ preset: 'feature_vis-dead_leaves' });
		expect(resolved.ok && resolved.value.params).toMatchObject({
			encoder: 'newest:dead_leaves-mixed',
			layer: 'conv5',
			steps: 128
		});
	});

	it('refuses an encoder that is not pinned to a checkpoint, saying who resolves it', async () => {
		const generator = createTrainedFeatureVisGenerator(countingSource().source);
		const params = {
			encoder: 'newest:dead_leaves-mixed',
			layer: 'conv5',
			steps: 1,
			learningRate: 0.05,
			transforms: true
		};
		await expect(generator.generate(params, 0, 0, 32)).rejects.toThrow(
			/"newest:dead_leaves-mixed" is not pinned to a checkpoint \(run:ID@SHA256\)/
		);
	});

	it(
		'draws the same bytes for the same inputs, loading each checkpoint once',
		async () => {
			const { source, loads } = countingSource();
			const generator = createTrainedFeatureVisGenerator(source);
			const params = {
				encoder: `run:1@${shaA}`,
				layer: 'conv5',
				steps: 2,
				learningRate: 0.05,
				transforms: true
			};
			const first = await generator.generate(params, 5, 0, 40);
			const again = await generator.generate(params, 5, 0, 40);
			const other = await generator.generate(params, 5, 1, 40);
			expect(first.size).toBe(40);
			expect(Buffer.from(again.data).equals(Buffer.from(first.data))).toBe(true);
			expect(Buffer.from(other.data).equals(Buffer.from(first.data))).toBe(false);
			expect(loads).toEqual([shaA]);
			// Another checkpoint is another network; so is another layer of the same one.
			const otherEncoder = await generator.generate(
				{ ...params, encoder: `run:2@${shaB}` },
				5,
				0,
				40
			);
			const otherLayer = await generator.generate({ ...params, layer: 'fc7' }, 5, 0, 40);
			expect(Buffer.from(otherEncoder.data).equals(Buffer.from(first.data))).toBe(false);
			expect(Buffer.from(otherLayer.data).equals(Buffer.from(first.data))).toBe(false);
			expect(loads).toEqual([shaA, shaB, shaA]);
		},
		tfjsTimeoutMs
	);

	it(
		'leaves no tensors behind once its encoders are released',
		async () => {
			const generator = createTrainedFeatureVisGenerator(countingSource().source);
			const params = {
				encoder: `run:1@${shaA}`,
				layer: 'fc6',
				steps: 2,
				learningRate: 0.05,
				transforms: true
			};
			const before = tf.memory().numTensors;
			await generator.generate(params, 0, 3, 32);
			clearTrainedNetworkCache();
			expect(tf.memory().numTensors).toBe(before);
		},
		tfjsTimeoutMs
	);
});

describe('areaResize', () => {
	it('averages f×f blocks before the final resize', () => {
		// 8×8 with value = column index: 2×2 block means are 0.5, 2.5, 4.5, 6.5.
		const values = new Float32Array(8 * 8 * 3);
		for (let i = 0; i < values.length; i++) values[i] = Math.floor(i / 3) % 8;
		const resized = areaResize(tf.tensor4d(values, [1, 8, 8, 3]), 4);
		expect(resized.shape).toEqual([1, 4, 4, 3]);
		const row = Array.from(resized.dataSync().slice(0, 12)).filter((_, i) => i % 3 === 0);
		expect(row).toEqual([0.5, 2.5, 4.5, 6.5]);
	});

	it('passes gradient to every pixel, unlike a plain 4× bilinear shrink', () => {
		const image = tf.ones([1, 64, 64, 3]) as tf.Tensor4D;
		const touched = (shrink: (x: tf.Tensor4D) => tf.Tensor4D) => {
			const gradient = tf.grad((x: tf.Tensor) => tf.sum(shrink(x as tf.Tensor4D)))(image);
			return Array.from(gradient.dataSync()).filter((value) => value !== 0).length;
		};
		expect(touched((x) => areaResize(x, 16))).toBe(64 * 64 * 3);
		expect(touched((x) => tf.image.resizeBilinear(x, [16, 16], true))).toBeLessThan(64 * 64);
	});
});
