import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';

describe('the Studio’s realism measure and trained-encoder presets in Chromium (web mode)', () => {
	let app: TestServer;
	let browser: Browser;
	let page: Page;
	let errors: string[];

	beforeAll(async () => {
		app = await startTestServer();
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		errors = watchForErrors(page);
		await page.goto(`${app.server.url}#/generate`);
		await page.locator('[data-testid=preview-grid] canvas').first().waitFor();
	});
	afterAll(async () => {
		await browser?.close();
		await app?.stop();
	});

	it('measures precision and recall of the current settings against real images', async () => {
		await page.getByRole('button', { name: 'dead_leaves-squares', exact: true }).click();
		const section = page.getByTestId('precision-recall');
		await section.getByLabel('Real dataset').selectOption('fashion-mnist-mini');
		await section.getByLabel('Samples per side').fill('32');
		await section.getByRole('button', { name: 'Measure precision and recall' }).click();
		await section.getByTestId('recall').waitFor({ timeout: 60_000 });
		for (const id of ['precision', 'recall']) {
			const value = Number(await section.getByTestId(id).textContent());
			expect(value).toBeGreaterThanOrEqual(0);
			expect(value).toBeLessThanOrEqual(1);
		}
		await expect
			.poll(() => section.textContent())
			.toContain('of the 32 noise images lie inside the real images’ manifold');
		await expect.poll(() => section.textContent()).toContain('dead_leaves-squares · 128 px · seed');
		await section.scrollIntoViewIfNeeded();
		await screenshot(page, 'studio-precision-recall');
		expect(errors).toEqual([]);
	});

	it('says feature_vis-dead_leaves needs an encoder and starts the run that provides it', async () => {
		await page.getByRole('button', { name: 'feature_vis-dead_leaves', exact: true }).click();
		const missing = page.getByTestId('requirement-missing');
		await expect
			.poll(() => missing.textContent())
			.toContain('No completed run has trained on dead_leaves-mixed yet');
		expect(await page.getByRole('button', { name: 'Render 4 previews' }).isDisabled()).toBe(true);
		expect(await page.getByLabel('Encoder', { exact: true }).inputValue()).toBe(
			'newest:dead_leaves-mixed'
		);
		await missing.scrollIntoViewIfNeeded();
		await screenshot(page, 'studio-feature-vis-needs-encoder');

		await missing
			.getByRole('button', { name: 'Train tiny on dead_leaves-mixed (500 steps)' })
			.click();
		await expect
			.poll(() => page.getByRole('status').filter({ hasText: 'Started run' }).textContent())
			.toContain('Started run 1 “Encoder on dead_leaves-mixed” (see Train)');
		await expect
			.poll(() => missing.textContent())
			.toContain('Run 1 “Encoder on dead_leaves-mixed” is training on dead_leaves-mixed');
		const run = app.context.training.get(1).run;
		expect(run.config).toMatchObject({
			model: 'tiny',
			steps: 500,
			source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } }
		});
		// The suggested run takes minutes; stop it here.
		app.context.training.cancel(1);
		await app.context.training.idle();
		expect(errors).toEqual([]);
	});
});
