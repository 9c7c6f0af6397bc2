/**
 * The `webgpu` backend against the `cpu` backend, on whatever adapter Dawn finds (Mesa's
 * lavapipe in CI; `.ci/run` installs it):
 *
 * - every kernel the training, evaluation and Explain paths dispatch, forward and backward, at
 *   the `tiny` preset's shapes with odd batch sizes and at the `small` preset's shapes, is
 *   replayed on cpu with the same inputs (a kernel census, test/support/kernel-census.ts);
 * - one training step of `tiny` and of `small` matches the cpu backend's step, stored in
 *   `webgpu-steps.json` (a cpu step of `small` takes minutes: cpu's Conv2DBackpropFilter runs
 *   at about 15 MFLOP/s); `npm run test:update-webgpu-fixtures` recomputes it on cpu;
 * - 50 training steps leave GPU memory where it was.
 *
 * Where no adapter exists (no Vulkan/Metal/D3D12 device) the suite is skipped and says why.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as prettier from 'prettier';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { camMethods } from '../../src/core/api/explain';
import type { GpuAdapter } from '../../src/core/compute/backends';
import { extractFeatures } from '../../src/core/evaluation/features';
import { knnClassifyMany } from '../../src/core/evaluation/knn';
import { predictProbe, trainLinearProbe } from '../../src/core/evaluation/linear-probe';
import { channelActivation } from '../../src/core/explain/activations';
import { firstLayerFilters } from '../../src/core/explain/filters';
import { computeCam, type CamTarget } from '../../src/core/explain/gradcam';
import { deletionInsertion } from '../../src/core/explain/sanity';
import { classMeanEmbedding, probeProbabilities } from '../../src/core/explain/targets';
import { Random } from '../../src/core/generators/random';
import {
	trainConfigSchema,
	type ModelPresetId,
	type TrainConfig
} from '../../src/core/training/config';
import { denseMatMul, modelPresets, SmallAlexNet } from '../../src/core/training/model';
import { ContrastiveTrainer, type StepMetrics } from '../../src/core/training/trainer';
import { activateBackend } from '../../src/main/compute/activate-backend';
import { registerAllGradients } from '../../src/main/compute/kernels/register-gradients';
import { releaseDawn, requestAdapter, takeGpuTrouble } from '../../src/main/compute/webgpu';
import {
	filterGradientByTaps,
	recordKernelCalls,
	relativeDifference,
	replayKernelCalls,
	type RecordedCall,
	type ReplayedCall
} from '../support/kernel-census';

const fixtureFile = path.join(import.meta.dirname, 'webgpu-steps.json');
const updating = process.env.UPDATE_WEBGPU_FIXTURES === '1';

let adapter: GpuAdapter | null = null;
let whyNot = '';
try {
	adapter = await requestAdapter();
	if (!adapter) whyNot = 'Dawn found no WebGPU adapter (no Vulkan, Metal or D3D12 device)';
} catch (error) {
	whyNot = `Dawn did not load: ${(error as Error).message.split('\n')[0]}`;
}
if (!adapter && !updating) {
	console.log(
		`webgpu tests skipped: ${whyNot}. On Debian, install bookworm-backports' mesa-vulkan-drivers (lavapipe) as .ci/run does.`
	);
}

/** Deterministic values in [-1, 1), the same on every backend. */
function values(size: number, seed: number): Float32Array {
	const random = new Random(seed, 77);
	return Float32Array.from({ length: size }, () => 2 * random.uniform() - 1);
}

function config(model: ModelPresetId, batch: number, optimizer: 'sgd' | 'adam'): TrainConfig {
	return trainConfigSchema.parse({
		source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
		model,
		batch,
		optimizer,
		steps: 100
	});
}

/** Views for one step: normalised-image-like values, the same on every backend. */
function stepViews(model: ModelPresetId, batch: number): Float32Array {
	const size = modelPresets[model].inputSize;
	return values(2 * batch * size * size * 3, batch).map((value) => 1.5 * value);
}

/** Relative tolerance of a kernel's outputs against cpu: float32 sums in another order. */
const kernelTolerance = 1e-4;

function describeFailures(replayed: ReplayedCall[]): string[] {
	return replayed
		.filter(({ errors }) => errors.some((error) => !(error < kernelTolerance)))
		.map(({ call, errors }) => `${call.signature} (relative error ${Math.max(...errors)})`);
}

