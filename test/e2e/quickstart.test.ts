import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';

describe('the quickstart card follows its evaluations as Evaluate does', () => {
	let app: TestServer;
	let browser: Browser;
	let page: Page;
	let errors: string[];

	beforeAll(async () => {
		app = await startTestServer();
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
		errors = watchForErrors(page);
	});
	afterAll(async () => {
		await browser?.close();
		await app?.stop();
	});

	it(
		'shows each role’s phase, count and outcome while it evaluates, then the results',
		{ timeout: 300_000 },
		async () => {
			await page.goto(`${app.server.url}#/evaluate`);
			const card = page.getByTestId('quickstart');
			// Every text the evaluation rows show, recorded as the page changes (phases can be brief).
			await page.evaluate(() => {
				const seen: string[] = [];
				(window as unknown as { quickstartTexts: string[] }).quickstartTexts = seen;
				new MutationObserver(() => {
					const rows = document.querySelector('[data-testid="quickstart-evaluation"]');
					const text = rows?.textContent?.replace(/\s+/g, ' ').trim();
					if (text && seen.at(-1) !== text) seen.push(text);
				}).observe(document.body, { subtree: true, childList: true, characterData: true });
			});
			// The quickstart at a few steps and epochs: the same stages as its defaults, in seconds.
			const api = await TestApiClient.connect(app);
			const started = await api.call('quickstart.start', { steps: 4, batch: 8, epochs: 3 });
			if (!started.ok) throw new Error(started.error.message);

			const rows = card.getByTestId('quickstart-evaluation');
			await rows.waitFor({ timeout: 120_000 });
			await screenshot(page, 'quickstart-evaluating-1280');
			await page.setViewportSize({ width: 1024, height: 700 });
			await screenshot(page, 'quickstart-evaluating-1024');
			await page.setViewportSize({ width: 1280, height: 800 });
			await expect
				.poll(() => card.getByRole('status').textContent(), { timeout: 240_000 })
				.toMatch(/Done/);
			expect(await rows.count()).toBe(0);

			const texts = await page.evaluate(
				() => (window as unknown as { quickstartTexts: string[] }).quickstartTexts
			);
			// Both datasets, both roles, with the phase's count (not dashes), then each role done.
			expect(texts).toContainEqual(expect.stringMatching(/^Dataset 1 of 2 Encoder/));
			expect(texts).toContainEqual(expect.stringMatching(/^Dataset 2 of 2 /));
			expect(texts).toContainEqual(
				expect.stringMatching(/Encoder .*(features|linear probe).* · \d+ \/ \d+/)
			);
			expect(texts).toContainEqual(
				expect.stringMatching(/Random init .*(features|linear probe).* · \d+ \/ \d+/)
			);
			expect(texts).toContainEqual(expect.stringMatching(/Encoder\s*Done\s*Random init/));
			expect(texts.some((text) => /—/.test(text))).toBe(false);
			const results = card.getByRole('table');
			expect(await results.locator('tbody tr').count()).toBe(2);
			expect(errors).toEqual([]);
		}
	);
});
