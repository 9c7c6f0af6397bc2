import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src/core/api/contract';
import { trainConfigSchema, type TrainConfigInput } from '../../src/core/training/config';
import { createAppContext, type AppContext } from '../../src/main/app-context';
import type { WorkerLauncher } from '../../src/main/workers/host';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { failpointLauncher } from '../support/failpoints';
import { writeToyImageFolder } from '../support/image-folder';
import { distDir, temporaryFolder } from '../support/paths';
import { tinyGeneratorSource, tinyRunSettings } from '../support/train-runs';

/**
 * `runs.start` and `runs.resume` check everything that can refuse them before they change the
 * run; a failure after the change marks the run failed with the reason, never leaves it
 * "running" with nothing training it.
 */
describe('training requests are validated before they change a run', () => {
	const home = temporaryFolder();
	const images = temporaryFolder('noiselab-images-');
	let refuseToStartWorkers = false;
	const refusing: WorkerLauncher = (file, options) => {
		if (refuseToStartWorkers) {
			throw Object.assign(new Error('spawn EAGAIN'), { code: 'EAGAIN' });
		}
		return forkNodeWorker(file, options);
	};
	const failpoints = failpointLauncher(refusing);
	let context: AppContext;
	const events: ApiEvent[] = [];
	beforeAll(async () => {
		await writeToyImageFolder(images.path, { perClass: 4 });
		context = createAppContext({
			dataDir: { path: home.path, source: 'NOISELAB_HOME' },
			launcher: failpoints.launcher,
			workersDir: path.join(distDir, 'workers'),
			pathAccess: 'any',
			// As the app and `serve`: runs.start goes through the work queue, which runs it.
			workQueue: true
		});
		context.events.subscribe((event) => events.push(event));
	});
	afterAll(() => {
		context.close();
		home.remove();
		images.remove();
	});

	const start = (config: Record<string, unknown>) =>
		context.dispatch('runs.start', {
			name: 'request',
			config: { ...tinyRunSettings, steps: 20, ...config } as TrainConfigInput
		});
	const runs = () => context.training.list();

	it('runs.start with an unknown preset, a relative or a missing folder creates no run', async () => {
		const refusals = [
			[
				{ source: { ...tinyGeneratorSource, config: { preset: 'no-such-preset' } } },
				/no-such-preset/
			],
			[{ source: { kind: 'folder', path: 'images/train' } }, /must be an absolute path/],
			[
				{ source: { kind: 'folder', path: path.join(images.path, 'gone') } },
				/The image folder .*gone does not exist/
			],
			[{ source: { kind: 'dataset', dataset: 'mnist' } }, /Unknown dataset "mnist"/],
			[
				{ source: { kind: 'dataset', dataset: path.join(images.path, 'gone') } },
				/The dataset folder .*gone does not exist/
			],
			[
				{ source: { kind: 'dataset', dataset: 'structured:count-shapes' } },
				/generated for evaluation only/
			]
		] as const;
		for (const [config, message] of refusals) {
			const result = await start(config);
			expect(result.ok || result.error.code).toBe('INVALID_REQUEST');
			expect(result.ok || result.error.message).toMatch(message);
		}
		expect(runs()).toEqual([]);
		expect(fs.existsSync(path.join(home.path, 'runs'))).toBe(false);
	});

	it('runs.resume after the image folder or the run folder went leaves the run as it was', async () => {
		const started = failpoints.armed('train.hold-after-step=3', () =>
			context.training.start({
				name: 'folder-run',
				config: trainConfigSchema.parse({
					...tinyRunSettings,
					steps: 20,
					source: { kind: 'folder', path: images.path }
				})
			})
		);
		const progressed = () =>
			events.some(
				(event) =>
					event.name === 'runs.progress' &&
					event.payload.runId === started.id &&
					event.payload.step === 3
			);
		while (!progressed()) await new Promise((resolve) => setTimeout(resolve, 50));
		context.training.pause(started.id);
		await context.training.idle();
		const paused = context.training.get(started.id);
		expect(paused.run.status).toBe('paused');
		expect(paused.checkpoints.map((checkpoint) => checkpoint.step)).toEqual([3]);

		const moved = `${images.path}-moved`;
		fs.renameSync(images.path, moved);
		try {
			const resumed = await context.dispatch('runs.resume', { id: started.id });
			expect(resumed.ok || resumed.error).toEqual({
				code: 'INVALID_REQUEST',
				message: `The image folder ${images.path} does not exist.`
			});
			expect(context.training.get(started.id)).toEqual(paused);
		} finally {
			fs.renameSync(moved, images.path);
		}

		fs.rmSync(path.dirname(paused.checkpoints[0]?.path ?? ''), { recursive: true });
		const resumed = await context.dispatch('runs.resume', { id: started.id });
		expect(resumed.ok || resumed.error.code).toBe('NOT_FOUND');
		expect(resumed.ok || resumed.error.message).toMatch(
			/None of the checkpoints of run "folder-run" is on disk any more .* Restore the run's folder/
		);
		// Its history is still there: a resume from step 0 would have dropped it.
		expect(context.training.get(started.id)).toEqual(paused);
		// And nothing is training: the next request is not BUSY.
		expect(
			(await start({ source: { ...tinyGeneratorSource, config: { preset: 'nope' } } })).ok
		).toBe(false);
	});

	it('marks a run failed with the reason when its trainer cannot start', async () => {
		refuseToStartWorkers = true;
		try {
			const result = await start({ source: tinyGeneratorSource });
			expect(result.ok || result.error.message).toContain('spawn EAGAIN');
		} finally {
			refuseToStartWorkers = false;
		}
		const failed = runs().find((run) => run.name === 'request');
		expect(failed).toMatchObject({ status: 'failed' });
		expect(failed?.error).toMatch(/^Could not start training: .*spawn EAGAIN/);
		// The service is idle again: a sound request starts.
		const next = await start({ source: tinyGeneratorSource, steps: 2 });
		expect(next.ok).toBe(true);
		await context.training.idle();
	});
});
