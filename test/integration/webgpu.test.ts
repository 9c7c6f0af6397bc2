/**
 * The `webgpu` backend end to end, on whatever adapter Dawn finds (lavapipe in CI): `doctor`
 * lists it with its adapter, a `tiny` run trains on it from the CLI and its checkpoint
 * evaluates and explains on wasm, a batch the adapter cannot bind is refused with the largest
 * that fits, and a lost device ends a session promptly with GPU_DEVICE_LOST, leaving a
 * checkpoint the run resumes from. Skipped, saying why, where no adapter exists.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { doctorReportSchema } from '../../src/core/api/contract';
import { runRecordSchema } from '../../src/core/api/training';
import type { GpuAdapter } from '../../src/core/compute/backends';
import { trainConfigSchema } from '../../src/core/training/config';
import { createAppContext } from '../../src/main/app-context';
import { releaseDawn, requestAdapter, watchedWebGpuDevice } from '../../src/main/compute/webgpu';
import { readCheckpoint } from '../../src/main/training/checkpoint-files';
import { runTraining, type TrainEvent } from '../../src/main/training/train-loop';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { noiselabCli } from '../support/cli';
import { distDir, temporaryFolder } from '../support/paths';

let adapter: GpuAdapter | null = null;
try {
	adapter = await requestAdapter();
} catch {
	adapter = null;
}
if (!adapter) {
	console.log(
		'webgpu integration tests skipped: Dawn found no WebGPU adapter (no Vulkan, Metal or D3D12 device). On Debian, install bookworm-backports’ mesa-vulkan-drivers (lavapipe) as .ci/run does.'
	);
}

afterAll(() => {
	releaseDawn();
});

describe.skipIf(!adapter)('webgpu end to end', () => {
	const home = temporaryFolder();
	afterAll(() => home.remove());
	const cli = noiselabCli(home.path, 300_000);
	const tinyRun = [
		...['--preset', 'dead_leaves-squares', '--size', '64', '--count', '64'],
		...['--model', 'tiny', '--batch', '4', '--backend', 'webgpu']
	];

	it('doctor lists webgpu with its adapter', () => {
		const json = cli('doctor', '--json');
		expect(json.status, json.stderr).toBe(0);
		const report = doctorReportSchema.parse(JSON.parse(json.stdout));
		const webgpu = report.backends.find((probe) => probe.id === 'webgpu');
		expect(webgpu).toMatchObject({
			available: true,
			adapter: { description: adapter?.description }
		});
		if (adapter?.software) {
			// A software adapter works but is never chosen automatically.
			expect(report.selection.active).not.toBe('webgpu');
			expect(report.selection.reason).toMatch(/webgpu's adapter is software/);
		}
		const text = cli('doctor');
		expect(text.stdout).toMatch(/✓ webgpu\s+ready on /);
		expect(text.stdout).toContain(`adapter: ${adapter?.description}`);
		expect(text.stdout).toMatch(/largest buffer \d+ MiB, largest binding \d+ MiB/);
	});

	it(
		'trains tiny on --backend webgpu from the CLI; its checkpoint evaluates and explains on wasm',
		{ timeout: 600_000 },
		async () => {
			const trained = cli('train', ...tinyRun, '--steps', '3', '--name', 'on-webgpu', '--json');
			expect(trained.stderr).toContain('completed at step 3/3');
			expect(trained.status).toBe(0);
			const record = runRecordSchema.parse(JSON.parse(trained.stdout));
			expect(record).toMatchObject({ backend: 'webgpu', step: 3 });
			expect(record.adapter?.description).toBe(adapter?.description);

			const context = createAppContext({
				dataDir: { path: home.path, source: 'NOISELAB_HOME' },
				launcher: forkNodeWorker,
				workersDir: path.join(distDir, 'workers'),
				pathAccess: 'any'
			});
			try {
				await context.dispatch('settings.update', { backend: 'wasm' });
			} finally {
				context.close();
			}
			const evaluated = cli(
				...['eval', '--run', String(record.id), '--dataset', 'structured:position-x'],
				...['--protocol', 'knn', '--max-train', '200', '--no-random-init']
			);
			expect(evaluated.stderr).toMatch(/encoder\s+run \d+\s+top-1 \d+\.\d%/);
			expect(evaluated.status).toBe(0);
			const out = path.join(home.path, 'grid.png');
			const explained = cli(
				...['explain', '--runs', String(record.id), '--dataset', 'structured:position-x'],
				...['--index', '1', '--out', out]
			);
			expect(explained.stderr).toContain('Wrote');
			expect(explained.status).toBe(0);
		}
	);

	it('refuses a batch the adapter cannot bind, naming the largest batch that fits', () => {
		// tiny's conv1 output is 2 · 32 · 32 · 24 floats per pair: 683 pairs pass 128 MiB.
		const perPair = 2 * 32 * 32 * 24 * 4;
		const limit = Math.min(
			adapter?.limits.maxStorageBufferBindingSize ?? 0,
			adapter?.limits.maxBufferSize ?? 0
		);
		const fits = Math.floor(limit / perPair);
		const tooBig = cli('train', ...tinyRun, '--steps', '1', '--batch', String(fits + 1));
		expect(tooBig.status).toBe(1);
		expect(tooBig.stderr).toContain(
			`A training step of tiny at batch ${fits + 1} needs GPU buffers larger than`
		);
		expect(tooBig.stderr).toContain(`The largest batch of tiny that fits is ${fits}`);
	});
});

describe.skipIf(!adapter)('a lost GPU device', () => {
	const home = temporaryFolder();
	afterAll(() => home.remove());

	it(
		'ends the session at once with GPU_DEVICE_LOST; the run resumes from its checkpoint',
		{ timeout: 600_000 },
		async () => {
			const config = trainConfigSchema.parse({
				source: {
					kind: 'generator',
					config: { preset: 'dead_leaves-squares', size: 64 },
					count: 64
				},
				model: 'tiny',
				steps: 6,
				batch: 4,
				checkpointEvery: 2
			});
			const job = {
				runId: 1,
				config,
				folder: home.path,
				resumeFrom: null,
				startSeconds: 0,
				threadFiles: {
					data: path.join(distDir, 'workers', 'train-data-thread.cjs'),
					replica: path.join(distDir, 'workers', 'train-replica.cjs')
				},
				dataThreads: 1,
				replicas: 1,
				appVersion: 'test'
			};
			const events: TrainEvent[] = [];
			const lostSession = runTraining(
				{ ...job, backend: 'webgpu' },
				{
					signal: new AbortController().signal,
					emit: (event) => {
						events.push(event);
						// The driver resets right after the step-2 checkpoint.
						if (event.kind === 'checkpoint') watchedWebGpuDevice()?.destroy();
					}
				}
			);
			const failure = await lostSession.then(
				() => null,
				(error: unknown) => error
			);
			expect(failure).toBeInstanceOf(AppFailure);
			expect((failure as AppFailure).code).toBe('GPU_DEVICE_LOST');
			expect((failure as AppFailure).message).toMatch(/The GPU device was lost \(destroyed/);
			const checkpoint = events.flatMap((event) =>
				event.kind === 'checkpoint' ? [event.checkpoint] : []
			)[0];
			expect(checkpoint?.step).toBe(2);
			// A fresh session (a new worker in the app) continues from it; here on wasm, as this
			// process's device is gone.
			readCheckpoint(checkpoint?.path ?? '', checkpoint?.sha256);
			const resumed = await runTraining(
				{
					...job,
					backend: 'wasm',
					resumeFrom: {
						path: checkpoint?.path ?? '',
						sha256: checkpoint?.sha256 ?? '',
						step: 2
					}
				},
				{ signal: new AbortController().signal, emit: () => undefined }
			);
			expect(resumed).toEqual({ step: 6, outcome: 'completed', message: null });
		}
	);
});
