/**
 * `npm run bench:explain`: milliseconds per Grad-CAM map (gradcam and gradcam++) of the `tiny`
 * and `alexnet` encoders on the tfjs wasm backend with the project's kernel pack, the way the
 * Explain view computes them: one image, a probe logit at fc7 as the target, the map at conv5.
 *
 * Weights are random (the cost does not depend on them). Each case runs `--warmup` maps first
 * (wasm compiles and allocates on the first calls) and then reports the median of `--repeats`.
 *
 * Options: --repeats 5, --warmup 1, --presets tiny,alexnet.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { computeCam, type CamMethod } from '../src/core/explain/gradcam';
import type { LinearProbe } from '../src/core/evaluation/linear-probe';
import { Random } from '../src/core/generators/random';
import { modelPresetIds, type ModelPresetId } from '../src/core/training/config';
import { modelPresets, SmallAlexNet } from '../src/core/training/model';
import { registerWasmKernelPack } from '../src/main/compute/kernels';
import { registerAllGradients } from '../src/main/compute/kernels/register-gradients';

const { values } = parseArgs({
	options: {
		repeats: { type: 'string', default: '5' },
		warmup: { type: 'string', default: '1' },
		presets: { type: 'string', default: 'tiny,alexnet' }
	}
});
const repeats = Math.max(1, Number(values.repeats));
const warmup = Math.max(0, Number(values.warmup));
const presets = values.presets.split(',').map((name) => {
	if (!(modelPresetIds as readonly string[]).includes(name)) {
		throw new Error(`unknown preset '${name}'; use ${modelPresetIds.join(', ')}`);
	}
	return name as ModelPresetId;
});

function normals(count: number, random: Random, scale = 1): Float32Array {
	return Float32Array.from({ length: count }, () => random.normal() * scale);
}

function median(samples: number[]): number {
	const sorted = [...samples].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1
		? (sorted[middle] as number)
		: ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function main(): Promise<void> {
	registerAllGradients();
	registerWasmKernelPack();
	if (!(await tf.setBackend('wasm'))) throw new Error('The wasm backend did not start.');
	console.log(`backend ${tf.getBackend()}, median of ${repeats} after ${warmup} warm-up`);
	for (const preset of presets) {
		const spec = modelPresets[preset];
		const encoder = SmallAlexNet.create(spec, 1);
		const random = new Random(2);
		const classes = 10;
		const probe: LinearProbe = {
			dim: spec.fcWidth,
			classes,
			weight: normals(spec.fcWidth * classes, random, 0.05),
			bias: new Float32Array(classes),
			lossHistory: []
		};
		const image = normals(spec.inputSize * spec.inputSize * 3, random);
		for (const method of ['gradcam', 'gradcam++'] as CamMethod[]) {
			const options = {
				method,
				layer: 'conv5' as const,
				target: { kind: 'class' as const, probe, probeLayer: 'fc7' as const, classIndex: 3 }
			};
			for (let i = 0; i < warmup; i++) computeCam(encoder, image, options);
			const samples: number[] = [];
			for (let i = 0; i < repeats; i++) {
				const start = performance.now();
				computeCam(encoder, image, options);
				samples.push(performance.now() - start);
			}
			console.log(
				`${preset.padEnd(8)} ${method.padEnd(10)} ${median(samples).toFixed(1).padStart(8)} ms/map` +
					`  (min ${Math.min(...samples).toFixed(1)}, max ${Math.max(...samples).toFixed(1)})`
			);
		}
		encoder.dispose();
	}
	console.log(`tensors left: ${tf.memory().numTensors}`);
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
