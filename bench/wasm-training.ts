/**
 * Training throughput (images/s) of the reference conv net (`bench/reference-network.ts`) at
 * batch 32 with Adam on one fixed batch (pre-generated data), in one run, side by side:
 * - wasm x1: the tfjs wasm backend with the kernel pack of src/main/compute/kernels/, one thread;
 * - wasm xK: K data-parallel replica threads (the app's `ReplicaGroup`), one optimiser step;
 * - PyTorch on one thread (`bench/reference-pytorch.py`), when `python3 -c "import torch"` works
 *   (Debian's python3-torch; set NOISELAB_PYTHON to choose the interpreter);
 * and the ratios the engine targets: wasm xK / wasm x1 (wall time) and wasm x1 / PyTorch per
 * CPU second.
 *
 * Throughput is reported per second of wall time and per second of this process's CPU time
 * (all its threads); the second is steadier on a machine other work shares.
 *
 * Options: --seconds 20 (cap per measurement; one step always completes), --batch 32,
 * --replicas K (default: the cores), --skip-pytorch, --stock (also wasm with the stock
 * Conv2DBackpropInput), --cpu (also the cpu backend: one step, no warm-up; minutes at batch 32).
 * --profile instead prints per-kernel times of one step of the reference net and of the app's
 * `tiny` encoder (ContrastiveTrainer, --tiny-batch 128 pairs = 256 images), --by-shape splitting
 * them by input shapes.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { trainConfigSchema } from '../src/core/training/config';
import { ContrastiveTrainer } from '../src/core/training/trainer';
import { registerAllGradients } from '../src/main/compute/kernels/register-gradients';
import { registerWasmKernelPack } from '../src/main/compute/kernels';
import { ReplicaGroup } from '../src/main/threads/replica-group';
import { buildNetwork, forward, referenceInputSize, type Network } from './reference-network';
import { serveReferenceReplica, type ReferenceReplicaInit } from './reference-replica-thread';

interface Measurement {
	imagesPerSecond: number;
	/**
	 * Images per second of this process's CPU time: the wasm backend runs on one thread, so on a
	 * machine shared with other work this tracks what an idle core would do better than wall time.
	 */
	imagesPerCpuSecond: number;
	steps: number;
	firstStepSeconds: number;
	finalLoss: number;
}

/** A way to train the reference net: set up, then one step at a time (resolving with the loss). */
interface Trainer {
	step(): Promise<number>;
	dispose(): Promise<void>;
}

/** Times `trainer`'s steps for about `seconds` after one warm-up step (unless `warmUp` is off). */
async function measure(
	trainer: Trainer,
	batch: number,
	seconds: number,
	warmUp = true
): Promise<Measurement> {
	const cold = performance.now();
	let finalLoss = warmUp ? await trainer.step() : Number.NaN;
	const firstStepSeconds = (performance.now() - cold) / 1000;
	let steps = 0;
	const started = performance.now();
	const cpuStarted = process.cpuUsage();
	while (steps < 1 || (performance.now() - started) / 1000 + firstStepSeconds < seconds) {
		finalLoss = await trainer.step();
		steps++;
	}
	const elapsed = (performance.now() - started) / 1000;
	const cpuUsed = process.cpuUsage(cpuStarted);
	const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
	await trainer.dispose();
	return {
		imagesPerSecond: (steps * batch) / elapsed,
		imagesPerCpuSecond: (steps * batch) / cpuSeconds,
		steps,
		firstStepSeconds,
		finalLoss
	};
}

/** The fixed batch every trainer learns from. */
function referenceImages(batch: number): tf.Tensor4D {
	return tf.randomUniform(
		[batch, referenceInputSize, referenceInputSize, 3],
		0,
		1,
		'float32',
		7
	) as tf.Tensor4D;
}

function disposeNetwork(network: Network): void {
	for (const variable of network.variables) variable.dispose();
}

