import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src/core/api/contract';
import type { RunEstimate, RunProgress, RunRecord } from '../../src/core/api/training';
import { trainConfigSchema, type TrainConfigInput } from '../../src/core/training/config';
import { createAppContext, type AppContext } from '../../src/main/app-context';
import { readCheckpoint } from '../../src/main/training/checkpoint-files';
import { failpointLauncher } from '../support/failpoints';
import { distDir, temporaryFolder } from '../support/paths';

/**
 * Every behaviour of a run with the step in the trainer worker (1 replica) and on 2
 * data-parallel replica threads.
 */
describe.each([1, 2])('training runs (real trainer workers on wasm, %i replica(s))', (replicas) => {
	/** A run small enough for a few seconds on wasm: the tiny encoder on 64 px dead leaves. */
	const tinyConfig = (overrides: Partial<TrainConfigInput> = {}) =>
		trainConfigSchema.parse({
			source: {
				kind: 'generator',
				config: { preset: 'dead_leaves-squares', size: 64 },
				count: 64
			},
			model: 'tiny',
			steps: 8,
			batch: 8,
			checkpointEvery: 4,
			backend: 'wasm',
			replicas,
			...overrides
		});

	const home = temporaryFolder();
	let context: AppContext;
	const events: ApiEvent[] = [];
	const failpoints = failpointLauncher();
	beforeAll(() => {
		context = createAppContext({
			dataDir: { path: home.path, source: 'NOISELAB_HOME' },
			launcher: failpoints.launcher,
			workersDir: path.join(distDir, 'workers'),
			// The services under test, not the web host-path policy: any path, as the CLI.
			pathAccess: 'any'
		});
		context.events.subscribe((event) => events.push(event));
	});
	afterAll(() => {
		context.close();
		home.remove();
	});

	const progressOf = (runId: number): RunProgress[] =>
		events.flatMap((event) =>
			event.name === 'runs.progress' && event.payload.runId === runId ? [event.payload] : []
		);
	const waitFor = async (condition: () => boolean, timeoutMs = 60_000) => {
		const started = Date.now();
		while (!condition()) {
			if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	};
	const tensorsOf = (run: RunRecord) => {
		const last = context.training.get(run.id).checkpoints.at(-1);
		if (!last) throw new Error(`run ${run.id} has no checkpoint`);
		return { step: last.step, tensors: readCheckpoint(last.path, last.sha256).tensors };
	};

	it('trains to the end, logging every step and keeping the newest checkpoints', async () => {
		const run = context.training.start({ name: 'complete', config: tinyConfig() });
		expect(run.status).toBe('running');
		await context.training.idle();
		const detail = context.training.get(run.id);
		expect(detail.run.status).toBe('completed');
		expect(detail.run.backend).toBe('wasm');
		expect(detail.run.config.replicas).toBe(replicas);
		expect(detail.run.step).toBe(8);
		expect(detail.run.parameterCount).toBeGreaterThan(1_000_000);
		expect(detail.metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		for (const metric of detail.metrics) {
			expect(Number.isFinite(metric.loss)).toBe(true);
			expect(metric.loss).toBeCloseTo(metric.align + metric.uniform, 5);
		}
		expect(detail.checkpoints.map((c) => c.step)).toEqual([4, 8]);
		for (const checkpoint of detail.checkpoints) expect(fs.existsSync(checkpoint.path)).toBe(true);
		const final = readCheckpoint(detail.checkpoints[1]?.path ?? '', detail.checkpoints[1]?.sha256);
		expect(final.meta).toMatchObject({ step: 8, runId: run.id, model: 'tiny' });
		expect((final.meta.config as { replicas: number }).replicas).toBe(replicas);
		expect(progressOf(run.id).some((p) => p.metric !== null)).toBe(true);
	});

	it('reports an estimate’s stages, each timed step and the time left, then its figures', async () => {
		const config = tinyConfig();
		const result = await context.dispatch('runs.estimate', { config, jobId: 'estimate-a' });
		if (!result.ok) throw new Error(result.error.message);
		const estimate = result.value as RunEstimate;
		const stages = events.flatMap((event) =>
			event.name === 'runs.estimateProgress' && event.payload.jobId === 'estimate-a'
				? [event.payload]
				: []
		);
		expect(stages.slice(0, 4).map((stage) => stage.phase)).toEqual([
			'backend',
			'model',
			'data',
			'warm-up'
		]);
		const measuring = stages.slice(4);
		expect(measuring.every((stage) => stage.phase === 'measuring')).toBe(true);
		// One report as each timed step starts, and one when they are done.
		expect(measuring).toHaveLength(estimate.measuredSteps + 1);
		expect(measuring.every((stage) => stage.etaSeconds !== null && stage.etaSeconds >= 0)).toBe(
			true
		);
		const total = stages[0]?.total ?? 0;
		expect(stages.every((stage) => stage.total === total)).toBe(true);
		expect(stages.map((stage) => stage.done)).toEqual(
			[...stages.map((stage) => stage.done)].sort((a, b) => a - b)
		);
		expect(stages.at(-1)).toMatchObject({ done: total, etaSeconds: 0 });
		expect(estimate.secondsPerStep).toBeGreaterThan(0);
		// Without a job id nothing is pushed (a study's warm-up, the CLI).
		const before = events.length;
		await context.training.estimate(config);
		expect(events.slice(before).some((event) => event.name === 'runs.estimateProgress')).toBe(
			false
		);
	});

	it('cancels an estimate by its job id', async () => {
		expect(await context.dispatch('runs.cancelEstimate', { jobId: 'none' })).toEqual({
			ok: true,
			value: { cancelled: false }
		});
		const pending = context.dispatch('runs.estimate', {
			config: tinyConfig(),
			jobId: 'estimate-b'
		});
		await waitFor(() =>
			events.some(
				(event) => event.name === 'runs.estimateProgress' && event.payload.jobId === 'estimate-b'
			)
		);
		expect(await context.dispatch('runs.cancelEstimate', { jobId: 'estimate-b' })).toEqual({
			ok: true,
			value: { cancelled: true }
		});
		const result = await pending;
		expect(result.ok ? 'finished' : result.error.code).toBe('CANCELLED');
	});

	it('pauses at a checkpoint and resumes with the steps numbered on', async () => {
		const run = context.training.start({
			name: 'paused',
			config: tinyConfig({ steps: 400, checkpointEvery: 1000 })
		});
		await waitFor(() => progressOf(run.id).some((p) => p.step >= 3));
		context.training.pause(run.id);
		await context.training.idle();
		const paused = context.training.get(run.id);
		expect(paused.run.status).toBe('paused');
		expect(paused.checkpoints.at(-1)?.step).toBe(paused.run.step);
		const pausedAt = paused.run.step;
		expect(pausedAt).toBeGreaterThanOrEqual(3);
		expect(pausedAt).toBeLessThan(400);

		const resumedAt = performance.now();
		const resumed = context.training.resume(run.id);
		expect(resumed.status).toBe('running');
		await waitFor(() => progressOf(run.id).some((p) => p.step >= pausedAt + 2));
		const sinceResume = (performance.now() - resumedAt) / 1000;
		context.training.cancel(run.id);
		await context.training.idle();
		const cancelled = context.training.get(run.id);
		expect(cancelled.run.status).toBe('cancelled');
		const steps = cancelled.metrics.map((m) => m.step);
		expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
		expect(steps.length).toBeGreaterThanOrEqual(pausedAt + 2);
		// Each step carries the run's training time: it only grows, and the resumed session's
		// clock continues from the checkpoint's time, not counting the pause.
		const seconds = cancelled.metrics.map((m) => m.seconds ?? Number.NaN);
		expect(seconds.every((value, i) => value > (seconds[i - 1] ?? 0))).toBe(true);
		const atPause = seconds[pausedAt - 1] ?? Number.NaN;
		expect((seconds[pausedAt + 1] ?? Number.NaN) - atPause).toBeLessThanOrEqual(sinceResume);
	});

	if (replicas === 1) {
		it('refuses a second run while one trains', async () => {
			const run = context.training.start({ name: 'busy', config: tinyConfig({ steps: 400 }) });
			expect(() => context.training.start({ config: tinyConfig() })).toThrow(
				/one run trains at a time/
			);
			context.training.cancel(run.id);
			await context.training.idle();
		});
	}

	// Three sessions (straight, killed, resumed), each starting a trainer: minutes on a loaded machine.
	it(
		'resumes a run whose worker was killed and ends exactly where an uninterrupted run ends',
		{
			timeout: 180_000
		},
		async () => {
			const config = tinyConfig({ steps: 8, checkpointEvery: 4, seed: 11 });
			const straight = context.training.start({ name: 'straight', config });
			await context.training.idle();

			// The session holds after step 6 (a failpoint), so the kill lands between the checkpoint of
			// step 4 and the end on any machine; waiting for "step >= 5" raced a fast machine, whose
			// next progress report could already be the run's last step.
			const killed = failpoints.armed('train.hold-after-step=6', () =>
				context.training.start({ name: 'killed', config })
			);
			await waitFor(() => progressOf(killed.id).some((p) => p.step === 6));
			const pids = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'trainer.cjs'])
				.toString()
				.trim()
				.split('\n')
				.map(Number);
			for (const pid of pids) process.kill(pid, 'SIGKILL');
			await context.training.idle();
			const interrupted = context.training.get(killed.id);
			expect(interrupted.run.status).toBe('interrupted');
			expect(interrupted.run.error).toMatch(/Resume/);
			expect(interrupted.checkpoints.map((c) => c.step)).toEqual([4]);

			context.training.resume(killed.id);
			await context.training.idle();
			const done = context.training.get(killed.id);
			expect(done.run.status).toBe('completed');
			const reference = context.training.get(straight.id);
			expect(done.metrics.map((m) => m.loss)).toEqual(reference.metrics.map((m) => m.loss));
			const a = tensorsOf(straight);
			const b = tensorsOf(killed);
			expect(b.step).toBe(8);
			expect(Object.keys(b.tensors).sort()).toEqual(Object.keys(a.tensors).sort());
			const bytes = (data: Float32Array | undefined) =>
				data ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.alloc(0);
			for (const [name, tensor] of Object.entries(a.tensors)) {
				expect(bytes(b.tensors[name]?.data).equals(bytes(tensor.data)), name).toBe(true);
			}
		}
	);

	it('marks a run whose loss becomes NaN as diverged, with a suggestion', async () => {
		const run = context.training.start({
			name: 'diverging',
			// Coupled weight decay with lr·wd = 10 flips and multiplies every weight by ~9 per step:
			// the weights overflow float32 within a few dozen steps.
			config: tinyConfig({ steps: 100, lr: 100, weightDecay: 0.1, checkpointEvery: 1000 })
		});
		await context.training.idle();
		const detail = context.training.get(run.id);
		expect(detail.run.status).toBe('diverged');
		expect(detail.run.error).toMatch(/lower learning rate/);
	});

	if (replicas === 2) {
		it("takes Settings' replicas when the run names none, and keeps them for its sessions", async () => {
			const set = await context.dispatch('settings.update', { replicas: 2 });
			expect(set.ok).toBe(true);
			try {
				const run = context.training.start({
					name: 'from settings',
					config: tinyConfig({ replicas: null, steps: 2 })
				});
				expect(run.config.replicas).toBeNull();
				await context.training.idle();
				const detail = context.training.get(run.id);
				expect(detail.run.status).toBe('completed');
				expect(detail.run.config.replicas).toBe(2);
			} finally {
				await context.dispatch('settings.update', { replicas: null });
			}
		});
	}

	// Once is enough: with replicas, each would fill a 4 GiB wasm heap of its own.
	if (replicas === 1) {
		it('fails a run that exhausts the wasm heap with a clear out-of-memory message', async () => {
			const run = context.training.start({
				name: 'too big',
				config: tinyConfig({ model: 'alexnet', batch: 512, steps: 1 })
			});
			await context.training.idle();
			const detail = context.training.get(run.id);
			expect(detail.run.status).toBe('failed');
			expect(detail.run.error).toMatch(/^Out of memory training alexnet with batch 512/);
			expect(detail.run.error).toMatch(/smaller batch/);
		});
	}
});
