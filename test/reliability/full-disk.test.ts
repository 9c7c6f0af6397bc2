import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/api/training';
import { trainConfigSchema } from '../../src/core/training/config';
import { createAppContext, type AppContext } from '../../src/main/app-context';
import { readCheckpoint } from '../../src/main/training/checkpoint-files';
import { failpointLauncher } from '../support/failpoints';
import { distDir, temporaryFolder } from '../support/paths';
import { childrenLeft } from '../support/processes';

/** The tiny encoder on 64 px dead leaves, a checkpoint every 2 steps (about 14 MB each, SGD). */
const config = trainConfigSchema.parse({
	source: { kind: 'generator', config: { preset: 'dead_leaves-squares', size: 64 }, count: 64 },
	model: 'tiny',
	steps: 8,
	batch: 8,
	checkpointEvery: 2,
	backend: 'wasm'
});

interface Scenario {
	dataDir: string;
	/** Starts the run so that its third checkpoint (step 6) finds the disk full. */
	start(context: AppContext, failpoints: ReturnType<typeof failpointLauncher>): RunRecord;
	/** Makes room, as a user would before resuming. */
	freeSpace(): void;
	/** What the run's error says about the disk (before it names the checkpoint it keeps). */
	diskFull: RegExp;
}

/** The trainer's write of checkpoint 6 is refused. */
const checkpointRefused =
	/The disk is full: cannot write the [\d.]+ MiB checkpoint of step 6 into .*checkpoints\./;

/**
 * Trains until the disk refuses the checkpoint of step 6, checks that the run failed loudly and
 * kept its good checkpoints, then frees space and resumes it to the end. Returns the size of a
 * checkpoint, for sizing a real filesystem.
 */
async function fillTheDiskThenResume(scenario: Scenario): Promise<number> {
	const failpoints = failpointLauncher();
	const context = createAppContext({
		dataDir: { path: scenario.dataDir, source: 'NOISELAB_HOME' },
		launcher: failpoints.launcher,
		workersDir: path.join(distDir, 'workers'),
		pathAccess: 'any'
	});
	try {
		if (!context.store.ok) throw new Error(context.store.error.message);
		const { db } = context.store.value;
		const run = scenario.start(context, failpoints);
		await context.training.idle();

		const failed = context.training.get(run.id);
		expect(failed.run.status).toBe('failed');
		expect(failed.run.error).toMatch(
			new RegExp(
				`^${scenario.diskFull.source} Its checkpoint of step 4 is intact: free some space, then resume the run`
			)
		);
		const outcome = db
			.prepare('SELECT outcome FROM run_sessions WHERE run_id = ? ORDER BY id DESC LIMIT 1')
			.pluck()
			.get(run.id);
		expect(outcome).toBe('DISK_FULL');
		// The previous good checkpoints are kept, whole, and nothing half-written is left.
		expect(failed.checkpoints.map((checkpoint) => checkpoint.step)).toEqual([2, 4]);
		for (const checkpoint of failed.checkpoints) {
			expect(fs.statSync(checkpoint.path).size).toBe(checkpoint.bytes);
			expect(readCheckpoint(checkpoint.path, checkpoint.sha256).meta.step).toBe(checkpoint.step);
		}
		const folder = path.dirname(failed.checkpoints[0]?.path ?? '');
		expect(fs.readdirSync(folder).sort()).toEqual(['step-00000002.nlck', 'step-00000004.nlck']);

		scenario.freeSpace();
		context.training.resume(run.id);
		await context.training.idle();
		const done = context.training.get(run.id);
		expect(done.run.status, done.run.error ?? '').toBe('completed');
		expect(done.metrics.map((point) => point.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		expect(done.checkpoints.map((checkpoint) => checkpoint.step)).toEqual([6, 8]);
		return failed.checkpoints[0]?.bytes ?? 0;
	} finally {
		context.close();
	}
}

/** Mounts a tmpfs of `bytes` at `folder`; the reason it cannot, or null when mounted. */
function mountTmpfs(folder: string, bytes: number): string | null {
	try {
		execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', folder], {
			stdio: 'pipe'
		});
		return null;
	} catch (error) {
		const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
		return stderr || (error as Error).message;
	}
}

describe('a checkpoint that does not fit on the disk', () => {
	let checkpointBytes = 0;
	afterAll(async () => {
		// Every trainer this suite started has ended.
		expect(await childrenLeft()).toEqual([]);
	});

	it('fails the run with DISK_FULL, keeps the last good checkpoint, and resumes once there is space (injected full disk)', async () => {
		const home = temporaryFolder();
		try {
			checkpointBytes = await fillTheDiskThenResume({
				dataDir: home.path,
				// The trainer's first two durable writes (checkpoints 2 and 4) fit; the third is cut short.
				start: (context, failpoints) =>
					failpoints.armed('disk.full-after-writes=2', () =>
						context.training.start({ name: 'injected', config })
					),
				freeSpace: () => undefined,
				diskFull: checkpointRefused
			});
		} finally {
			home.remove();
		}
	});

	describe('on a real, small filesystem (tmpfs)', () => {
		const mountPoint = temporaryFolder('noiselab-tmpfs-');
		let mounted = false;
		afterAll(() => {
			if (mounted) execFileSync('umount', [mountPoint.path]);
			mountPoint.remove();
		});

		it('fails the run with DISK_FULL, keeps the last good checkpoint, and resumes after the filesystem grows', async (test) => {
			expect(checkpointBytes, 'the injected test measures a checkpoint first').toBeGreaterThan(0);
			// Room for two checkpoints and the database, not for a third checkpoint beside them.
			const size = 2 * checkpointBytes + Math.round(checkpointBytes / 2);
			const refused = mountTmpfs(mountPoint.path, size);
			if (refused !== null) {
				console.warn(`Skipped the tmpfs full-disk test: cannot mount a tmpfs here (${refused}).`);
				test.skip();
				return;
			}
			mounted = true;
			await fillTheDiskThenResume({
				dataDir: mountPoint.path,
				start: (context) => context.training.start({ name: 'tmpfs', config }),
				freeSpace: () =>
					execFileSync('mount', ['-o', `remount,size=${4 * checkpointBytes}`, mountPoint.path]),
				// The database shares the disk: while checkpoint 6 fills it, recording step 6's
				// metrics (in the main process, at the same moment) may be what is refused first.
				diskFull: new RegExp(
					`(${checkpointRefused.source}|The disk holding the database is full: cannot record the progress of step \\d+\\.)`
				)
			});
		});
	});
});
