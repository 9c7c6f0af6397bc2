/**
 * `npm run bench:training`: training throughput of the project's encoders with the contrastive
 * loss on the active backend (the best available: TensorFlow when installed, else wasm with the
 * kernel pack), first on fixed random views (the step alone), then end to end with images
 * generated and augmented on the fly by the data threads (the real pipeline of a run).
 *
 * Figures are dataset images per second (one image = one positive pair = two views).
 *
 * End to end, `tiny` trains with 1 replica (the step in this thread) and with K data-parallel
 * replica threads (wasm only), the same code as a run's.
 *
 * Options: --seconds 20 (per measurement; at least 2 timed steps), --backend auto|wasm|cpu|…,
 * --models tiny,small,alexnet, --threads N (data threads, default: as a run on this machine),
 * --replicas K (default: the cores), --skip-pipeline.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
	trainConfigSchema,
	type ModelPresetId,
	type TrainConfig
} from '../src/core/training/config';
import { defaultDataThreads } from '../src/core/training/parallelism';
import { ContrastiveTrainer } from '../src/core/training/trainer';
import type { BackendPreference } from '../src/core/compute/backends';
import { activateBackend } from '../src/main/compute/activate-backend';
import { BatchPipeline } from '../src/main/training/batch-pipeline';
import { DataParallelTrainer } from '../src/main/training/data-parallel';

/** Batch sizes that fit the wasm heap (4 GiB) for each preset; the paper's 768 needs TensorFlow. */
const benchBatch: Record<ModelPresetId, number> = { tiny: 128, small: 64, alexnet: 8 };

interface Figure {
	secondsPerStep: number;
	/** CPU seconds of this process (every thread) per step. */
	cpuSecondsPerStep: number;
	steps: number;
	warmUpSeconds: number;
}

async function timeSteps(
	step: (index: number) => Promise<unknown>,
	seconds: number
): Promise<Figure> {
	const cold = performance.now();
	await step(0);
	const warmUpSeconds = (performance.now() - cold) / 1000;
	const started = performance.now();
	const cpuStarted = process.cpuUsage();
	let steps = 0;
	while (steps < 2 || (performance.now() - started) / 1000 < seconds) {
		await step(steps + 1);
		steps++;
	}
	const secondsPerStep = (performance.now() - started) / 1000 / steps;
	const cpu = process.cpuUsage(cpuStarted);
	const cpuSecondsPerStep = (cpu.user + cpu.system) / 1e6 / steps;
	return { secondsPerStep, cpuSecondsPerStep, steps, warmUpSeconds };
}

function print(label: string, batch: number, figure: Figure): void {
	const imagesPerSecond = batch / figure.secondsPerStep;
	console.log(
		`${label.padEnd(64)} ${imagesPerSecond.toFixed(1).padStart(7)} img/s ` +
			`(${(batch / figure.cpuSecondsPerStep).toFixed(1)} per CPU second)  ` +
			`${figure.secondsPerStep.toFixed(3)} s/step (${figure.steps} steps; warm-up ${figure.warmUpSeconds.toFixed(1)} s)`
	);
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			seconds: { type: 'string', default: '20' },
			backend: { type: 'string', default: 'auto' },
			models: { type: 'string', default: 'tiny,small,alexnet' },
			threads: { type: 'string', default: String(defaultDataThreads(os.availableParallelism())) },
			replicas: { type: 'string', default: String(os.availableParallelism()) },
			'skip-pipeline': { type: 'boolean', default: false }
		}
	});
	const seconds = Number(values.seconds);
	const backend = await activateBackend(values.backend as BackendPreference);
	const load = os.loadavg()[0] ?? 0;
	console.log(
		`Contrastive training throughput on ${backend.id} (${backend.reason}); Node ${process.versions.node}, ` +
			`${os.availableParallelism()} cores, load average ${load.toFixed(1)}` +
			(load > os.availableParallelism() * 0.5 ? ' (busy machine: figures are noisy)' : '')
	);
	const models = String(values.models).split(',') as ModelPresetId[];
	for (const model of models) {
		const batch = benchBatch[model];
		const config = trainConfigSchema.parse({
			source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
			model,
			steps: 1000,
			batch
		});
		const trainer = ContrastiveTrainer.create(config);
		const size = trainer.inputSize;
		// Fixed pseudo-random views: the step's cost does not depend on the pixels.
		const views = new Float32Array(2 * batch * size * size * 3);
		for (let i = 0; i < views.length; i++) views[i] = Math.sin(i * 12.9898) * 1.5;
		const figure = await timeSteps((index) => trainer.step(views, index), seconds);
		print(
			`step only: ${model} (${(trainer.parameterCount / 1e6).toFixed(1)}M), batch ${batch}, ${size} px`,
			batch,
			figure
		);
		trainer.dispose();
	}
	if (values['skip-pipeline']) return;
	const threads = Number(values.threads);
	const config = trainConfigSchema.parse({
		source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
		model: 'tiny',
		steps: 1000,
		batch: benchBatch.tiny
	});
	const threadFile = path.resolve('dist/workers/train-data-thread.cjs');
	const pipeline = await BatchPipeline.open({
		source: config.source,
		augment: config.augment,
		inputSize: 32,
		batch: config.batch,
		seed: 0,
		threads,
		threadFile
	});
	try {
		const dataOnly = await timeSteps((index) => pipeline.next(index), seconds / 2);
		print(
			`data only: dead_leaves-mixed 128 px → 32 px views, ${threads} thread(s)`,
			config.batch,
			dataOnly
		);
	} finally {
		await pipeline.close();
	}
	const single = await endToEnd(config, 1, threads, threadFile, seconds);
	print(
		`end to end: tiny on dead_leaves-mixed, 1 replica, ${threads} data thread(s)`,
		config.batch,
		single
	);
	const replicas = Number(values.replicas);
	if (backend.id === 'wasm' && replicas > 1) {
		const parallel = await endToEnd(config, replicas, threads, threadFile, seconds);
		print(
			`end to end: tiny on dead_leaves-mixed, ${replicas} replicas, ${threads} data thread(s)`,
			config.batch,
			parallel
		);
		console.log(
			`  ${replicas} replicas / 1 replica, wall time: ${(single.secondsPerStep / parallel.secondsPerStep).toFixed(2)}`
		);
	}
}

/** A run's steps with data made on the fly, on `replicas` replicas (1: in this thread). */
async function endToEnd(
	config: TrainConfig,
	replicas: number,
	threads: number,
	threadFile: string,
	seconds: number
): Promise<Figure> {
	const trainer = ContrastiveTrainer.create(config);
	const pipeline = await BatchPipeline.open({
		source: config.source,
		augment: config.augment,
		inputSize: trainer.inputSize,
		batch: config.batch,
		seed: 1,
		threads,
		threadFile
	});
	const parallel =
		replicas > 1
			? await DataParallelTrainer.start({
					trainer,
					config,
					replicas,
					threadFile: path.resolve('dist/workers/train-replica.cjs')
				})
			: null;
	try {
		return await timeSteps(async (index) => {
			const batch = await pipeline.next(index);
			return parallel ? parallel.step(batch.views, index) : trainer.step(batch.views, index);
		}, seconds);
	} finally {
		await parallel?.close();
		await pipeline.close();
		trainer.dispose();
	}
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
