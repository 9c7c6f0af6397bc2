import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationRecord, EvaluationRole } from '../../src/core/api/evaluation';
import type { RunRecord } from '../../src/core/api/training';
import { flattenConfig } from '../../src/core/history/config-diff';
import type { TrainConfigInput } from '../../src/core/training/config';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, watchForErrors } from '../support/browser';
import { parseCsv } from '../support/csv';
import { toyClasses, writeToyImageFolder } from '../support/image-folder';
import { artefactsDir, temporaryFolder } from '../support/paths';
import { tinyGeneratorSource, tinyRunSettings, trainToCompletion } from '../support/train-runs';

/** A whole-page screenshot under test-results/screenshots, for a person to look at. */
async function fullScreenshot(page: Page, name: string): Promise<void> {
	const folder = path.join(artefactsDir, 'screenshots');
	fs.mkdirSync(folder, { recursive: true });
	await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
}

/** An accuracy as the results table writes it, worked out here rather than with its helper. */
const percentShown = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;

/** The top-1 of a completed evaluation, failing the test when there is none. */
function top1(record: EvaluationRecord | undefined): number {
	expect(record?.status, record?.error ?? '').toBe('completed');
	const value = record?.metrics?.top1;
	if (value === undefined) throw new Error('No top-1 stored.');
	return value;
}

