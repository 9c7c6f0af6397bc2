import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/api/training';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';
import { writeToyImageFolder } from '../support/image-folder';
import { temporaryFolder } from '../support/paths';
import { tinyGeneratorSource, tinyRunSettings, trainToCompletion } from '../support/train-runs';

/** The sizes NoiseLab supports, smallest first. */
const viewports = [
	{ width: 1024, height: 700 },
	{ width: 1280, height: 800 }
] as const;

/** How far an element's content sticks out of its box to the right, in px (0: it fits; 1 px of rounding allowed). */
async function overflowRight(page: Page, selector: string): Promise<number> {
	return page.evaluate((query) => {
		const element = document.querySelector(query);
		if (!element) return -1;
		const overflow = element.scrollWidth - element.clientWidth;
		return overflow <= 1 ? 0 : overflow;
	}, selector);
}

/**
 * Whether the Runs table's sticky Actions column covers a data cell of the first row while the
 * table is scrolled to its start: the cells it hides are the ones the user came for.
 */
async function actionsCoverData(page: Page): Promise<boolean> {
	return page.evaluate(() => {
		const row = document.querySelector('[data-testid="runs-table"] tbody tr');
		const actions = row?.querySelector('td.actions')?.getBoundingClientRect();
		const wrapper = document.querySelector('[data-testid="runs-table"]')?.parentElement;
		if (!row || !actions || !wrapper) return false;
		wrapper.scrollLeft = 0;
		const visibleRight = wrapper.getBoundingClientRect().right;
		return [...row.querySelectorAll('td:not(.actions), th')].some((cell) => {
			const box = cell.getBoundingClientRect();
			// A cell that starts left of the Actions column and runs under it, inside the view.
			return box.left < actions.left && box.right > actions.left + 1 && box.left < visibleRight;
		});
	});
}

describe('the workbench at 1024×700 and 1280×800 (web mode)', () => {
	const datasetRoot = temporaryFolder('noiselab-layout-');
	let app: TestServer;
	let api: TestApiClient;
	let browser: Browser;
	let noise: RunRecord;

	beforeAll(async () => {
		const real = path.join(datasetRoot.path, 'toy-real-photos');
		await writeToyImageFolder(real, { perClass: 6, size: 32 });
		app = await startTestServer(undefined, { allowFolders: [datasetRoot.path] });
		api = await TestApiClient.connect(app);
		noise = (
			await trainToCompletion(api, 'dead-leaves-squares-noise-run-with-a-long-name', {
				source: tinyGeneratorSource,
				...tinyRunSettings,
				steps: 4
			})
		).run;
		const control = (
			await trainToCompletion(api, 'real-data-control-on-the-toy-photos', {
				source: { kind: 'folder', path: real },
				...tinyRunSettings,
				steps: 4
			})
		).run;
		const started = await api.call('evaluations.start', {
			runId: noise.id,
			dataset: 'fashion-mnist-mini',
			protocol: 'knn',
			realRunId: control.id,
			maxTrain: 200
		});
		if (!started.ok) throw new Error(started.error.message);
		for (;;) {
			const listed = await api.call('evaluations.list', {});
			if (!listed.ok) throw new Error(listed.error.message);
			const group = listed.value.filter((record) => record.groupId === started.value.groupId);
			if (group.every((record) => record.status !== 'running')) break;
			await new Promise((resolve) => setTimeout(resolve, 200));
		}
		browser = await launchChromium();
	}, 180_000);
	afterAll(async () => {
		api?.close();
		await browser?.close();
		await app?.stop();
		datasetRoot.remove();
	});

	for (const viewport of viewports) {
		const size = `${viewport.width}x${viewport.height}`;

		it(`lays out every area at ${size} without cutting content off`, async () => {
			// A fresh page per size: each area starts as a first visit would show it.
			const page = await browser.newPage({ viewport });
			const errors = watchForErrors(page);
			const areas: [string, string, () => Promise<void>][] = [
				[
					'generate',
					'Generator Studio',
					// The first visit measures the preview cost, then fills the 4×4 grid.
					async () => {
						await page
							.getByTestId('preview-grid')
							.getByRole('button')
							.nth(15)
							.waitFor({ timeout: 60_000 });
						expect(await overflowRight(page, '[data-testid="preview-grid"]')).toBe(0);
					}
				],
				['train', 'New training run', async () => undefined],
				['evaluate', 'New evaluation', async () => undefined],
				['studies', 'Studies', async () => undefined],
				['runs', 'Runs', async () => undefined],
				['explain', 'Explain', async () => undefined],
				['settings', 'Settings', async () => undefined]
			];
			for (const [area, heading, ready] of areas) {
				await page.goto(`${app.server.url}#/${area}`);
				await page.getByRole('heading', { name: heading }).first().waitFor();
				await ready();
				// The page itself never scrolls sideways; wide tables scroll inside their own box.
				expect(await overflowRight(page, 'main'), `${area} at ${size}`).toBe(0);
				if (area === 'evaluate') {
					// The results keep their control and gap-closed columns in view.
					await page.locator('.results-table tbody tr').first().waitFor();
					expect(await overflowRight(page, '.results-table'), `results at ${size}`).toBe(0);
				}
				await screenshot(page, `layout-${area}-${size}`);
			}
			await page.goto(`${app.server.url}#/train`);
			await page
				.getByTestId('runs-list')
				.getByRole('button', { name: `Open run ${noise.name}` })
				.click();
			await page.getByTestId('run-dashboard').waitFor();
			expect(await overflowRight(page, 'main'), `train dashboard at ${size}`).toBe(0);
			await screenshot(page, `layout-train-dashboard-${size}`);

			await page.goto(`${app.server.url}#/runs`);
			await page.getByTestId('runs-table').locator('tbody tr').first().waitFor();
			expect(await actionsCoverData(page), `Runs table at ${size}`).toBe(false);
			expect(errors).toEqual([]);
			await page.close();
		});
	}

	it('brings Train’s first invalid field into view and says what was wrong (seed −5 is refused)', async () => {
		const page = await browser.newPage({ viewport: viewports[0] });
		const errors = watchForErrors(page);
		await page.goto(`${app.server.url}#/train`);
		await page.getByRole('heading', { name: 'New training run' }).waitFor();
		const seed = page.getByLabel('Run seed');
		// The seed sits behind the closed Advanced disclosure, far below the fold.
		await page.locator('details.advanced').evaluate((details) => {
			(details as HTMLDetailsElement).open = true;
		});
		await seed.fill('-5');
		await page.locator('details.advanced').evaluate((details) => {
			(details as HTMLDetailsElement).open = false;
		});
		await page.getByRole('button', { name: 'Start training' }).click();
		await expect.poll(() => seed.evaluate((input) => input === document.activeElement)).toBe(true);
		const box = await seed.boundingBox();
		expect(box && box.y >= 0 && box.y + box.height <= viewports[0].height).toBe(true);
		expect(await page.locator('#run-seed-error').textContent()).toBe('At least 0.');
		await screenshot(page, 'train-invalid-seed-1024x700');
		expect(errors).toEqual([]);
		await page.close();
	});
});
