import { describe, expect, it } from 'vitest';
import {
	autoCandidates,
	chooseFastest,
	describeAdapter,
	selectBackend,
	type BackendId,
	type BackendProbe,
	type GpuAdapter
} from '../../src/core/compute/backends';

const probe = (id: BackendId, available: boolean): BackendProbe => ({
	id,
	available,
	detail: available ? 'ready' : `${id} missing`,
	version: available ? '4.22.0' : null,
	probeMs: available ? 10 : null,
	adapter: null
});

const adapter = (software: boolean): GpuAdapter => ({
	vendor: software ? 'mesa' : 'nvidia',
	architecture: software ? 'software' : 'ada',
	device: software ? 'llvmpipe' : 'rtx-4090',
	description: software ? 'llvmpipe: Mesa 25.0.7' : 'NVIDIA GeForce RTX 4090',
	fallback: software,
	software,
	limits: {
		maxBufferSize: 2 ** 32 - 1,
		maxStorageBufferBindingSize: 2 ** 27,
		maxComputeWorkgroupStorageSize: 32768,
		maxComputeInvocationsPerWorkgroup: 1024,
		maxComputeWorkgroupsPerDimension: 65535
	}
});

const webgpu = (software: boolean): BackendProbe => ({
	...probe('webgpu', true),
	adapter: adapter(software)
});

const offline = [
	probe('tfjs-node-gpu', false),
	probe('webgpu', false),
	probe('tfjs-node', false),
	probe('wasm', true),
	probe('cpu', true)
];

describe('selectBackend', () => {
	it('picks the best available backend automatically and names the unavailable better ones', () => {
		const selection = selectBackend('auto', offline);
		expect(selection.active).toBe('wasm');
		expect(selection.reason).toContain('tfjs-node-gpu, webgpu, tfjs-node unavailable');
	});

	it('prefers the GPU build when it loads', () => {
		const withGpu = [probe('tfjs-node-gpu', true), ...offline.slice(1)];
		expect(selectBackend('auto', withGpu).active).toBe('tfjs-node-gpu');
	});

	it('honours an available preference even when a better backend exists', () => {
		expect(selectBackend('cpu', offline)).toMatchObject({ active: 'cpu', preference: 'cpu' });
	});

	it('falls back from an unavailable preference and says why', () => {
		const selection = selectBackend('tfjs-node-gpu', offline);
		expect(selection.active).toBe('wasm');
		expect(selection.reason).toContain('tfjs-node-gpu missing');
		expect(selection.reason).toContain('using wasm instead');
	});

	it('reports no backend when nothing loads', () => {
		const none = offline.map((entry) => ({ ...entry, available: false }));
		expect(selectBackend('auto', none).active).toBeNull();
		expect(selectBackend('wasm', none).active).toBeNull();
		expect(selectBackend('wasm', none).reason).toContain('no other backend works');
	});

	it('never chooses a software WebGPU adapter by itself, and says how to use it', () => {
		const lavapipe = offline.map((entry) => (entry.id === 'webgpu' ? webgpu(true) : entry));
		const selection = selectBackend('auto', lavapipe);
		expect(selection.active).toBe('wasm');
		expect(selection.reason).toMatch(/webgpu's adapter is software \(llvmpipe.*choose webgpu/);
		expect(autoCandidates(lavapipe)).toEqual(['wasm']);
		// Chosen in Settings, it is used.
		expect(selectBackend('webgpu', lavapipe)).toMatchObject({ active: 'webgpu' });
	});

	it('takes a hardware adapter before wasm and says each run measures the candidates', () => {
		const gpu = offline.map((entry) => (entry.id === 'webgpu' ? webgpu(false) : entry));
		const selection = selectBackend('auto', gpu);
		expect(selection.active).toBe('webgpu');
		expect(selection.reason).toContain('measures webgpu and wasm');
		expect(autoCandidates(gpu)).toEqual(['webgpu', 'wasm']);
	});
});

describe('chooseFastest', () => {
	it('keeps a faster TensorFlow GPU build ahead of a slower adapter, figures side by side', () => {
		const choice = chooseFastest('alexnet', [
			{ backend: 'tfjs-node-gpu', imagesPerSecond: 900 },
			{ backend: 'webgpu', imagesPerSecond: 310 },
			{ backend: 'wasm', imagesPerSecond: 1.1 }
		]);
		expect(choice?.backend).toBe('tfjs-node-gpu');
		expect(choice?.reason).toBe(
			'tfjs-node-gpu measured fastest on alexnet: tfjs-node-gpu 900 img/s, webgpu 310 img/s, wasm 1.10 img/s.'
		);
	});

	it('takes a GPU adapter that beats wasm, and passes over failed measurements', () => {
		const choice = chooseFastest('tiny', [
			{ backend: 'webgpu', imagesPerSecond: 240 },
			{ backend: 'tfjs-node', imagesPerSecond: 0 },
			{ backend: 'wasm', imagesPerSecond: 55 }
		]);
		expect(choice?.backend).toBe('webgpu');
		expect(chooseFastest('tiny', [{ backend: 'webgpu', imagesPerSecond: 0 }])).toBeNull();
	});
});

describe('describeAdapter', () => {
	it('names the adapter and whether it is software', () => {
		expect(describeAdapter(adapter(true))).toBe('llvmpipe: Mesa 25.0.7 (software, mesa)');
		expect(describeAdapter(adapter(false))).toBe('NVIDIA GeForce RTX 4090 (ada, nvidia)');
	});
});