/** The reference net on one thread of `backend`. */
async function singleTrainer(backend: string, batch: number): Promise<Trainer> {
	if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
	await tf.ready();
	const network = buildNetwork();
	const images = referenceImages(batch);
	const optimizer = tf.train.adam(1e-3);
	return {
		step: async () => {
			const loss = optimizer.minimize(
				() => tf.mean(tf.square(forward(network, images))),
				true,
				network.variables
			);
			const value = (await loss?.data())?.[0] ?? Number.NaN;
			loss?.dispose();
			return value;
		},
		dispose: async () => {
			optimizer.dispose();
			images.dispose();
			disposeNetwork(network);
		}
	};
}

/**
 * The reference net on `replicas` wasm replica threads: each step hands the batch over in
 * shared memory, the replicas compute their shards' gradients and sum them, and this thread
 * applies Adam once and publishes the weights, as a data-parallel run does.
 */
async function replicatedTrainer(replicas: number, batch: number): Promise<Trainer> {
	if (!(await tf.setBackend('wasm'))) throw new Error('backend wasm did not initialise');
	const network = buildNetwork();
	const images = referenceImages(batch);
	const pixels = images.dataSync();
	images.dispose();
	const optimizer = tf.train.adam(1e-3);
	const parameters = network.variables.reduce((sum, variable) => sum + variable.size, 0);
	const group = await ReplicaGroup.start<
		ReferenceReplicaInit['setup'],
		{ step: number },
		{ loss: number }
	>({
		// This script, which serves a replica when it runs as a worker thread.
		file: __filename,
		label: 'reference-net replica',
		replicas,
		sizes: { parameters, views: pixels.length, collective: 1 },
		setup: { batch }
	});
	const publish = () => {
		let offset = 0;
		for (const variable of network.variables) {
			group.weights.set(variable.dataSync(), offset);
			offset += variable.size;
		}
	};
	publish();
	let steps = 0;
	return {
		step: async () => {
			group.views.set(pixels);
			const replies = await group.step({ step: steps++ });
			tf.tidy(() => {
				let offset = 0;
				const gradients = network.variables.map((variable) => {
					const tensor = tf.tensor(
						group.gradients.subarray(offset, offset + variable.size),
						variable.shape
					);
					offset += variable.size;
					return { name: variable.name, tensor };
				});
				optimizer.applyGradients(gradients);
			});
			publish();
			return replies.reduce((sum, reply) => sum + reply.loss, 0);
		},
		dispose: async () => {
			await group.close();
			optimizer.dispose();
			disposeNetwork(network);
		}
	};
}

/** What `bench/reference-pytorch.py` prints. */
interface PytorchFigures {
	imagesPerSecond: number;
	imagesPerCpuSecond: number;
	steps: number;
	finalLoss: number;
	torch: string;
}

/** The first of `NOISELAB_PYTHON`, `python3`, `/usr/bin/python3` that imports torch. */
function findPytorch(): { python: string } | { tried: string[] } {
	const candidates = [process.env.NOISELAB_PYTHON, 'python3', '/usr/bin/python3'].filter(
		(candidate): candidate is string => Boolean(candidate)
	);
	for (const python of new Set(candidates)) {
		const probe = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
		if (probe.status === 0) return { python };
	}
	return { tried: [...new Set(candidates)] };
}

function measurePytorch(python: string, batch: number, seconds: number): PytorchFigures {
	const script = path.resolve('bench', 'reference-pytorch.py');
	const run = spawnSync(python, [script, String(seconds), String(batch)], {
		encoding: 'utf8',
		// One thread, whatever BLAS the build uses.
		env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }
	});
	if (run.status !== 0) throw new Error(`${python} ${script} failed: ${run.stderr}`);
	return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as PytorchFigures;
}

function report(label: string, result: Measurement): void {
	console.log(
		`${label.padEnd(40)} ${result.imagesPerSecond.toFixed(1).padStart(8)} img/s` +
			` (${result.imagesPerCpuSecond.toFixed(1)} per CPU second)` +
			`  (${result.steps} steps, warm-up step ${result.firstStepSeconds.toFixed(2)} s, loss ${result.finalLoss.toFixed(4)})`
	);
}

