import fs from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';
import { parseCsv } from '../support/csv';

/** The three sources the study keeps: fast enough to stream on two cores, each with a paper number. */
const chosen = ['control-mean_colour', 'dead_leaves-squares', 'dead_leaves-mixed'];

async function fill(field: Locator, value: number): Promise<void> {
	await field.fill(String(value));
	await field.press('Tab');
}

/** The top-1 text of a results row's first target cell. */
async function cellText(page: Page, row: string): Promise<string> {
	return (
		(await page
			.getByTestId('study-results')
			.locator(`tr[data-row="${row}"] td[data-target]`)
			.first()
			.textContent()) ?? ''
	).trim();
}

describe('the Studies area in Chromium (web mode)', () => {
	let browser: Browser;
	let app: TestServer;
	beforeAll(async () => {
		browser = await launchChromium();
		app = await startTestServer();
	});
	afterAll(async () => {
		await browser?.close();
		await app?.stop();
	});

	it(
		'creates a study from the paper template with a sketch budget on 3 sources, follows the queue, and shows and exports the results',
		{ timeout: 480_000 },
		async () => {
			const page = await browser.newPage({
				viewport: { width: 1280, height: 800 },
				acceptDownloads: true
			});
			const errors = watchForErrors(page);
			await page.goto(`${app.server.url}#/studies`);
			await page.getByRole('heading', { name: 'New study' }).waitFor();
			await page.getByRole('checkbox', { name: 'dead_leaves-mixed' }).waitFor();
			// The template's unbuildable source says what it needs.
			expect(
				await page.getByRole('checkbox', { name: 'feature_vis-dead_leaves' }).isDisabled()
			).toBe(true);
			// …and offers to queue the training it lacks (not taken here: it would hold the queue).
			expect(await page.getByRole('button', { name: /^Queue its training: tiny/ }).count()).toBe(1);
			await screenshot(page, 'studies-new-1280');

			await page.getByRole('button', { name: 'None' }).click();
			for (const preset of chosen) await page.getByRole('checkbox', { name: preset }).check();
			await expect.poll(() => page.getByText('3 of 17 chosen').count()).toBe(1);
			// The sketch budget, cut down to a few steps for the test.
			expect(await page.getByRole('radio', { name: /^Sketch/ }).isChecked()).toBe(true);
			await fill(page.getByLabel('Steps', { exact: true }), 4);
			await fill(page.getByLabel('Batch (pairs)', { exact: true }), 8);
			await fill(page.getByLabel('Images per source', { exact: true }), 32);
			await fill(page.getByLabel('Repeats (seeds)', { exact: true }), 1);
			await fill(page.getByLabel('Probe epochs', { exact: true }), 1);
			await fill(page.getByLabel('Probe views', { exact: true }), 1);
			await fill(page.getByLabel('Probe training images', { exact: true }), 100);
			await expect.poll(() => page.getByRole('group', { name: 'Budget (custom)' }).count()).toBe(1);
			expect(await page.getByRole('checkbox', { name: 'fashion-mnist-mini' }).isChecked()).toBe(
				true
			);

			// The measured estimate comes before the start.
			expect(await page.getByRole('button', { name: 'Start study' }).isDisabled()).toBe(true);
			await page.getByRole('button', { name: 'Measure estimate' }).click();
			const estimate = page.getByTestId('study-estimate');
			await estimate.waitFor({ timeout: 120_000 });
			expect(await estimate.locator('tbody tr[data-source]').count()).toBe(3);
			expect(await estimate.getByText('on the fly', { exact: true }).count()).toBe(3);
			expect(await page.getByTestId('study-estimate-total').textContent()).toMatch(/^≈ \d/);
			await screenshot(page, 'studies-estimate-1280');

			await page.getByRole('button', { name: 'Start study' }).click();
			const view = page.getByTestId('study-view');
			await view.waitFor();
			// The queue works through it: a running item with its progress, then nothing waiting.
			await view
				.locator('[data-testid="queue-item"][data-state="running"]')
				.first()
				.waitFor({ timeout: 60_000 });
			await screenshot(page, 'studies-running-1280');
			await page.getByTestId('queue-link').click();
			await page.getByTestId('queue-panel').waitFor();
			await expect
				.poll(
					() =>
						page
							.getByTestId('queue-panel')
							.locator('[data-state="queued"], [data-state="running"]')
							.count(),
					{ timeout: 30_000 }
				)
				.toBeGreaterThan(0);
			await screenshot(page, 'studies-queue-1280');
			await page.getByRole('button', { name: /^Open study / }).click();
			await view.waitFor();
			await expect
				.poll(() => view.locator('[data-status]').first().getAttribute('data-status'), {
					timeout: 360_000,
					interval: 1000
				})
				.toBe('completed');

			// The table: random init and the three sources, one seed each, beside the paper.
			const table = page.getByTestId('study-results');
			expect(await table.locator('tbody tr').count()).toBe(4);
			for (const row of ['random-init', ...chosen]) {
				expect(await cellText(page, row)).toMatch(/^\d+\.\d ± – \(1\)$/);
			}
			const paper = await table.locator('tbody tr td.paper').allTextContents();
			expect(paper.map((text) => text.trim())).toEqual(['21.1 †', '5.0 †', '35.2', '38.9']);
			expect(await page.getByTestId('study-agreement').textContent()).toMatch(
				/Spearman ρ = -?\d\.\d\d .*n = 4, exact permutation test/
			);

			// Sorting by the paper puts its best source first.
			await table.getByRole('button', { name: /^Paper/ }).click();
			expect(await table.locator('tbody tr').first().getAttribute('data-row')).toBe(
				'dead_leaves-mixed'
			);

			// The figure: ours and the paper's bars for the four rows.
			const canvas = page.getByTestId('study-figure').locator('canvas');
			expect(await canvas.getAttribute('data-paper')).toBe('4');
			expect(await canvas.getAttribute('data-ours')).toBe('4');
			await page.getByTestId('study-figure').scrollIntoViewIfNeeded();
			await screenshot(page, 'studies-figure-1280');

			// Realism and diversity of each source: two more columns and recall against accuracy.
			await page.getByRole('button', { name: 'Measure realism and diversity' }).click();
			await page
				.getByTestId('recall-accuracy-scatter')
				.locator('canvas')
				.waitFor({ timeout: 240_000 });
			expect(
				await table.getByRole('columnheader', { name: 'recall (diversity)', exact: true }).count()
			).toBe(1);
			expect(
				await table.locator('tr[data-row="dead_leaves-mixed"] td').last().textContent()
			).toMatch(/^\s*[01]\.\d{3}\s*$/);
			await page.getByTestId('study-realism').scrollIntoViewIfNeeded();
			await screenshot(page, 'studies-realism-1280');

			// CSV, as a spreadsheet would read it.
			const [download] = await Promise.all([
				page.waitForEvent('download'),
				page.getByRole('button', { name: 'Export CSV' }).click()
			]);
			expect(download.suggestedFilename()).toMatch(/^noiselab-study-\d+-.*\.csv$/);
			const rows = parseCsv(fs.readFileSync((await download.path()) ?? '', 'utf8'));
			expect(rows[0]?.slice(0, 5)).toEqual([
				'source',
				'label',
				'family',
				'kind',
				'paper_imagenet100_top1'
			]);
			expect(
				rows
					.slice(1)
					.map((cells) => cells[0])
					.sort()
			).toEqual([...chosen, 'random-init'].sort());

			const [png] = await Promise.all([
				page.waitForEvent('download'),
				page.getByRole('button', { name: 'Figure PNG' }).click()
			]);
			const bytes = fs.readFileSync((await png.path()) ?? '');
			expect([...bytes.subarray(1, 4)].map((byte) => String.fromCharCode(byte)).join('')).toBe(
				'PNG'
			);

			await page
				.getByTestId('study-view')
				.getByRole('heading', { level: 2 })
				.scrollIntoViewIfNeeded();
			await screenshot(page, 'studies-results-1280');
			const small = await browser.newPage({ viewport: { width: 1024, height: 700 } });
			await small.goto(`${app.server.url}#/studies`);
			await small.getByRole('button', { name: /^Open study / }).click();
			await small.getByTestId('study-results').waitFor();
			await screenshot(small, 'studies-results-1024');
			await small.getByRole('button', { name: '+ New study' }).click();
			await small.getByRole('heading', { name: 'New study' }).waitFor();
			await screenshot(small, 'studies-new-1024');
			await small.close();
			expect(errors).toEqual([]);
			await page.close();
		}
	);
});