describe('the Evaluate and Runs areas in Chromium (web mode)', () => {
	const datasetRoot = temporaryFolder('noiselab-toy-');
	/** Named so that its basename, which the UI shows, says what it is. */
	const datasetPath = path.join(datasetRoot.path, 'toy-shapes');
	let app: TestServer;
	let api: TestApiClient;
	let browser: Browser;
	let page: Page;
	let errors: string[];
	/**
	 * noise-a: the run evaluated; noise-a-short: noise-a with fewer steps and another seed;
	 * real-b: trained on the toy folder itself, the real-data control (20 steps, so that it moves
	 * away from its random init more than 6 would).
	 */
	let runs: { noise: RunRecord; short: RunRecord; real: RunRecord };

	beforeAll(async () => {
		await writeToyImageFolder(datasetPath, { perClass: 20, size: 48 });
		app = await startTestServer(undefined, { allowFolders: [datasetRoot.path] });
		api = await TestApiClient.connect(app);
		// One run trains at a time, so they are trained one after the other.
		const train = async (name: string, config: TrainConfigInput) =>
			(await trainToCompletion(api, name, config)).run;
		runs = {
			noise: await train('noise-a', { source: tinyGeneratorSource, ...tinyRunSettings, steps: 6 }),
			short: await train('noise-a-short', {
				source: tinyGeneratorSource,
				...tinyRunSettings,
				steps: 4,
				// Another seed: with noise-a's, its first steps would retrace noise-a's curves exactly.
				seed: 1
			}),
			real: await train('real-b', {
				source: { kind: 'folder', path: datasetPath },
				...tinyRunSettings,
				steps: 20
			})
		};
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		errors = watchForErrors(page);
	}, 120_000);
	afterAll(async () => {
		api?.close();
		await browser?.close();
		await app?.stop();
		datasetRoot.remove();
	});

	it('registers an image folder from its path and lists it with its classes and split', async () => {
		await page.goto(`${app.server.url}#/evaluate`);
		await page.getByRole('heading', { name: 'New evaluation' }).waitFor();
		await page.getByRole('button', { name: 'Register a dataset folder…' }).click();
		await page.getByLabel('Folder path').fill(datasetPath);
		await page.getByRole('button', { name: 'Register', exact: true }).click();

		// 20 images per class, 20% held out per class by the loader's own split: 4 test, 16 train.
		const notice = page.locator('#eval-register [role=status] .notice');
		await expect
			.poll(() => notice.textContent(), { timeout: 30_000 })
			.toMatch(/^Registered toy-shapes: 3 classes, 48 train and 12 test images\. /);
		const datasetSelect = page.getByLabel('Dataset', { exact: true });
		expect(await datasetSelect.inputValue()).toBe(datasetPath);
		expect(
			await datasetSelect.locator('optgroup[label="Registered folders"] option').allTextContents()
		).toEqual(['toy-shapes']);
		expect(await page.locator('#eval-dataset-help').textContent()).toContain(
			'3 classes, 48 train / 12 test images.'
		);
		await expect(page.getByRole('alert').count()).resolves.toBe(0);

		// Stored, not just shown: a fresh page lists it again, with the class folders' names.
		await page.reload();
		await page
			.getByLabel('Dataset', { exact: true })
			.locator(`option[value="${datasetPath}"]`)
			.waitFor({ state: 'attached' });
		const listed = await api.call('evaluations.datasets', {});
		if (!listed.ok) throw new Error(listed.error.message);
		const registered = listed.value.find((dataset) => dataset.name === datasetPath);
		expect(registered).toMatchObject({
			kind: 'registered',
			description: 'toy-shapes',
			available: true,
			trainCount: 48,
			testCount: 12
		});
		expect([...(registered?.classes ?? [])].sort()).toEqual(
			toyClasses.map((toy) => toy.name).sort()
		);
		expect(errors).toEqual([]);
	});

	it(
		'evaluates a run with kNN next to its random-init and real-data controls, with progress',
		{ timeout: 90_000 },
		async () => {
			await page.goto(`${app.server.url}#/evaluate`);
			await page.getByRole('heading', { name: 'New evaluation' }).waitFor();
			const runSelect = page.getByLabel('Run', { exact: true });
			await runSelect.locator(`option[value="${runs.noise.id}"]`).waitFor({ state: 'attached' });
			await runSelect.selectOption(String(runs.noise.id));
			await expect
				.poll(() => page.locator('#eval-run-help').textContent())
				.toContain('Evaluates its checkpoint at step 6.');
			await page.getByLabel('Dataset', { exact: true }).selectOption(datasetPath);
			await page.getByRole('radio', { name: 'kNN' }).check();
			await page.getByRole('checkbox', { name: 'Random-init encoder' }).check();
			// Only runs trained on an image folder are offered as the real-data control.
			const realSelect = page.getByLabel('Real-data run');
			expect(await realSelect.locator('option').allTextContents()).toEqual(['None', 'real-b']);
			await realSelect.selectOption(String(runs.real.id));
			await page.locator('summary', { hasText: 'Advanced' }).click();
			// 48 training images: the default k's (20, 200) would vote with most of the set.
			await page.getByLabel('kNN k’s').fill('5, 10');
			await page.getByRole('button', { name: 'Evaluate', exact: true }).click();

			const progress = page.getByTestId('evaluation-progress');
			await progress.waitFor();
			expect(await progress.getByRole('heading').textContent()).toMatch(
				/Evaluating\s+noise-a\s+on\s+\S*toy-shapes/
			);
			expect(
				await progress
					.getByRole('progressbar')
					.evaluateAll((bars) => bars.map((bar) => bar.getAttribute('aria-label')))
			).toEqual(['Encoder progress', 'Random init progress', 'Real data progress']);
			await fullScreenshot(page, 'evaluate-progress');
			await progress.waitFor({ state: 'detached', timeout: 60_000 });

			const row = page.getByTestId('evaluation-results').locator('tbody tr[data-group]').first();
			const groupId = await row.getAttribute('data-group');
			const listed = await api.call('evaluations.list', {});
			if (!listed.ok) throw new Error(listed.error.message);
			const group = listed.value.filter((record) => record.groupId === groupId);
			const byRole = (role: EvaluationRole) => group.find((record) => record.role === role);
			expect(group.map((record) => record.role).sort()).toEqual(['encoder', 'random-init', 'real']);
			expect(byRole('encoder')).toMatchObject({ runId: runs.noise.id, checkpointStep: 6 });
			expect(byRole('real')).toMatchObject({ runId: runs.real.id, checkpointStep: 20 });
			expect(byRole('random-init')).toMatchObject({ checkpointStep: null });
			for (const record of group) {
				expect(record).toMatchObject({ dataset: datasetPath, protocol: 'knn', layer: 'fc6' });
				expect(record.metrics).toMatchObject({ classes: 3, trainImages: 48, testImages: 12 });
				expect(Object.keys(record.metrics?.knn ?? {})).toEqual(['5', '10']);
			}
			// The progress the panel showed came from the worker: every role reported phases.
			const reported = api
				.eventsNamed('evaluations.progress')
				.filter((event) => event.groupId === groupId);
			expect(new Set(reported.map((event) => event.role))).toEqual(
				new Set(['encoder', 'random-init', 'real'])
			);

			// The row shows exactly the stored figures, and the gap closed from them (or why not).
			const [encoder, random, real] = [
				top1(byRole('encoder')),
				top1(byRole('random-init')),
				top1(byRole('real'))
			];
			expect(await row.locator('th .run').textContent()).toBe('noise-a');
			expect(await row.locator('.protocol').textContent()).toMatch(/^\s*kNN · fc6/);
			expect(await row.locator('td[data-role=encoder] .accuracy').textContent()).toBe(
				percentShown(encoder)
			);
			expect(await row.locator('td[data-role="random-init"] .accuracy').textContent()).toBe(
				percentShown(random)
			);
			expect(await row.locator('td[data-role=real] .accuracy').textContent()).toBe(
				percentShown(real)
			);
			const gapCell = row.locator('td.gap');
			if (real > random) {
				const percent = Math.round(((encoder - random) / (real - random)) * 100);
				expect(await gapCell.textContent()).toBe(`${percent < 0 ? '−' : ''}${Math.abs(percent)}%`);
			} else {
				expect((await gapCell.textContent())?.trim()).toBe(
					'—: The real-data control does not beat random init here, so the ratio means nothing.'
				);
			}
			await expect.poll(() => page.getByRole('img', { name: /^Accuracy chart\./ }).count()).toBe(1);
			await page.getByRole('heading', { name: 'Evaluation', exact: true }).scrollIntoViewIfNeeded();
			await fullScreenshot(page, 'evaluate-results');
			expect(errors).toEqual([]);
		}
	);

	it('compares two runs (config diff, overlaid curves) and exports the table as CSV', async () => {
		await page
			.getByRole('navigation', { name: 'Main' })
			.getByRole('link', { name: 'Runs' })
			.click();
		await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
		const table = page.getByTestId('runs-table');
		await expect.poll(() => table.locator('tbody tr').count()).toBe(3);
		await page.getByRole('checkbox', { name: 'Select noise-a for comparison' }).check();
		await page.getByRole('checkbox', { name: 'Select noise-a-short for comparison' }).check();
		await page.getByRole('button', { name: 'Compare 2 runs' }).click();

		const comparison = page.getByTestId('run-comparison');
		await comparison.getByRole('heading', { name: 'Comparing 2 runs' }).waitFor();
		const diff = comparison.getByTestId('config-diff');
		expect(await diff.locator('thead th').allTextContents()).toEqual([
			'Setting',
			'noise-a',
			'noise-a-short'
		]);
		// The two configurations differ in their seed and step count alone; nothing else is listed.
		const differing = await diff
			.locator('tbody tr:not(.summary)')
			.evaluateAll((rows) =>
				rows.map((row) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent))
			);
		expect(differing).toEqual([
			['seed', '0', '1'],
			['steps', '6', '4']
		]);
		const settings = Object.keys(flattenConfig(runs.noise.config)).length;
		expect(await comparison.locator('p.note').innerText()).toMatch(
			new RegExp(`^2 settings differ; the other ${settings - 2} are the same\\.$`)
		);

		// One loss line per run, each holding every logged step (6 + 4 points).
		const loss = comparison.getByRole('img', { name: /^Loss chart\./ });
		await expect
			.poll(() => loss.getAttribute('aria-label'))
			.toMatch(/^Loss chart\. noise-a -?\d+\.\d+ at step 6; noise-a-short -?\d+\.\d+ at step 4$/);
		await expect.poll(() => loss.locator('canvas').getAttribute('data-points')).toBe('10');
		for (const title of ['Alignment', 'Uniformity']) {
			await expect(
				comparison.getByRole('img', { name: new RegExp(`^${title} chart\\.`) }).count()
			).resolves.toBe(1);
		}
		await comparison.scrollIntoViewIfNeeded();
		await fullScreenshot(page, 'runs-compare');

		// The charts take their colours from the theme: switching the OS to dark redraws them.
		const lossCanvas = loss.locator('canvas');
		const light = await lossCanvas.evaluate((canvas: HTMLCanvasElement) => canvas.toDataURL());
		await page.emulateMedia({ colorScheme: 'dark' });
		await expect
			.poll(() => lossCanvas.evaluate((canvas: HTMLCanvasElement) => canvas.toDataURL()))
			.not.toBe(light);
		await page.emulateMedia({ colorScheme: 'light' });
		await expect
			.poll(() => lossCanvas.evaluate((canvas: HTMLCanvasElement) => canvas.toDataURL()))
			.toBe(light);

		const [download] = await Promise.all([
			page.waitForEvent('download'),
			page.getByRole('button', { name: 'Export CSV' }).click()
		]);
		expect(download.suggestedFilename()).toMatch(/\.csv$/);
		const csv = parseCsv(fs.readFileSync(await download.path(), 'utf8'));
		const accuracyColumns = [
			'top-1 (%)',
			'random-init (%)',
			'real-data (%)',
			'gap closed (%)',
			'probe'
		].map((what) => `${datasetPath} knn ${what}`);
		expect(csv[0]).toEqual([
			'id',
			'name',
			'status',
			'source',
			'model',
			'step',
			'steps',
			'final_loss',
			...accuracyColumns,
			'created',
			'tags',
			'notes'
		]);
		const records = csv.slice(1);
		// One record per run, in the table's order (newest first).
		const shownIds = await table
			.locator('tbody tr')
			.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run-id')));
		expect(records.map((record) => record[0])).toEqual(shownIds);
		const listed = await api.call('runs.list', {});
		const evaluations = await api.call('evaluations.list', {});
		if (!listed.ok || !evaluations.ok) throw new Error('Could not list runs and evaluations.');
		const encoder = evaluations.value.find(
			(record) => record.role === 'encoder' && record.runId === runs.noise.id
		);
		const group = evaluations.value.filter((record) => record.groupId === encoder?.groupId);
		const encoderTop1 = top1(encoder);
		const randomTop1 = top1(group.find((record) => record.role === 'random-init'));
		const realTop1 = top1(group.find((record) => record.role === 'real'));
		const percent = (fraction: number) => (fraction * 100).toFixed(2);
		const gap = (encoderTop1 - randomTop1) / (realTop1 - randomTop1);
		const probe = 'kNN k = 5, 10, fc6, standardised, seed 0';
		for (const record of records) {
			const run = listed.value.find((candidate) => String(candidate.id) === record[0]);
			expect(record).toEqual([
				String(run?.id),
				run?.name,
				'completed',
				run?.sourceLabel,
				'tiny',
				String(run?.steps),
				String(run?.steps),
				run?.lastLoss?.toFixed(6),
				// noise-a with its controls; real-b's own score is the one it made as the control.
				...(run?.id === runs.noise.id
					? [
							percent(encoderTop1),
							percent(randomTop1),
							percent(realTop1),
							realTop1 > randomTop1 ? percent(gap) : '',
							probe
						]
					: run?.id === runs.real.id
						? [
								percent(realTop1),
								percent(randomTop1),
								percent(realTop1),
								realTop1 > randomTop1 ? '100.00' : '',
								probe
							]
						: ['', '', '', '', '']),
				run?.createdAt,
				'',
				''
			]);
		}
		expect(errors).toEqual([]);
	});
});
