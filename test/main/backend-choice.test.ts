/**
 * `auto` among several backends (BackendMonitor.choose): the fastest by a measured probe of the
 * run's model, cached per machine and model, never a software adapter, and a faster TensorFlow
 * GPU build is kept. The probe worker is a scripted stand-in behind the real WorkerClient
 * protocol, reporting the probes and speeds a GPU machine would; the real `speed` task is
 * measured in test/integration/probes.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type {
	BackendId,
	BackendProbe,
	BackendSpeed,
	GpuAdapter
} from '../../src/core/compute/backends';
import { BackendMonitor } from '../../src/main/compute/backend-monitor';
import { SpeedCache, speedCacheFile } from '../../src/main/compute/speed-cache';
import { EventBus } from '../../src/main/events';
import { WorkerFactory, type WorkerChannel } from '../../src/main/workers/host';
import { scriptedLauncher } from '../support/scripted-worker';
import { temporaryFolder } from '../support/paths';

const adapter = (software: boolean): GpuAdapter => ({
	vendor: software ? 'mesa' : 'amd',
	architecture: software ? 'software' : 'rdna-3',
	device: '',
	description: software ? 'llvmpipe' : 'AMD Radeon RX 7600',
	fallback: software,
	software,
	limits: {
		maxBufferSize: 2 ** 31,
		maxStorageBufferBindingSize: 2 ** 31,
		maxComputeWorkgroupStorageSize: 32768,
		maxComputeInvocationsPerWorkgroup: 1024,
		maxComputeWorkgroupsPerDimension: 65535
	}
});

const probe = (id: BackendId, available: boolean, gpu: GpuAdapter | null = null): BackendProbe => ({
	id,
	available,
	detail: available ? 'ready' : 'not installed',
	version: available ? '4.22.0' : null,
	probeMs: available ? 5 : null,
	adapter: gpu
});

/** A machine as the probe worker reports it: its probes and each backend's measured speed. */
function machine(probes: BackendProbe[], speeds: Partial<Record<BackendId, number>>) {
	const measured: string[] = [];
	const launcher = scriptedLauncher((message, reply) => {
		if (message.task === 'backends') {
			reply({ kind: 'done', id: message.id, result: { ok: true, value: probes } });
			return;
		}
		const request = message.input as { backend: BackendId; model: string; batch: number };
		measured.push(`${request.backend}/${request.model}/${request.batch}`);
		const figure = speeds[request.backend];
		reply({
			kind: 'done',
			id: message.id,
			result:
				figure === undefined
					? { ok: false, error: { code: 'BACKEND_UNAVAILABLE', message: 'did not start' } }
					: {
							ok: true,
							value: { backend: request.backend, imagesPerSecond: figure } satisfies BackendSpeed
						}
		});
	});
	return { launcher, measured };
}

function monitor(launcher: () => WorkerChannel, cacheDir: string): BackendMonitor {
	return new BackendMonitor(
		new WorkerFactory(launcher, '/no/workers'),
		() => 'auto',
		new EventBus(),
		SpeedCache.in(cacheDir)
	);
}

describe('auto among several backends', () => {
	it('measures each candidate on the run model once, takes the fastest and caches it', async () => {
		const cache = temporaryFolder();
		const gpu = machine(
			[
				probe('tfjs-node-gpu', false),
				probe('webgpu', true, adapter(false)),
				probe('tfjs-node', false),
				probe('wasm', true),
				probe('cpu', true)
			],
			{ webgpu: 420, wasm: 55 }
		);
		const messages: string[] = [];
		const first = await monitor(gpu.launcher, cache.path).choose('auto', 'small', 64, (message) =>
			messages.push(message)
		);
		expect(first).toEqual({
			backend: 'webgpu',
			reason: 'webgpu measured fastest on small: webgpu 420 img/s, wasm 55.0 img/s.'
		});
		expect(gpu.measured).toEqual(['webgpu/small/32', 'wasm/small/32']);
		expect(messages[0]).toMatch(/^Measuring webgpu on small to pick the fastest backend/);
		// Another app start on the same machine: the cache answers, nothing is measured again.
		const again = await monitor(gpu.launcher, cache.path).choose('auto', 'small', 256);
		expect(again.backend).toBe('webgpu');
		expect(gpu.measured).toHaveLength(2);
		// Another model is measured for itself.
		await monitor(gpu.launcher, cache.path).choose('auto', 'tiny', 8);
		expect(gpu.measured.slice(2)).toEqual(['webgpu/tiny/8', 'wasm/tiny/8']);
		expect(fs.existsSync(path.join(cache.path, speedCacheFile))).toBe(true);
		cache.remove();
	});

	it('keeps a faster TensorFlow CUDA build ahead of a slower adapter', async () => {
		const cache = temporaryFolder();
		const cuda = machine(
			[
				probe('tfjs-node-gpu', true),
				probe('webgpu', true, adapter(false)),
				probe('tfjs-node', false),
				probe('wasm', true),
				probe('cpu', true)
			],
			{ 'tfjs-node-gpu': 900, webgpu: 310, wasm: 1 }
		);
		const choice = await monitor(cuda.launcher, cache.path).choose('auto', 'alexnet', 256);
		expect(choice.backend).toBe('tfjs-node-gpu');
		cache.remove();
	});

	it('measures nothing with one candidate: a software adapter is never one', async () => {
		const cache = temporaryFolder();
		const lavapipe = machine(
			[
				probe('tfjs-node-gpu', false),
				probe('webgpu', true, adapter(true)),
				probe('tfjs-node', false),
				probe('wasm', true),
				probe('cpu', true)
			],
			{ webgpu: 2, wasm: 50 }
		);
		const choice = await monitor(lavapipe.launcher, cache.path).choose('auto', 'tiny', 64);
		expect(choice).toEqual({ backend: 'auto', reason: null });
		expect(lavapipe.measured).toEqual([]);
		// A named preference is passed through untouched.
		expect(await monitor(lavapipe.launcher, cache.path).choose('webgpu', 'tiny', 64)).toEqual({
			backend: 'webgpu',
			reason: null
		});
		cache.remove();
	});

	it('passes over a candidate whose measurement failed', async () => {
		const cache = temporaryFolder();
		const flaky = machine(
			[
				probe('tfjs-node-gpu', false),
				probe('webgpu', true, adapter(false)),
				probe('tfjs-node', false),
				probe('wasm', true),
				probe('cpu', true)
			],
			{ wasm: 40 }
		);
		const choice = await monitor(flaky.launcher, cache.path).choose('auto', 'tiny', 64);
		expect(choice.backend).toBe('wasm');
		expect(choice.reason).toBe(
			'wasm is the only backend that could be measured on tiny (wasm 40.0 img/s).'
		);
		cache.remove();
	});
});