/**
 * Replays a census on cpu and makes webgpu active again. The model's own kernels (the dense
 * product) register per backend on first use, so one tiny product registers them on cpu.
 */
async function replayOnCpu(calls: RecordedCall[]): Promise<ReplayedCall[]> {
	await tf.setBackend('cpu');
	tf.tidy(() => denseMatMul(tf.ones([1, 1]), tf.ones([1, 1])));
	const replayed = await replayKernelCalls(calls, 'cpu', { fastFilterGradient: true });
	await tf.setBackend('webgpu');
	return replayed;
}

const suite = adapter && !updating ? describe : describe.skip;

suite('webgpu kernels against cpu', () => {
	// Loading Dawn and creating a device takes a few seconds on a busy machine.
	beforeAll(async () => {
		const active = await activateBackend('webgpu');
		expect(active.id).toBe('webgpu');
	}, 120_000);
	afterAll(() => {
		takeGpuTrouble();
	});

	it(
		'match every kernel of tiny: training steps (SGD and Adam, batch 5), features, probe, kNN and Explain',
		{ timeout: 600_000 },
		async () => {
			// The model's dense product registers its kernel on first use: before the census.
			tf.tidy(() => denseMatMul(tf.ones([1, 1]), tf.ones([1, 1])));
			const calls = await recordKernelCalls('webgpu', async () => {
				for (const optimizer of ['sgd', 'adam'] as const) {
					const trainer = ContrastiveTrainer.create(config('tiny', 5, optimizer));
					await trainer.step(stepViews('tiny', 5), 0);
					trainer.dispose();
				}
				await evaluationAndExplain('tiny');
			});
			expect(takeGpuTrouble()).toEqual([]);
			const kernels = new Set(calls.map((call) => call.kernel));
			for (const kernel of [
				'Conv2D',
				'Conv2DBackpropInput',
				'Conv2DBackpropFilter',
				'MaxPool',
				'MaxPoolGrad',
				'BatchMatMul',
				'Relu',
				'NoiseLabDenseMatMul'
			]) {
				expect(kernels, kernel).toContain(kernel);
			}
			const replayed = await replayOnCpu(calls);
			expect(describeFailures(replayed)).toEqual([]);
		}
	);

	it(
		'match every kernel of a small training step: the preset shapes at 64 px',
		{ timeout: 600_000 },
		async () => {
			// Two pairs (below the runs' minimum of 4, which only the cost would change) keep the
			// cpu replay of 64 px convolutions short; tiny above covers the batch-shaped kernels.
			const calls = await recordKernelCalls('webgpu', async () => {
				const trainer = ContrastiveTrainer.create({ ...config('small', 4, 'sgd'), batch: 2 });
				await trainer.step(stepViews('small', 2), 0);
				trainer.dispose();
			});
			expect(takeGpuTrouble()).toEqual([]);
			expect(describeFailures(await replayOnCpu(calls))).toEqual([]);
		}
	);

	it('send a max pool gradient tie to the first maximum, as cpu and PyTorch do', async () => {
		// Two 3×3 windows (stride 2) over ReLU-like values: zeros tie everywhere but at one pixel.
		const input = tf.tensor4d([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], [1, 3, 5, 1]);
		const dy = tf.tensor4d([10, 20], [1, 1, 2, 1]);
		const output = tf.maxPool(input, 3, 2, 'valid');
		const dx = tf
			.engine()
			.runKernel(
				tf.MaxPoolGrad,
				{ dy, input, output },
				{ filterSize: 3, strides: 2, pad: 'valid' }
			) as tf.Tensor;
		// Window 1 is all zeros: its first element (index 0) takes dy; window 2's maximum is 2.
		expect(Array.from(await dx.data())).toEqual([10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20]);
		tf.dispose([input, dy, output, dx]);
	});
});

/**
 * What evaluation and Explain do with an encoder, on the active backend: features at every
 * layer the UI offers, a linear probe trained and applied, kNN, every CAM method at two
 * layers, deletion/insertion curves, an activation map, the filters and a class mean.
 */