/**
 * Per-kernel time of `step` on the wasm backend, summed by kernel name (or name and input shapes
 * with `byShape`) within a step, over `repeats` profiled steps after one warm-up step. Only
 * top-level kernels are timed: a kernel of the pack that runs others counts as one entry, and a
 * custom-gradient scope ("unnamed scope") includes the kernels inside it.
 */
async function profileStep(
	label: string,
	step: () => Promise<void>,
	repeats: number,
	byShape: boolean
): Promise<void> {
	await step();
	// Each kernel's least total over the steps, and the fastest step: on a shared machine, other
	// processes inflate some steps and some kernels, never deflate them.
	const byKernel = new Map<string, number>();
	let fastestStep = Number.POSITIVE_INFINITY;
	for (let repeat = 0; repeat < repeats; repeat++) {
		const started = performance.now();
		const info = await tf.profile(step);
		fastestStep = Math.min(fastestStep, performance.now() - started);
		const stepByKernel = new Map<string, number>();
		for (const kernel of info.kernels) {
			const ms = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
			const key = byShape ? `${kernel.name} ${JSON.stringify(kernel.inputShapes)}` : kernel.name;
			stepByKernel.set(key, (stepByKernel.get(key) ?? 0) + ms);
		}
		for (const [key, ms] of stepByKernel) {
			byKernel.set(key, Math.min(byKernel.get(key) ?? Number.POSITIVE_INFINITY, ms));
		}
	}
	let total = 0;
	for (const [key, ms] of byKernel) if (!key.startsWith('unnamed scope')) total += ms;
	console.log(
		`${label}: fastest of ${repeats} steps ${fastestStep.toFixed(0)} ms; ` +
			`per kernel, the least over the steps (sum ${total.toFixed(0)} ms):`
	);
	const rows = [...byKernel].sort((a, b) => b[1] - a[1]);
	for (const [name, ms] of rows.slice(0, byShape ? 30 : 14)) {
		console.log(`  ${name.padEnd(byShape ? 60 : 28)} ${ms.toFixed(1).padStart(8)} ms`);
	}
}

/** Profiles one step of the app's `tiny` encoder: `2·batch` views of 32 px, SGD. */
async function profileTinyStep(batch: number, repeats: number, byShape: boolean): Promise<void> {
	if (!(await tf.setBackend('wasm'))) throw new Error('backend wasm did not initialise');
	const config = trainConfigSchema.parse({
		source: { kind: 'folder', path: 'unused' },
		model: 'tiny',
		steps: 1000,
		batch
	});
	const trainer = ContrastiveTrainer.create(config);
	const side = trainer.inputSize;
	const views = new Float32Array(2 * batch * side * side * 3);
	let state = 1;
	for (let i = 0; i < views.length; i++) {
		state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
		views[i] = state / 2 ** 31 - 1;
	}
	let stepIndex = 0;
	await profileStep(
		`tiny encoder, batch ${batch} (${2 * batch} images)`,
		async () => {
			await trainer.step(views, stepIndex++);
		},
		repeats,
		byShape
	);
	trainer.model.dispose();
}

