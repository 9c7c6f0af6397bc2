import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { trainConfigSchema } from '../../src/core/training/config';
import { openStore, type Store } from '../../src/main/store/database';
import { migrations } from '../../src/main/store/migrations/index';
import {
	addCheckpoint,
	appendMetrics,
	createRun,
	getRun,
	listCheckpoints,
	listMetrics,
	listRuns,
	markInterruptedRuns,
	publicRecord,
	rewindRun,
	secondsAtStep,
	setRunStatus
} from '../../src/main/store/runs';
import { temporaryFolder } from '../support/paths';

const config = trainConfigSchema.parse({
	source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
	steps: 100
});

const point = (step: number, loss: number) => ({
	step,
	loss,
	align: loss / 2,
	uniform: -loss,
	lr: 0.06,
	imagesPerSecond: 100,
	seconds: step * 0.25
});

describe('the runs tables', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	let store: Store;
	beforeEach(() => {
		folder = temporaryFolder();
		store = openStore(folder.path);
	});
	afterEach(() => {
		store.close();
		folder.remove();
	});

	it('stores a run with its full configuration and names it after its id by default', () => {
		const run = createRun(
			store.db,
			{ name: null, config, sourceLabel: 'dead leaves', appVersion: '1.2.3' },
			(id) => `/runs/run-${id}`
		);
		expect(run.name).toBe(`run-${run.id}`);
		expect(run.folder).toBe(`/runs/run-${run.id}`);
		expect(run.status).toBe('running');
		expect(run.config).toEqual(config);
		expect(run.steps).toBe(100);
		expect(publicRecord(run)).not.toHaveProperty('folder');
		const named = createRun(
			store.db,
			{ name: 'mine', config, sourceLabel: 'x', appVersion: '1' },
			(id) => `/r/${id}`
		);
		expect(listRuns(store.db).map((r) => r.id)).toEqual([named.id, run.id]);
	});

	it('appends metrics in order, replaces re-trained steps and rewinds to a checkpoint', () => {
		const run = createRun(
			store.db,
			{ name: 'a', config, sourceLabel: 'x', appVersion: '1' },
			() => '/r'
		);
		appendMetrics(store.db, run.id, [point(1, 3), point(2, 2.5)], {
			step: 2,
			trainSeconds: 1.5,
			skippedImages: 1
		});
		appendMetrics(store.db, run.id, [point(3, 2)], {
			step: 3,
			trainSeconds: 0.5,
			skippedImages: 0
		});
		let stored = getRun(store.db, run.id);
		expect(stored?.step).toBe(3);
		expect(stored?.lastLoss).toBe(2);
		expect(stored?.trainSeconds).toBeCloseTo(2);
		expect(stored?.skippedImages).toBe(1);
		expect(listMetrics(store.db, run.id, 1).map((m) => m.step)).toEqual([2, 3]);

		rewindRun(store.db, run.id, 2);
		expect(listMetrics(store.db, run.id).map((m) => m.step)).toEqual([1, 2]);
		expect(getRun(store.db, run.id)?.step).toBe(2);
		appendMetrics(store.db, run.id, [point(3, 1.9)], {
			step: 3,
			trainSeconds: 0.5,
			skippedImages: 0
		});
		expect(listMetrics(store.db, run.id).at(-1)).toEqual(point(3, 1.9));
		stored = getRun(store.db, run.id);
		expect(stored?.lastLoss).toBe(1.9);
	});

	it('records checkpoints and marks runs left running as interrupted', () => {
		const run = createRun(
			store.db,
			{ name: 'a', config, sourceLabel: 'x', appVersion: '1' },
			() => '/r'
		);
		addCheckpoint(store.db, run.id, { step: 50, path: '/r/a', bytes: 10, sha256: 'ab' });
		addCheckpoint(store.db, run.id, { step: 100, path: '/r/b', bytes: 11, sha256: 'cd' });
		expect(listCheckpoints(store.db, run.id).map((c) => c.step)).toEqual([50, 100]);
		const done = createRun(
			store.db,
			{ name: 'b', config, sourceLabel: 'x', appVersion: '1' },
			() => '/s'
		);
		setRunStatus(store.db, done.id, 'completed');
		const interrupted = markInterruptedRuns(store.db);
		expect(interrupted.map((r) => r.id)).toEqual([run.id]);
		expect(getRun(store.db, run.id)?.status).toBe('interrupted');
		expect(getRun(store.db, run.id)?.finishedAt).toBeNull();
		expect(getRun(store.db, done.id)?.status).toBe('completed');
		expect(getRun(store.db, done.id)?.finishedAt).not.toBeNull();
	});

	it('keeps each step’s training time, where a resumed session’s clock starts', () => {
		const run = createRun(
			store.db,
			{ name: 'timed', config, sourceLabel: 'x', appVersion: '1' },
			() => '/r'
		);
		appendMetrics(store.db, run.id, [point(1, 3), point(2, 2.5), point(3, 2)], {
			step: 3,
			trainSeconds: 0.75,
			skippedImages: 0
		});
		expect(listMetrics(store.db, run.id).map((m) => m.seconds)).toEqual([0.25, 0.5, 0.75]);
		expect(secondsAtStep(store.db, run.id, 0)).toBe(0);
		expect(secondsAtStep(store.db, run.id, 2)).toBe(0.5);
		// A step never logged, or logged without a time, gives no clock to continue from.
		expect(secondsAtStep(store.db, run.id, 7)).toBeNull();
		appendMetrics(store.db, run.id, [{ ...point(4, 1.8), seconds: undefined }], {
			step: 4,
			trainSeconds: 0.25,
			skippedImages: 0
		});
		expect(listMetrics(store.db, run.id).at(-1)?.seconds).toBeNull();
		expect(secondsAtStep(store.db, run.id, 4)).toBeNull();
	});
});

describe('migration 9: a time per logged step', () => {
	it('keeps the steps of runs logged before it, with no time', () => {
		const folder = temporaryFolder();
		try {
			const old = openStore(
				folder.path,
				migrations.filter((migration) => migration.version < 9)
			);
			const run = createRun(
				old.db,
				{ name: 'old', config, sourceLabel: 'x', appVersion: '0.1' },
				() => '/r'
			);
			old.db
				.prepare(
					`INSERT INTO run_metrics (run_id, step, loss, align, uniform, lr, images_per_second)
					 VALUES (?, 1, -2, 1.5, -3.5, 0.06, 40)`
				)
				.run(run.id);
			old.close();
			const upgraded = openStore(folder.path);
			expect(upgraded.db.pragma('user_version', { simple: true })).toBe(9);
			expect(listMetrics(upgraded.db, run.id)).toEqual([
				{
					step: 1,
					loss: -2,
					align: 1.5,
					uniform: -3.5,
					lr: 0.06,
					imagesPerSecond: 40,
					seconds: null
				}
			]);
			upgraded.close();
		} finally {
			folder.remove();
		}
	});
});
