import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { StudyDetail, StudySpecInput } from '../../src/core/api/studies';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { parseCsv } from '../support/csv';
import { temporaryFolder } from '../support/paths';
import { failpointsVariable } from '../../src/main/failpoints';
import { spawnServe, type ServeProcess } from '../support/serve-process';

/**
 * Three sources with published numbers (one cached on disk, two streamed) × two seeds, with a
 * budget small enough for two cores: the tiny encoder, 12 Adam steps of 8 pairs on 24 images,
 * and a 2-epoch probe on 200 Fashion-MNIST images.
 */
const spec: StudySpecInput = {
	name: 'integration study',
	sources: [
		{
			kind: 'generator',
			key: 'control-mean_colour',
			label: 'mean colour',
			config: { preset: 'control-mean_colour' }
		},
		{
			kind: 'generator',
			key: 'dead_leaves-squares',
			label: 'squares',
			config: { preset: 'dead_leaves-squares' }
		},
		{
			kind: 'generator',
			key: 'stat-spectrum',
			label: 'spectrum',
			config: { preset: 'stat-spectrum' },
			data: 'cache'
		}
	],
	budget: {
		name: 'tiny',
		model: 'tiny',
		optimizer: 'adam',
		steps: 12,
		batch: 8,
		images: 24,
		checkpointEvery: 4
	},
	repeats: 2,
	evaluation: {
		targets: [{ dataset: 'fashion-mnist-mini' }],
		epochs: 2,
		views: 1,
		maxTrain: 200
	}
};

