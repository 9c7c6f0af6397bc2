/**
 * How the training service treats a session that lost its GPU device (the trainer worker ends
 * it with GPU_DEVICE_LOST): the run becomes interrupted, and resumes by itself once from its
 * newest checkpoint in a fresh worker when the lost session had trained. The trainer is a
 * scripted stand-in behind the real WorkerClient protocol, so the test needs no GPU; the
 * worker side (a real lost device ending a real session) is test/integration/webgpu.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Result } from '../../src/core/api/errors';
import { trainConfigSchema } from '../../src/core/training/config';
import { EventBus } from '../../src/main/events';
import { TrainingService } from '../../src/main/services/training';
import { openStore, type Store } from '../../src/main/store/database';
import type { TrainEvent, TrainJob, TrainOutcome } from '../../src/main/training/train-loop';
import { WorkerFactory } from '../../src/main/workers/host';
import { scriptedLauncher } from '../support/scripted-worker';
import { temporaryFolder } from '../support/paths';

/** What a scripted session does: train these steps, checkpoint at the last, then end so. */
interface Script {
	steps: number;
	end: Result<TrainOutcome>;
}

/** A launcher whose trainer sessions follow `scripts` in turn, recording the jobs it got. */
function scriptedTrainers(scripts: Script[], jobs: TrainJob[]) {
	return scriptedLauncher((message, reply) => {
		if (message.task !== 'train') return;
		const job = message.input as TrainJob;
		jobs.push(job);
		const script = scripts.shift();
		if (!script) throw new Error('no script left for this session');
		const start = job.resumeFrom?.step ?? 0;
		const progress = (event: TrainEvent) =>
			reply({ kind: 'progress', id: message.id, progress: event });
		progress({
			kind: 'started',
			backend: 'webgpu',
			backendReason: 'webgpu was chosen.',
			adapter: null,
			replicas: 1,
			parameterCount: 1000,
			sourceLabel: 'scripted',
			count: 64,
			startStep: start
		});
		const end = start + script.steps;
		if (script.steps > 0) {
			const points = Array.from({ length: script.steps }, (_, i) => ({
				step: start + i + 1,
				loss: -1,
				align: 0.5,
				uniform: -1.5,
				lr: 0.01,
				imagesPerSecond: 10,
				seconds: start + i + 1
			}));
			progress({
				kind: 'metrics',
				points,
				step: end,
				epoch: 0,
				etaSeconds: null,
				trainSeconds: 1,
				skippedImages: 0,
				skippedExamples: []
			});
			const file = path.join(job.folder, 'checkpoints', `step-${end}.nlck`);
			fs.mkdirSync(path.dirname(file), { recursive: true });
			fs.writeFileSync(file, Buffer.alloc(100 + end));
			progress({
				kind: 'checkpoint',
				checkpoint: { step: end, path: file, bytes: 100 + end, sha256: `sha-${end}` },
				removedSteps: []
			});
		}
		reply({ kind: 'done', id: message.id, result: script.end });
	});
}

const lost: Result<TrainOutcome> = {
	ok: false,
	error: { code: 'GPU_DEVICE_LOST', message: 'The GPU device was lost (unknown: reset).' }
};

describe('a session whose GPU device was lost', () => {
	const home = temporaryFolder();
	let store: Store | null = null;
	afterEach(() => {
		store?.close();
		store = null;
	});

	function service(scripts: Script[], jobs: TrainJob[]): TrainingService {
		store = openStore(home.path);
		const opened = store;
		return new TrainingService(
			new WorkerFactory(scriptedTrainers(scripts, jobs), '/no/workers'),
			() => opened,
			new EventBus(),
			{ runsDir: path.join(home.path, 'runs'), preference: () => 'auto', appVersion: 'test' }
		);
	}

	const config = trainConfigSchema.parse({
		source: { kind: 'generator', config: { preset: 'dead_leaves-squares' } },
		model: 'tiny',
		steps: 6,
		backend: 'webgpu'
	});

	it('interrupts the run and resumes it once from its newest checkpoint', async () => {
		const jobs: TrainJob[] = [];
		const training = service(
			[
				{ steps: 3, end: lost },
				{ steps: 3, end: { ok: true, value: { step: 6, outcome: 'completed', message: null } } }
			],
			jobs
		);
		const run = training.start({ name: 'lost-then-resumed', config });
		await training.idle();
		expect(jobs.map((job) => job.resumeFrom?.step ?? 0)).toEqual([0, 3]);
		const detail = training.get(run.id);
		expect(detail.run.status).toBe('completed');
		expect(detail.metrics.map((point) => point.step)).toEqual([1, 2, 3, 4, 5, 6]);
		const sessions = (store as Store).db
			.prepare(
				'SELECT start_step AS startStep, outcome FROM run_sessions WHERE run_id = ? ORDER BY id'
			)
			.all(run.id);
		expect(sessions).toEqual([
			{ startStep: 0, outcome: 'GPU_DEVICE_LOST' },
			{ startStep: 3, outcome: 'completed' }
		]);
	});

	it('leaves the run interrupted, saying why and what to do, when the device is lost again without progress', async () => {
		const jobs: TrainJob[] = [];
		const training = service(
			[
				{ steps: 2, end: lost },
				{ steps: 0, end: lost }
			],
			jobs
		);
		const run = training.start({ name: 'lost-twice', config });
		await training.idle();
		expect(jobs).toHaveLength(2);
		const detail = training.get(run.id);
		expect(detail.run.status).toBe('interrupted');
		expect(detail.run.error).toMatch(
			/GPU device was lost.*Resume continues from the last checkpoint/
		);
		expect(detail.checkpoints.map((checkpoint) => checkpoint.step)).toEqual([2]);
	});
});