/** Profiles one step of the reference net at `batch`. */
async function profileReferenceStep(
	batch: number,
	repeats: number,
	byShape: boolean
): Promise<void> {
	if (!(await tf.setBackend('wasm'))) throw new Error('backend wasm did not initialise');
	const network = buildNetwork();
	const images = referenceImages(batch);
	const optimizer = tf.train.adam(1e-3);
	await profileStep(
		`reference net, batch ${batch}`,
		async () => {
			const loss = optimizer.minimize(
				() => tf.mean(tf.square(forward(network, images))),
				true,
				network.variables
			);
			await loss?.data();
			loss?.dispose();
		},
		repeats,
		byShape
	);
	optimizer.dispose();
	images.dispose();
	disposeNetwork(network);
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			seconds: { type: 'string', default: '20' },
			batch: { type: 'string', default: '32' },
			replicas: { type: 'string', default: String(os.availableParallelism()) },
			cpu: { type: 'boolean', default: false },
			stock: { type: 'boolean', default: false },
			'skip-pytorch': { type: 'boolean', default: false },
			profile: { type: 'boolean', default: false },
			'by-shape': { type: 'boolean', default: false },
			'tiny-batch': { type: 'string', default: '128' }
		}
	});
	const seconds = Number(values.seconds);
	const batch = Number(values.batch);
	const replicas = Number(values.replicas);
	registerAllGradients();
	const stockInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
	registerWasmKernelPack();
	const packInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
	if (values.profile) {
		await profileReferenceStep(batch, 4, values['by-shape']);
		await profileTinyStep(Number(values['tiny-batch']), 4, values['by-shape']);
		return;
	}
	const load = os.loadavg()[0] ?? 0;
	console.log(
		`Training the reference net, batch ${batch}, 64×64×3, Adam; Node ${process.versions.node}, ` +
			`${os.availableParallelism()} cores, load average ${load.toFixed(1)}` +
			(load > os.availableParallelism() * 0.5 ? ' (busy machine: figures are noisy)' : '')
	);
	const single = await measure(await singleTrainer('wasm', batch), batch, seconds);
	report('wasm x1 (kernel pack)', single);
	let parallel: Measurement | null = null;
	if (replicas > 1) {
		parallel = await measure(await replicatedTrainer(replicas, batch), batch, seconds);
		report(`wasm x${replicas} (replica threads)`, parallel);
	}
	let pytorch: PytorchFigures | null = null;
	if (!values['skip-pytorch']) {
		const found = findPytorch();
		if ('python' in found) {
			pytorch = measurePytorch(found.python, batch, seconds);
			console.log(
				`${`PyTorch ${pytorch.torch}, 1 thread`.padEnd(40)} ${pytorch.imagesPerSecond.toFixed(1).padStart(8)} img/s` +
					` (${pytorch.imagesPerCpuSecond.toFixed(1)} per CPU second)  (${pytorch.steps} steps, loss ${pytorch.finalLoss.toFixed(4)})`
			);
		} else {
			console.log(`${'PyTorch'.padEnd(40)} not available (no torch in ${found.tried.join(', ')})`);
		}
	}
	if (values.stock && stockInput && packInput) {
		// Swaps only the input gradient back, so the comparison isolates that kernel.
		tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
		tf.registerKernel(stockInput);
		report(
			'wasm x1, stock Conv2DBackpropInput',
			await measure(await singleTrainer('wasm', batch), batch, seconds)
		);
		tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
		tf.registerKernel(packInput);
	}
	if (values.cpu) {
		report(
			'cpu (tfjs-backend-cpu)',
			await measure(await singleTrainer('cpu', batch), batch, 0, false)
		);
	}
	console.log('Ratios:');
	if (parallel) {
		console.log(
			`  wasm x${replicas} / wasm x1, wall time     ${(parallel.imagesPerSecond / single.imagesPerSecond).toFixed(2)}` +
				(replicas === 2 ? '   (target on 2 cores: ≥ 1.7)' : '')
		);
	}
	if (pytorch) {
		console.log(
			`  wasm x1 / PyTorch, per CPU second ${(single.imagesPerCpuSecond / pytorch.imagesPerCpuSecond).toFixed(2)}   (target: ≥ 0.33)`
		);
		console.log(
			`  wasm x1 / PyTorch, wall time      ${(single.imagesPerSecond / pytorch.imagesPerSecond).toFixed(2)}`
		);
	}
}

if (isMainThread) {
	main().catch((error: unknown) => {
		console.error(error);
		process.exit(1);
	});
} else {
	serveReferenceReplica();
}
