/**
 * `node scripts/run-ts.mjs bench/webgpu-training.ts` (the webgpu part of `npm run
 * bench:training`): training throughput on the `webgpu` backend, on the adapter Dawn finds,
 * named in the output: the reference net of bench/reference-network.ts at batch 32 (as
 * bench/wasm-training.ts measures it on wasm) and the app's contrastive step of each encoder
 * preset. A software adapter (lavapipe) measures correctness' cost, not a GPU's speed.
 *
 * Options: --seconds 15 (per measurement, after an untimed warm-up step that compiles the
 * shaders; at least 2 timed steps), --batch 32, --models tiny,small (contrastive steps, batch
 * --batch pairs).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { describeAdapter } from '../src/core/compute/backends';
import { trainConfigSchema, type ModelPresetId } from '../src/core/training/config';
import { ContrastiveTrainer } from '../src/core/training/trainer';
import { activateBackend } from '../src/main/compute/activate-backend';
import { assertGpuHealthy, releaseDawn } from '../src/main/compute/webgpu';
import { buildNetwork, forward } from './reference-network';

interface Figure {
	imagesPerSecond: number;
	steps: number;
	warmUpSeconds: number;
}

/** Times `step` (images per call) after one untimed call, for at least 2 calls or `seconds`. */
async function timeSteps(
	images: number,
	seconds: number,
	step: (index: number) => Promise<void>
): Promise<Figure> {
	const cold = performance.now();
	await step(0);
	const warmUpSeconds = (performance.now() - cold) / 1000;
	const started = performance.now();
	let steps = 0;
	while (steps < 2 || (performance.now() - started) / 1000 < seconds) await step(++steps);
	assertGpuHealthy('the benchmark');
	return {
		imagesPerSecond: (steps * images) / ((performance.now() - started) / 1000),
		steps,
		warmUpSeconds
	};
}

function print(label: string, figure: Figure): void {
	console.log(
		`${label.padEnd(52)} ${figure.imagesPerSecond.toFixed(1).padStart(8)} img/s` +
			`  (${figure.steps} steps; warm-up step ${figure.warmUpSeconds.toFixed(1)} s, shaders included)`
	);
}

async function referenceNet(batch: number, seconds: number): Promise<Figure> {
	const network = buildNetwork();
	const images = tf.randomUniform([batch, 64, 64, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
	const optimizer = tf.train.adam(1e-3);
	try {
		return await timeSteps(batch, seconds, async () => {
			const loss = optimizer.minimize(
				() => tf.mean(tf.square(forward(network, images))),
				true,
				network.variables
			);
			await loss?.data();
			loss?.dispose();
		});
	} finally {
		optimizer.dispose();
		images.dispose();
		for (const variable of network.variables) variable.dispose();
	}
}

async function contrastive(model: ModelPresetId, batch: number, seconds: number): Promise<Figure> {
	const config = trainConfigSchema.parse({
		source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
		model,
		batch,
		steps: 1000
	});
	const trainer = ContrastiveTrainer.create(config);
	const size = trainer.inputSize;
	const views = Float32Array.from({ length: 2 * batch * size * size * 3 }, (_, i) =>
		Math.sin(i * 12.9898)
	);
	try {
		// One image per pair, as the other training benchmarks count.
		return await timeSteps(batch, seconds, async (index) => {
			await trainer.step(views, index);
		});
	} finally {
		trainer.dispose();
	}
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			seconds: { type: 'string', default: '15' },
			batch: { type: 'string', default: '32' },
			models: { type: 'string', default: 'tiny,small' }
		}
	});
	const seconds = Number(values.seconds);
	const batch = Number(values.batch);
	let backend;
	try {
		backend = await activateBackend('webgpu', { allowed: ['webgpu'] });
	} catch (error) {
		console.log(`webgpu: not available here (${(error as Error).message})`);
		return;
	}
	const on = backend.adapter ? describeAdapter(backend.adapter) : 'an unnamed adapter';
	console.log(`Training throughput on webgpu, on ${on}; Node ${process.versions.node}`);
	print(`reference net, batch ${batch}, webgpu`, await referenceNet(batch, seconds));
	for (const model of String(values.models).split(',') as ModelPresetId[]) {
		print(
			`contrastive step: ${model}, batch ${batch}, webgpu`,
			await contrastive(model, batch, seconds)
		);
	}
	releaseDawn();
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
