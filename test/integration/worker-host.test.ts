import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerFactory, type WorkerClient } from '../../src/main/workers/host';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import type { ProbeTasks } from '../../src/main/workers/entries/probe';
import type { TestTasks } from '../fixtures/workers/test-worker';
import { distDir, fixtureWorkersDir } from '../support/paths';

const factory = new WorkerFactory(forkNodeWorker, fixtureWorkersDir);

describe('the worker host (child_process.fork)', () => {
	let worker: WorkerClient<TestTasks>;
	afterEach(() => worker.stop());

	it('runs a task in another process and returns its result, typed arrays included', async () => {
		worker = factory.start<TestTasks>('test-worker');
		const result = await worker.run('echo', { text: 'hello', bytes: new Uint8Array(1024) });
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.value.text).toBe('hello');
		expect(result.value.bytes).toBe(1024);
		expect(result.value.pid).not.toBe(process.pid);
	});

	it('streams progress events in order', async () => {
		worker = factory.start<TestTasks>('test-worker');
		const seen: number[] = [];
		const result = await worker.run(
			'count',
			{ to: 5, everyMs: 5 },
			{ onProgress: ({ done }) => seen.push(done) }
		);
		expect(result).toEqual({ ok: true, value: 5 });
		expect(seen).toEqual([1, 2, 3, 4, 5]);
	});

	it('cancels a running task and keeps the worker usable', async () => {
		worker = factory.start<TestTasks>('test-worker');
		const controller = new AbortController();
		const seen: number[] = [];
		const result = await worker.run(
			'count',
			{ to: 1000, everyMs: 10 },
			{
				signal: controller.signal,
				onProgress: ({ done }) => {
					seen.push(done);
					if (done === 3) controller.abort();
				}
			}
		);
		expect(result.ok || result.error.code).toBe('CANCELLED');
		expect(seen.length).toBeLessThan(20);
		expect(worker.alive).toBe(true);
		expect((await worker.run('echo', { text: 'still here' })).ok).toBe(true);
	});

	it('reports a task that throws as an error without killing the worker', async () => {
		worker = factory.start<TestTasks>('test-worker');
		const result = await worker.run('fail', { message: 'bad input' });
		expect(result.ok || result.error).toEqual({
			code: 'INTERNAL',
			message: 'Unexpected error: bad input'
		});
		expect(worker.alive).toBe(true);
	});

	it('turns a crash into WORKER_CRASHED with the exit code and last output, and notifies listeners', async () => {
		worker = factory.start<TestTasks>('test-worker');
		const crashes: string[] = [];
		worker.onCrash((error) => crashes.push(error.code));
		const pendingCount = worker.run('count', { to: 1000, everyMs: 10 });
		const result = await worker.run('crash', { code: 3, message: 'out of cheese' });
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.error.code).toBe('WORKER_CRASHED');
		expect(result.error.message).toContain('exited with code 3');
		expect(result.error.message).toContain('"crash"');
		expect(result.error.message).toContain('out of cheese');
		// The other task that was running fails the same way instead of hanging.
		expect((await pendingCount).ok || 'crashed').toBe('crashed');
		expect(crashes).toEqual(['WORKER_CRASHED']);
		expect(worker.alive).toBe(false);
		expect((await worker.run('echo', { text: 'x' })).ok).toBe(false);
		// This process carries on, and a new worker starts fine.
		const replacement = factory.start<TestTasks>('test-worker');
		expect((await replacement.run('echo', { text: 'again' })).ok).toBe(true);
		replacement.stop();
	});

	it('times out a task that takes too long', async () => {
		worker = factory.start<TestTasks>('test-worker');
		const result = await worker.run('count', { to: 1000, everyMs: 20 }, { timeoutMs: 200 });
		expect(result.ok || result.error.code).toBe('WORKER_TIMEOUT');
	});

	it('stopping a worker on purpose cancels its tasks and is not a crash', async () => {
		worker = factory.start<TestTasks>('test-worker');
		const crashes: string[] = [];
		worker.onCrash((error) => crashes.push(error.code));
		const running = worker.run('count', { to: 1000, everyMs: 10 });
		worker.stop();
		expect((await running).ok || 'cancelled').toBe('cancelled');
		// Once the exit is seen, a crash would have been reported (a fixed sleep could end first).
		await expect.poll(() => worker.alive, { timeout: 10_000 }).toBe(false);
		expect(crashes).toEqual([]);
	});
});

describe('the probe worker', () => {
	it('finds the wasm and cpu backends and reports the missing TensorFlow builds with a reason', async () => {
		const probe = new WorkerFactory(
			forkNodeWorker,
			path.join(distDir, 'workers')
		).start<ProbeTasks>('probe');
		const seen: string[] = [];
		const result = await probe.run('backends', {}, { onProgress: (entry) => seen.push(entry.id) });
		probe.stop();
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(seen).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);
		const byId = Object.fromEntries(result.value.map((entry) => [entry.id, entry]));
		expect(byId.wasm).toMatchObject({ available: true, version: '4.22.0' });
		expect(byId.cpu).toMatchObject({ available: true, version: '4.22.0' });
		for (const id of ['tfjs-node-gpu', 'tfjs-node']) {
			const entry = byId[id];
			// Where libtensorflow could be installed this machine has it; here it cannot be.
			if (entry?.available) continue;
			expect(entry?.detail).toMatch(/not installed|failed to load|already provides/);
		}
		// Where Dawn finds an adapter it is described, also when it is software (lavapipe in CI).
		if (byId.webgpu?.available) expect(byId.webgpu.adapter?.description).toBeTruthy();
		else expect(byId.webgpu?.detail).toMatch(/no WebGPU adapter|failed to load/);
	});

	it('measures a backend’s training speed on a model for auto (a few steps of tiny on wasm)', async () => {
		const probe = new WorkerFactory(
			forkNodeWorker,
			path.join(distDir, 'workers')
		).start<ProbeTasks>('probe');
		const result = await probe.run('speed', {
			backend: 'wasm',
			model: 'tiny',
			batch: 4,
			seconds: 1
		});
		probe.stop();
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.value.backend).toBe('wasm');
		expect(result.value.imagesPerSecond).toBeGreaterThan(0);
	});
});