async function evaluationAndExplain(model: ModelPresetId): Promise<void> {
	const encoder = SmallAlexNet.create(modelPresets[model], 9);
	const size = encoder.spec.inputSize;
	// An odd number of images, at the dataset size the encoder crops from.
	const count = 7;
	const images = {
		count,
		width: size + 4,
		height: size + 4,
		channels: 3 as const,
		data: Uint8Array.from(values(count * (size + 4) ** 2 * 3, 3), (v) => Math.round((v + 1) * 127))
	};
	const { features, dim } = await extractFeatures(encoder, images, {
		layer: 'fc6',
		view: { kind: 'centre' },
		batch: 4
	});
	await extractFeatures(encoder, images, {
		layer: 'conv3',
		view: { kind: 'augmented', seed: 1, view: 0 }
	});
	const labels = Int32Array.from({ length: count }, (_, i) => i % 3);
	const probe = await trainLinearProbe([features], labels, dim, 3, {
		epochs: 2,
		batch: 4,
		seed: 5
	});
	await predictProbe(probe, features);
	await knnClassifyMany(features, labels, features, dim, 3, { ks: [1, 3], chunk: 4 });

	const image = values(size * size * 3, 11);
	await probeProbabilities(encoder, image, probe, 'fc6');
	const reference = await classMeanEmbedding(encoder, [image, values(size * size * 3, 12)]);
	const classTarget: CamTarget = { kind: 'class', probe, probeLayer: 'fc6', classIndex: 1 };
	for (const method of camMethods) {
		await computeCam(encoder, image, { method: method.id, layer: 'conv5', target: classTarget });
	}
	const cam = await computeCam(encoder, image, {
		method: 'gradcam',
		layer: 'conv2',
		target: { kind: 'embedding', reference, measure: 'cosine' }
	});
	await computeCam(encoder, image, {
		method: 'gradcam',
		layer: 'conv4',
		target: { kind: 'embedding', reference, measure: 'projection' }
	});
	await deletionInsertion(encoder, image, cam, classTarget, { steps: 6, layer: 'conv5' });
	await channelActivation(encoder, image, 'conv1', undefined, size);
	await firstLayerFilters(encoder);
	encoder.dispose();
}

describe.skipIf(!adapter || updating)('a webgpu training step against cpu', () => {
	const fixtures = fs.existsSync(fixtureFile)
		? (JSON.parse(fs.readFileSync(fixtureFile, 'utf8')) as StepFixtures)
		: {};
	beforeAll(async () => {
		expect((await activateBackend('webgpu')).id).toBe('webgpu');
	}, 120_000);

	it.each(stepCases)(
		'$model at batch $batch matches the cpu step within 1e-3 of each update',
		{ timeout: 300_000 },
		async ({ model, batch }) => {
			const expected = fixtures[model];
			if (!expected)
				throw new Error(
					`${fixtureFile} has no ${model} step; run npm run test:update-webgpu-fixtures.`
				);
			const actual = await stepSketch(model, batch);
			expect(
				Math.abs(actual.initialWeights - expected.initialWeights) / expected.initialWeights,
				'the fixture is stale: run npm run test:update-webgpu-fixtures'
			).toBeLessThan(1e-9);
			expect(takeGpuTrouble()).toEqual([]);
			for (const key of ['loss', 'align', 'uniform'] as const) {
				expect(Math.abs(actual.metrics[key] - expected.metrics[key]), key).toBeLessThan(1e-4);
			}
			for (const [name, sketch] of Object.entries(expected.updates)) {
				const got = actual.updates[name];
				if (!got) throw new Error(`no update of ${name}`);
				// Relative to the update's size: the step moved the same way to 0.1 %.
				const scale = Math.max(sketch.norm, 1e-12);
				expect(Math.abs(got.norm - sketch.norm) / scale, `${name} norm`).toBeLessThan(1e-3);
				sketch.projections.forEach((projection, k) => {
					expect(
						Math.abs((got.projections[k] as number) - projection) / scale,
						`${name} projection ${k}`
					).toBeLessThan(1e-3);
				});
			}
		}
	);

	it(
		'leaves GPU memory unchanged over 50 training steps of tiny',
		{ timeout: 600_000 },
		async () => {
			const trainer = ContrastiveTrainer.create(config('tiny', 4, 'sgd'));
			const views = stepViews('tiny', 4);
			const memoryAfter: tf.MemoryInfo[] = [];
			for (let step = 0; step < 50; step++) {
				await trainer.step(views, step);
				memoryAfter.push(tf.memory());
			}
			trainer.dispose();
			expect(takeGpuTrouble()).toEqual([]);
			const settled = memoryAfter[4] as tf.MemoryInfo & { numBytesInGPU: number };
			const last = memoryAfter[49] as tf.MemoryInfo & { numBytesInGPU: number };
			expect(last.numTensors).toBe(settled.numTensors);
			expect(last.numBytes).toBe(settled.numBytes);
			expect(last.numBytesInGPU).toBe(settled.numBytesInGPU);
		}
	);
});

