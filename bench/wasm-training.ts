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
 * Options: --seconds 20 (cap per measurement; one step always completes), --batch 32,
 * --skip-stock, --cpu (also the cpu backend: one step, no warm-up; at batch 32 it takes minutes).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerAllGradients } from '../src/main/compute/kernels/register-gradients';
import { registerWasmConvBackprop } from '../src/main/compute/kernels/wasm-conv-backprop';

interface ConvLayer {
	filter: tf.Variable;
	bias: tf.Variable;
	stride: number;
}

interface Network {
	convs: ConvLayer[];
	denseWeights: tf.Variable;
	denseBias: tf.Variable;
	variables: tf.Variable[];
}

/** He-normal weights from a fixed seed, so every backend trains the same network. */
function buildNetwork(): Network {
	let seed = 1;
	const heNormal = (shape: number[], fanIn: number) =>
		tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed++), Math.sqrt(2 / fanIn)));
	const specs: [number, number, number, number][] = [
		// [filter size, in channels, out channels, stride]
		[5, 3, 64, 2],
		[3, 64, 128, 1],
		[3, 128, 192, 1],
		[3, 192, 192, 1],
		[3, 192, 128, 1]
	];
	const convs = specs.map(([size, inChannels, outChannels, stride]) => ({
		filter: heNormal([size, size, inChannels, outChannels], size * size * inChannels),
		bias: tf.variable(tf.zeros([outChannels])),
		stride
	}));
	const denseWeights = heNormal([128, 128], 128);
	const denseBias = tf.variable(tf.zeros([128]));
	return {
		convs,
		denseWeights,
		denseBias,
		variables: [...convs.flatMap((conv) => [conv.filter, conv.bias]), denseWeights, denseBias]
	};
}

function forward(network: Network, images: tf.Tensor4D): tf.Tensor2D {
	let x: tf.Tensor4D = images;
	for (const [index, conv] of network.convs.entries()) {
		x = tf.relu(tf.add(tf.conv2d(x, conv.filter as tf.Tensor4D, conv.stride, 'same'), conv.bias));
		// Max pools after the first two convolutions.
		if (index < 2) x = tf.maxPool(x, 3, 2, 'same');
	}
	const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
	return tf.add(tf.matMul(pooled, network.denseWeights as tf.Tensor2D), network.denseBias);
}

interface Measurement {
	imagesPerSecond: number;
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
	while (steps < 1 || (performance.now() - started) / 1000 + firstStepSeconds < seconds) {
		finalLoss = step();
		steps++;
	}
	const elapsed = (performance.now() - started) / 1000;
	optimizer.dispose();
	images.dispose();
	for (const variable of network.variables) variable.dispose();
	return { imagesPerSecond: (steps * batch) / elapsed, steps, firstStepSeconds, finalLoss };
}

function report(label: string, result: Measurement): void {
	console.log(
		`${label.padEnd(44)} ${result.imagesPerSecond.toFixed(1).padStart(8)} img/s` +
			`  (${result.steps} steps, warm-up step ${result.firstStepSeconds.toFixed(2)} s, loss ${result.finalLoss.toFixed(4)})`
	);
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			seconds: { type: 'string', default: '20' },
			batch: { type: 'string', default: '32' },
			cpu: { type: 'boolean', default: false },
			'skip-stock': { type: 'boolean', default: false }
		}
	});
	const seconds = Number(values.seconds);
	const batch = Number(values.batch);
	registerAllGradients();
	const stockInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
	registerWasmConvBackprop();
	const packInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
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
