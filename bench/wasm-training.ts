/**
 * `node scripts/run-ts.mjs bench/wasm-training.ts`: training throughput (images/s) of the
 * reference conv net on the tfjs wasm backend with the kernel pack of
 * src/main/compute/kernels/, the same with wasm's stock Conv2DBackpropInput, and on the plain
 * cpu backend for reference.
 *
 * The network: 64×64×3 input, conv 64 5×5 stride 2, max pool 3/2, conv 128 3×3, max pool 3/2,
 * conv 192 3×3, conv 192 3×3, conv 128 3×3 (all 'same', with bias and ReLU), global average pool,
 * dense 128; Adam; loss = mean square of the output. Batch 32, one fixed random batch.
 *
 * Throughput is reported per second of wall time and per second of this process's CPU time; the
 * second is steadier on a machine other work shares (the wasm backend uses one thread).
 *
 * Options: --seconds 20 (cap per measurement; one step always completes), --batch 32,
 * --skip-stock, --cpu (also the cpu backend: one step, no warm-up; at batch 32 it takes minutes).
 * --profile instead prints per-kernel times of one step of the reference net and of the app's
 * `tiny` encoder (ContrastiveTrainer, --tiny-batch 128 pairs = 256 images), --by-shape splitting
 * them by input shapes.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { trainConfigSchema } from '../src/core/training/config';
import { ContrastiveTrainer } from '../src/core/training/trainer';
import { registerAllGradients } from '../src/main/compute/kernels/register-gradients';
import { registerWasmKernelPack } from '../src/main/compute/kernels';
import { buildNetwork, forward } from './reference-network';

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

async function measure(
	backend: string,
	batch: number,
	seconds: number,
	warmUp = true
): Promise<Measurement> {
	if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
	await tf.ready();
	const network = buildNetwork();
	const images = tf.randomUniform([batch, 64, 64, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
	const optimizer = tf.train.adam(1e-3);
	const step = (): number => {
		const loss = optimizer.minimize(
			() => tf.mean(tf.square(forward(network, images))),
			true,
			network.variables
		);
		const value = loss?.dataSync()[0] ?? Number.NaN;
		loss?.dispose();
		return value;
	};
	const cold = performance.now();
	let finalLoss = warmUp ? step() : Number.NaN;
	const firstStepSeconds = (performance.now() - cold) / 1000;
	let steps = 0;
	const started = performance.now();
	const cpuStarted = process.cpuUsage();
	while (steps < 1 || (performance.now() - started) / 1000 + firstStepSeconds < seconds) {
		finalLoss = step();
		steps++;
	}
	const elapsed = (performance.now() - started) / 1000;
	const cpuUsed = process.cpuUsage(cpuStarted);
	const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;
	optimizer.dispose();
	images.dispose();
	for (const variable of network.variables) variable.dispose();
	return {
		imagesPerSecond: (steps * batch) / elapsed,
		imagesPerCpuSecond: (steps * batch) / cpuSeconds,
		steps,
		firstStepSeconds,
		finalLoss
	};
}

function report(label: string, result: Measurement): void {
	console.log(
		`${label.padEnd(44)} ${result.imagesPerSecond.toFixed(1).padStart(8)} img/s` +
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
	const images = tf.randomUniform([batch, 64, 64, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
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
	for (const variable of network.variables) variable.dispose();
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			seconds: { type: 'string', default: '20' },
			batch: { type: 'string', default: '32' },
			cpu: { type: 'boolean', default: false },
			profile: { type: 'boolean', default: false },
			'by-shape': { type: 'boolean', default: false },
			'tiny-batch': { type: 'string', default: '128' },
			'skip-stock': { type: 'boolean', default: false }
		}
	});
	const seconds = Number(values.seconds);
	const batch = Number(values.batch);
	registerAllGradients();
	const stockInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
	registerWasmKernelPack();
	const packInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
	if (values.profile) {
		await profileReferenceStep(batch, 4, values['by-shape']);
		await profileTinyStep(
			values['tiny-batch'] === undefined ? 128 : Number(values['tiny-batch']),
			4,
			values['by-shape']
		);
		return;
	}
	console.log(
		`Training the reference net, batch ${batch}, 64×64×3, Adam; Node ${process.versions.node}`
	);
	report('wasm, kernel pack', await measure('wasm', batch, seconds));
	if (!values['skip-stock'] && stockInput && packInput) {
		// Swaps only the input gradient back, so the comparison isolates that kernel.
		tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
		tf.registerKernel(stockInput);
		report('wasm, stock Conv2DBackpropInput', await measure('wasm', batch, seconds));
		tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
		tf.registerKernel(packInput);
	}
	if (values.cpu) report('cpu (tfjs-backend-cpu)', await measure('cpu', batch, 0, false));
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
