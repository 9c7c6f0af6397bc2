import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { doctorReportSchema } from '../../src/core/api/contract';
import { runDetailSchema, runRecordSchema } from '../../src/core/api/training';
import { ownerFileName, type FolderOwner } from '../../src/main/data-folder-lock';
import { failpointsVariable } from '../../src/main/failpoints';
import { TestApiClient } from '../support/api-client';
import { repoRoot, temporaryFolder } from '../support/paths';
import { childrenLeft } from '../support/processes';
import { groupAlive, spawnServe, type ServeProcess } from '../support/serve-process';
import { tinyGeneratorSource, tinyRunSettings } from '../support/train-runs';

const bin = path.join(repoRoot, 'bin', 'noiselab.js');

describe('one owner per data folder, between processes', () => {
	const home = temporaryFolder();
	const started: ServeProcess[] = [];
	let owner: ServeProcess;
	let api: TestApiClient | undefined;
	let runId = 0;

	afterAll(async () => {
		api?.close();
		for (const serve of started) await serve.killHard();
		// Nothing this suite started is left running.
		expect(started.filter((serve) => groupAlive(serve.pid)).map((serve) => serve.pid)).toEqual([]);
		expect(await childrenLeft()).toEqual([]);
		home.remove();
	});

	/** Runs the CLI on the shared data folder; a command that is not refused ends by itself. */
	const cli = (...args: string[]) =>
		spawnSync(process.execPath, [bin, ...args], {
			encoding: 'utf8',
			env: { ...process.env, NOISELAB_HOME: home.path },
			timeout: 120_000
		});
	const ownerFile = () =>
		JSON.parse(fs.readFileSync(path.join(home.path, ownerFileName), 'utf8')) as FolderOwner;

	it('refuses a second serve, a training command and a bundle import while serve owns the folder, naming it', async () => {
		// Its sessions hold after step 3 (a failpoint), so its run stays running as long as needed.
		owner = await spawnServe(home.path, { [failpointsVariable]: 'train.hold-after-step=3' });
		started.push(owner);
		expect(ownerFile()).toMatchObject({ pid: owner.pid, command: 'noiselab serve --port 0' });

		const holder = `is in use by \`noiselab serve --port 0\` (PID ${owner.pid}, since `;
		const second = cli('serve', '--port', '0');
		expect(second.status).toBe(1);
		expect(second.stderr).toContain(holder);
		expect(second.stderr).toContain(`\`kill ${owner.pid}\``);
		const train = cli('train', '--preset', 'dead_leaves-squares', '--steps', '2');
		expect(train.status).toBe(1);
		expect(train.stderr).toContain(holder);
		const imported = cli('runs', 'import', path.join(home.path, 'any.nlrun'));
		expect(imported.status).toBe(1);
		expect(imported.stderr).toContain(holder);
	});

	it('lets doctor, runs list and runs show read beside a training serve, leaving its run running', async () => {
		api = await TestApiClient.connectToUrl(owner.url);
		const run = await api.call('runs.start', {
			name: 'beside',
			config: { source: tinyGeneratorSource, ...tinyRunSettings, steps: 50 }
		});
		if (!run.ok) throw new Error(run.error.message);
		runId = run.value.id;
		await expect
			.poll(
				async () => {
					const detail = await api?.call('runs.get', { id: runId });
					return detail?.ok ? detail.value.run.step : -1;
				},
				{ timeout: 90_000 }
			)
			.toBe(3);
		const before = await api.call('runs.get', { id: runId });
		if (!before.ok) throw new Error(before.error.message);
		expect(before.value.run.status).toBe('running');

		const doctor = cli('doctor', '--json');
		expect(doctor.status, doctor.stderr).toBe(0);
		const report = doctorReportSchema.parse(JSON.parse(doctor.stdout));
		expect(report.database.status).toBe('ok');
		expect(report.database.message).toContain('integrity ok');
		expect(report.database.message).toContain(
			`in use by \`noiselab serve --port 0\` (PID ${owner.pid}`
		);
		const listed = runRecordSchema.array().parse(JSON.parse(cli('runs', 'list', '--json').stdout));
		expect(listed.find((record) => record.id === runId)?.status).toBe('running');
		const shown = runDetailSchema.parse(
			JSON.parse(cli('runs', 'show', String(runId), '--json').stdout)
		);
		expect(shown.run.status).toBe('running');

		const after = await api.call('runs.get', { id: runId });
		if (!after.ok) throw new Error(after.error.message);
		// Unchanged, not merely "running" again: nobody wrote to it.
		expect(after.value.run).toEqual(before.value.run);
	});

	it('hands the folder to the next process after its owner is killed, which recovers the run and finishes it', async () => {
		api?.close();
		api = undefined;
		await owner.killHard();
		// The kill left the owner's description behind; the lock itself died with the process.
		expect(ownerFile().pid).toBe(owner.pid);
		const next = await spawnServe(home.path);
		started.push(next);
		expect(ownerFile()).toMatchObject({ pid: next.pid, command: 'noiselab serve --port 0' });
		// The new owner marks the run interrupted and its work queue resumes it from its checkpoint.
		api = await TestApiClient.connectToUrl(next.url);
		await expect
			.poll(
				async () => {
					const detail = await api?.call('runs.get', { id: runId });
					return detail?.ok ? detail.value.run.status : 'unreadable';
				},
				{ timeout: 120_000 }
			)
			.toBe('completed');
		const done = await api.call('runs.get', { id: runId });
		if (!done.ok) throw new Error(done.error.message);
		expect(done.value.run.step).toBe(50);
		// Its metrics go on from the killed owner's checkpoint: no step is recorded twice.
		const steps = done.value.metrics.map((point) => point.step);
		expect(new Set(steps).size).toBe(steps.length);
	});
});