async function waitForStudy(
	api: TestApiClient,
	id: number,
	done: (detail: StudyDetail) => boolean,
	timeoutMs: number
): Promise<StudyDetail> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const result = await api.call('studies.get', { id });
		if (!result.ok) throw new Error(result.error.message);
		if (done(result.value)) return result.value;
		if (Date.now() > deadline) {
			const states = result.value.items.map(
				(item) => `#${item.id} ${item.label}: ${item.state} ${item.error ?? ''}`
			);
			throw new Error(`Study ${id} not done after ${timeoutMs} ms:\n${states.join('\n')}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

describe('a study through the work queue', () => {
	const dataDir = temporaryFolder();
	const bundleDir = temporaryFolder();
	let first: ServeProcess | undefined;
	let second: TestServer | undefined;
	afterAll(async () => {
		await first?.killHard();
		bundleDir.remove();
		if (second) await second.stop();
		else dataDir.remove();
	});

	it(
		'runs three sources × two seeds end to end, survives a server killed mid-training, and ranks them against the paper',
		{ timeout: 600_000 },
		async () => {
			// Runs are numbered in the study's order in a fresh data folder: seed 0's three, then
			// seed 1's. The kill lands at a known point on any machine: the second seed's first run
			// holds after step 6 (a failpoint), past its checkpoint of step 4.
			const victimId = 4;
			first = await spawnServe(dataDir.path, {
				[failpointsVariable]: `train.hold-after-step=6,train.hold-run=${victimId}`
			});
			const before = await TestApiClient.connectToUrl(first.url);
			const estimate = await before.call('studies.estimate', { spec });
			if (!estimate.ok) throw new Error(estimate.error.message);
			expect(estimate.value.sources.map((source) => source.data)).toEqual([
				'stream',
				'stream',
				'cache'
			]);
			expect(estimate.value.secondsPerStep).toBeGreaterThan(0);
			expect(estimate.value.trainings).toBe(6);
			const created = await before.call('studies.create', { spec, estimate: estimate.value });
			if (!created.ok) throw new Error(created.error.message);
			const study = created.value;
			// 1 dataset, 6 trainings, 6 evaluations (the random-init control rides with the first of each seed).
			expect(study.items.filter((item) => item.kind === 'generate')).toHaveLength(1);
			expect(study.items.filter((item) => item.kind === 'train')).toHaveLength(6);
			expect(study.items.filter((item) => item.kind === 'evaluate')).toHaveLength(6);
			const itemIds = study.items.map((item) => item.id).sort();

			// The kill: once the second seed's first run has checkpointed at step 4 and trained on.
			const victim = study.runs.find(
				(link) => link.repeat === 1 && link.sourceKey === 'control-mean_colour'
			);
			if (!victim) throw new Error('No run for seed 1.');
			await before.waitForEvent(
				'runs.progress',
				(progress) =>
					progress.runId === victim.runId &&
					progress.phase === 'checkpointing' &&
					progress.step === 4,
				400_000
			);
			const progressed = await before.waitForEvent(
				'runs.progress',
				(progress) => progress.runId === victim.runId && progress.step > 4,
				60_000
			);
			expect(progressed.step).toBeLessThan(12);
			before.close();
			await first.killHard();

			second = await startTestServer(dataDir, { allowFolders: [bundleDir.path] });
			const api = await TestApiClient.connect(second);
			const finished = await waitForStudy(
				api,
				study.study.id,
				(detail) => detail.study.status !== 'queued' && detail.study.status !== 'running',
				500_000
			);
			expect(finished.study.status).toBe('completed');
			// Nothing was lost or added: the same items, all done.
			expect(finished.items.map((item) => item.id).sort()).toEqual(itemIds);
			expect(finished.items.every((item) => item.state === 'done')).toBe(true);

			// The killed run resumed from its checkpoint: a second session from step 4, and one
			// logged point per step, none repeated or skipped.
			const db = new Database(path.join(dataDir.path, 'noiselab.sqlite'), { readonly: true });
			const sessions = db
				.prepare('SELECT start_step AS start FROM run_sessions WHERE run_id = ? ORDER BY id')
				.all(victim.runId) as { start: number }[];
			db.close();
			expect(sessions.map((session) => session.start)).toEqual([0, 4]);
			const detail = await api.call('runs.get', { id: victim.runId });
			if (!detail.ok) throw new Error(detail.error.message);
			expect(detail.value.metrics.map((point) => point.step)).toEqual(
				Array.from({ length: 12 }, (_, i) => i + 1)
			);
			expect(detail.value.run.status).toBe('completed');

			// The table: random init and the three sources, two seeds each, with the paper's numbers.
			const { results } = finished;
			const key = results.targets[0]?.key ?? '';
			expect(results.rows.map((row) => row.key)).toEqual([
				'random-init',
				'control-mean_colour',
				'dead_leaves-squares',
				'stat-spectrum'
			]);
			for (const row of results.rows) {
				const cell = row.cells[key];
				expect(cell?.n).toBe(2);
				expect(cell?.mean).toBeGreaterThan(0.1);
				expect(cell?.sd).not.toBeNull();
			}
			expect(results.rows.map((row) => row.paper?.top1)).toEqual([21.1, 5.0, 35.2, 30.6]);
			const agreement = results.agreement[key];
			expect(agreement?.spearman.n).toBe(4);
			expect(agreement?.spearman.method).toBe('exact');
			expect(agreement?.spearman.value).not.toBeNull();
			expect(agreement?.spearman.p).toBeGreaterThan(0);
			expect(agreement?.kendall.value).not.toBeNull();

			const csv = await api.call('studies.export', { id: study.study.id, format: 'csv' });
			if (!csv.ok) throw new Error(csv.error.message);
			const rows = parseCsv(csv.value.content);
			expect(rows).toHaveLength(5);
			expect(rows.find((cells) => cells[0] === 'dead_leaves-squares')?.[4]).toBe('35.2');

			// The same study again reuses every run and evaluation: nothing to queue.
			const again = await api.call('studies.create', {
				spec: { ...spec, name: 'again' },
				estimate: estimate.value
			});
			if (!again.ok) throw new Error(again.error.message);
			expect(again.value.runs.every((link) => link.reused)).toBe(true);
			// Its items are the first study's, all done: nothing new was queued.
			expect(
				again.value.items.every((item) => item.studyId === study.study.id && item.state === 'done')
			).toBe(true);
			const queue = await api.call('queue.state', {});
			expect(
				queue.ok && queue.value.items.filter((item) => item.studyId === again.value.study.id)
			).toEqual([]);
			expect(again.value.study.status).toBe('completed');
			expect(again.value.results.rows.map((row) => row.cells[key]?.mean)).toEqual(
				results.rows.map((row) => row.cells[key]?.mean)
			);

			// Realism and diversity: each source's precision and recall against the real images,
			// stored with the study and shown as two columns (random init has no images).
			const measured = await api.call('studies.measureRealism', {
				id: study.study.id,
				samples: 24
			});
			if (!measured.ok) throw new Error(measured.error.message);
			const columns = measured.value.results.extraColumns;
			expect(columns.map((column) => column.key)).toEqual(['realism-precision', 'realism-recall']);
			for (const column of columns) {
				expect(column.values['random-init'] ?? null).toBeNull();
				for (const source of spec.sources) {
					const value = column.values[source.key];
					expect(value).toBeGreaterThanOrEqual(0);
					expect(value).toBeLessThanOrEqual(1);
				}
			}
			expect(measured.value.plan.map((source) => source.realism?.samples)).toEqual([24, 24, 24]);
			const reread = await api.call('studies.get', { id: study.study.id });
			expect(reread.ok && reread.value.results.extraColumns).toEqual(columns);

			// A study bundle carries every run and evaluation into a study of its own.
			const bundle = await api.call('studies.exportBundle', {
				id: study.study.id,
				path: bundleDir.path
			});
			if (!bundle.ok) throw new Error(bundle.error.message);
			expect(bundle.value.runs).toBe(6);
			expect(fs.readdirSync(path.join(bundleDir.path, 'runs'))).toHaveLength(6);
			const imported = await api.call('studies.importBundle', { path: bundleDir.path });
			if (!imported.ok) throw new Error(imported.error.message);
			expect(imported.value.study.name).toBe('integration study (imported)');
			expect(
				imported.value.runs.every((link) => !study.runs.some((old) => old.runId === link.runId))
			).toBe(true);
			expect(imported.value.results.rows.map((row) => row.cells[key]?.mean)).toEqual(
				results.rows.map((row) => row.cells[key]?.mean)
			);
			expect(imported.value.results.extraColumns).toEqual(columns);
			api.close();
		}
	);
});

describe('runs started while another trains', () => {
	let server: TestServer | undefined;
	afterAll(async () => server?.stop());

	it(
		'wait in the queue as `queued` instead of failing with BUSY, then train',
		{ timeout: 180_000 },
		async () => {
			server = await startTestServer();
			const api = await TestApiClient.connect(server);
			const config = {
				source: {
					kind: 'generator',
					config: { preset: 'dead_leaves-squares', size: 64 },
					count: 16
				},
				model: 'tiny',
				optimizer: 'adam',
				steps: 3,
				batch: 8,
				backend: 'wasm'
			} as const;
			const firstRun = await api.call('runs.start', { name: 'first', config });
			const secondRun = await api.call('runs.start', { name: 'second', config });
			if (!firstRun.ok || !secondRun.ok) throw new Error('runs.start failed');
			expect(firstRun.value.status).toBe('running');
			expect(secondRun.value.status).toBe('queued');
			const queue = await api.call('queue.state', {});
			if (!queue.ok) throw new Error(queue.error.message);
			expect(queue.value.items.map((item) => [item.runId, item.state])).toEqual([
				[firstRun.value.id, 'running'],
				[secondRun.value.id, 'queued']
			]);
			await api.waitForEvent(
				'runs.changed',
				(run) => run.id === secondRun.value.id && run.status === 'completed',
				150_000
			);
			const list = await api.call('runs.list', {});
			if (!list.ok) throw new Error(list.error.message);
			expect(list.value.map((run) => run.status)).toEqual(['completed', 'completed']);
			api.close();
		}
	);
});
