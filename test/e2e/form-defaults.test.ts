import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, watchForErrors } from '../support/browser';

/**
 * Every control on the page that the browser's own constraint validation refuses (a default off
 * its field's `step`, below `min`, …), named by its label, with the browser's message. A form
 * whose default fails here cannot be submitted as it opens. A required text field left empty for
 * the user (a preset name, a destination folder) has no default to check.
 */
function invalidControls(page: Page): Promise<string[]> {
	return page.evaluate(() =>
		[
			...document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
				'main input, main select, main textarea'
			)
		]
			.filter(
				(control) =>
					!control.disabled &&
					!control.checkValidity() &&
					!(control.validity.valueMissing && control.type !== 'number')
			)
			.map((control) => {
				const label =
					control.labels?.[0]?.textContent?.trim() ||
					control.getAttribute('aria-label') ||
					control.id ||
					control.name;
				return `${label} = ${JSON.stringify(control.value)}: ${control.validationMessage}`;
			})
	);
}

describe('every form in the renderer opens with defaults that pass its own validation', () => {
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

	/** Opens an area and waits for its heading, then for `ready` (a control of its form). */
	async function visit(hash: string, heading: string | RegExp): Promise<void> {
		await page.goto(`${app.server.url}${hash}`);
		await page.getByRole('heading', { name: heading, level: 1 }).first().waitFor();
	}

	it('Generate, Train, Evaluate, Settings', async () => {
		await visit('#/generate', 'Generator Studio');
		await page.getByTestId('preview-grid').getByRole('button').first().waitFor();
		expect(await invalidControls(page)).toEqual([]);
		await visit('#/train', 'Training lab');
		await page.getByRole('spinbutton').first().waitFor();
		expect(await invalidControls(page)).toEqual([]);
		await visit('#/evaluate', 'Evaluation');
		await page.locator('main form').first().waitFor();
		expect(await invalidControls(page)).toEqual([]);
		await visit('#/settings', 'Settings');
		await page.getByTestId('doctor-report').waitFor();
		expect(await invalidControls(page)).toEqual([]);
		expect(errors).toEqual([]);
	});

	it('Studies → New study', async () => {
		await visit('#/studies', 'Studies');
		await page.getByRole('button', { name: '+ New study' }).click();
		await page.getByRole('spinbutton').first().waitFor();
		expect(await invalidControls(page)).toEqual([]);
		expect(errors).toEqual([]);
	});

	it('every section of Explain', async () => {
		await visit('#/explain', 'Explain');
		const tabs = page.getByRole('tablist', { name: 'Explain sections' }).getByRole('tab');
		await tabs.first().waitFor();
		const count = await tabs.count();
		expect(count).toBeGreaterThanOrEqual(4);
		for (let position = 0; position < count; position++) {
			const tab = tabs.nth(position);
			await tab.click();
			await page.locator(`#${await tab.getAttribute('aria-controls')}`).waitFor();
			expect({
				tab: await tab.textContent(),
				invalid: await invalidControls(page)
			}).toEqual({ tab: await tab.textContent(), invalid: [] });
		}
		expect(errors).toEqual([]);
	});
});
