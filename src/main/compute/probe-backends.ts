import { createRequire } from 'node:module';
import type * as TfjsCore from '@tensorflow/tfjs-core';
import {
	backendIds,
	describeAdapter,
	type BackendId,
	type BackendProbe,
	type GpuAdapter
} from '../../core/compute/backends';
import { installTfjsNodeShim } from './tfjs-node-shim';
import { noAdapterAdvice, requestAdapter, webgpuBackendPackage } from './webgpu';

type Tfjs = typeof TfjsCore;

// Backends load lazily, one at a time, so that a missing or broken one is a report, not a crash.
const load = createRequire(__filename);

/** The npm package that provides each backend. */
const packages: Record<BackendId, string> = {
	'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
	'tfjs-node': '@tensorflow/tfjs-node',
	webgpu: webgpuBackendPackage,
	wasm: '@tensorflow/tfjs-backend-wasm',
	cpu: '@tensorflow/tfjs-backend-cpu'
};

const whyTensorflowMissing: Record<'tfjs-node-gpu' | 'tfjs-node', string> = {
	'tfjs-node-gpu':
		'not installed: @tensorflow/tfjs-node-gpu is an optional dependency whose install downloads libtensorflow (and needs CUDA 11.2 + cuDNN 8.1 on Linux); npm skips it when the download fails, e.g. offline. See README › Compute backends.',
	'tfjs-node':
		'not installed: @tensorflow/tfjs-node is an optional dependency whose install downloads libtensorflow; npm skips it when the download fails, e.g. offline. See README › Compute backends.'
};

/**
 * Tries each backend in this process: loads its package, makes it active and checks a 2x2
 * matmul. Runs in a worker so that a native library that crashes on load cannot take down the
 * app. Only one TensorFlow build can be loaded per process; the second is reported as such.
 */
export async function probeBackends(
	only: readonly BackendId[] = backendIds,
	onProbe?: (probe: BackendProbe, index: number) => void
): Promise<BackendProbe[]> {
	const tf = load('@tensorflow/tfjs-core') as Tfjs;
	const probes: BackendProbe[] = [];
	let tensorflowLoadedBy: BackendId | null = null;
	for (const [index, id] of only.entries()) {
		const probe = await probeOne(tf, id, tensorflowLoadedBy);
		if (probe.available && (id === 'tfjs-node-gpu' || id === 'tfjs-node')) tensorflowLoadedBy = id;
		probes.push(probe);
		onProbe?.(probe, index);
	}
	return probes;
}

async function probeOne(
	tf: Tfjs,
	id: BackendId,
	tensorflowLoadedBy: BackendId | null
): Promise<BackendProbe> {
	let adapter: GpuAdapter | null = null;
	const unavailable = (detail: string): BackendProbe => ({
		id,
		available: false,
		detail,
		version: null,
		probeMs: null,
		adapter
	});
	const started = performance.now();
	let version: string | null;
	let tfBackendName: string;
	try {
		if (id === 'tfjs-node-gpu' || id === 'tfjs-node') {
			if (!isInstalled(packages[id])) return unavailable(whyTensorflowMissing[id]);
			if (tensorflowLoadedBy) {
				return unavailable(
					`installed, but ${tensorflowLoadedBy} already provides TensorFlow in this process; only one TensorFlow build loads at a time.`
				);
			}
			installTfjsNodeShim();
			const tfnode = load(packages[id]) as { version?: Record<string, string> };
			version = tfnode.version?.['tfjs-node'] ?? null;
			tfBackendName = 'tensorflow';
		} else if (id === 'webgpu') {
			adapter = await requestAdapter();
			if (!adapter) return unavailable(`no WebGPU adapter: ${noAdapterAdvice()}`);
			load(packages.webgpu);
			version = (load(`${packages.webgpu}/package.json`) as { version: string }).version;
			tfBackendName = 'webgpu';
		} else if (id === 'wasm') {
			load(packages.wasm);
			version = (load(`${packages.wasm}/package.json`) as { version: string }).version;
			tfBackendName = 'wasm';
		} else {
			load(packages.cpu);
			version = (load(`${packages.cpu}/package.json`) as { version: string }).version;
			tfBackendName = 'cpu';
		}
		if (!(await tf.setBackend(tfBackendName))) {
			return unavailable(`${packages[id]} loaded but its backend failed to initialise.`);
		}
		await tf.ready();
		const product = tf.tidy(() =>
			tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]))
		);
		const values = Array.from(await product.data());
		product.dispose();
		if (values.join(',') !== '19,22,43,50') {
			return unavailable(
				`loaded, but a 2x2 matmul gave [${values.join(', ')}] instead of [19, 22, 43, 50].`
			);
		}
		return {
			id,
			available: true,
			detail: await describe(tf, id, adapter),
			version,
			probeMs: Math.round(performance.now() - started),
			adapter
		};
	} catch (error) {
		return unavailable(`failed to load: ${firstLine((error as Error).message)}`);
	}
}

async function describe(tf: Tfjs, id: BackendId, adapter: GpuAdapter | null): Promise<string> {
	if (id === 'webgpu' && adapter) {
		return adapter.software
			? `ready on a software adapter (a CPU rasteriser, slower than wasm): used only when chosen`
			: `ready on ${describeAdapter(adapter)}`;
	}
	if (id === 'wasm') {
		const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
		const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
		return `ready (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'})`;
	}
	if (id === 'tfjs-node-gpu') return 'ready (CUDA build; GPU memory grows on demand)';
	if (id === 'cpu') return 'ready (reference only: a 64 px training step takes minutes)';
	return 'ready';
}

function isInstalled(name: string): boolean {
	try {
		load.resolve(name);
		return true;
	} catch {
		return false;
	}
}

function firstLine(text: string): string {
	return text.split('\n')[0] ?? text;
}