describe('the census reference for Conv2DBackpropFilter (per-tap products on cpu)', () => {
	const cases: { x: Shape4; filter: Shape4; stride: number; pad: 'same' | 'valid' }[] = [
		{ x: [2, 7, 9, 3], filter: [3, 3, 3, 4], stride: 1, pad: 'same' },
		{ x: [3, 8, 7, 2], filter: [5, 5, 2, 3], stride: 2, pad: 'valid' },
		{ x: [1, 9, 9, 4], filter: [3, 3, 4, 5], stride: 2, pad: 'same' }
	];

	it.each(cases)(
		'equals cpu’s own kernel: x $x, filter $filter, stride $stride, pad $pad',
		async (c) => {
			expect(await tf.setBackend('cpu')).toBe(true);
			tf.tidy(() => {
				const x = tf.tensor4d(values(tf.util.sizeFromShape(c.x), 1), c.x);
				const filter = tf.zeros(c.filter) as tf.Tensor4D;
				const outShape = tf.conv2d(x, filter, c.stride, c.pad).shape;
				const dy = tf.tensor4d(values(tf.util.sizeFromShape(outShape), 2), outShape);
				const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter };
				const expected = tf
					.engine()
					.runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor;
				const actual = filterGradientByTaps(x, dy, attrs);
				expect(actual.shape).toEqual(expected.shape);
				expect(relativeDifference(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
			});
		}
	);
});

type Shape4 = [number, number, number, number];

afterAll(() => {
	releaseDawn();
});

interface StepCase {
	model: ModelPresetId;
	batch: number;
}

const stepCases: StepCase[] = [
	{ model: 'tiny', batch: 5 },
	{ model: 'small', batch: 4 }
];

/** An update in a few numbers: its norm and its projections on fixed random unit vectors. */
interface UpdateSketch {
	norm: number;
	projections: number[];
}

interface StepFixture {
	/** Sum of squares of the initial weights: a different model or seed makes the fixture stale. */
	initialWeights: number;
	metrics: StepMetrics;
	updates: Record<string, UpdateSketch>;
}

type StepFixtures = Partial<Record<ModelPresetId, StepFixture>>;

/** One SGD step on the active backend, sketched: metrics and each weight's and buffer's update. */
async function stepSketch(model: ModelPresetId, batch: number): Promise<StepFixture> {
	const trainer = ContrastiveTrainer.create(config(model, batch, 'sgd'));
	const before = await trainer.snapshot();
	const metrics = await trainer.step(stepViews(model, batch), 0);
	const after = await trainer.snapshot();
	trainer.dispose();
	let initialWeights = 0;
	const updates: Record<string, UpdateSketch> = {};
	for (const [name, tensor] of Object.entries(before)) {
		if (name.startsWith('optimizer/')) continue;
		const next = after[name]?.data as Float32Array;
		const delta = Float64Array.from(tensor.data, (value, i) => (next[i] as number) - value);
		for (const value of tensor.data) initialWeights += value * value;
		const projections = [0, 1, 2, 3].map((k) => {
			const random = new Random(k, delta.length);
			const direction = Float64Array.from(delta, () => random.normal());
			let dot = 0;
			for (let i = 0; i < delta.length; i++) dot += (delta[i] as number) * (direction[i] as number);
			return dot / norm(direction);
		});
		updates[name] = { norm: norm(delta), projections };
	}
	return { initialWeights, metrics, updates };
}

function norm(vector: Float64Array): number {
	let sum = 0;
	for (const value of vector) sum += value * value;
	return Math.sqrt(sum);
}

describe.runIf(updating)('updating the cpu step fixtures', () => {
	it('recomputes each step on the cpu backend', { timeout: 3_600_000 }, async () => {
		registerAllGradients();
		expect(await tf.setBackend('cpu')).toBe(true);
		const fixtures: StepFixtures = {};
		for (const { model, batch } of stepCases) fixtures[model] = await stepSketch(model, batch);
		const options = (await prettier.resolveConfig(fixtureFile)) ?? {};
		const text = await prettier.format(JSON.stringify(fixtures), { ...options, parser: 'json' });
		fs.writeFileSync(fixtureFile, text);
	});
});
