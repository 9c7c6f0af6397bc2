import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';
import { tinyGeneratorSource, tinyRunSettings, trainToCompletion } from '../support/train-runs';

/** The eight bytes every PNG file starts with. */
const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('metric charts: smoothing, log scale, x by step or wall time, hover read-out, PNG', () => {
	let app: TestServer;
	let browser: Browser;
	let page: Page;
	let errors: string[];

	beforeAll(async () => {
		app = await startTestServer();
		const api = await TestApiClient.connect(app);
		await trainToCompletion(api, 'charted', {
			source: tinyGeneratorSource,
			...tinyRunSettings,
			steps: 12,
			seed: 0
		});
		// A run as one logged before step times were recorded (migration 9): its steps have none.
		const old = await trainToCompletion(api, 'untimed', {
			source: tinyGeneratorSource,
			...tinyRunSettings,
			steps: 6,
			seed: 1
		});
		if (!app.context.store.ok) throw new Error(app.context.store.error.message);
		app.context.store.value.db
			.prepare('UPDATE run_metrics SET seconds = NULL WHERE run_id = ?')
			.run(old.run.id);
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
		errors = watchForErrors(page);
	});
	afterAll(async () => {
		await browser?.close();
		await app?.stop();
	});

	it('offers every chart’s tools on the run dashboard', async () => {
		await page.goto(`${app.server.url}#/train`);
		await page.getByTestId('runs-list').getByRole('button', { name: 'Open run charted' }).click();
		const loss = page.getByRole('figure').filter({ hasText: 'Loss' }).first();
		const plot = loss.getByRole('img', { name: /^Loss chart/ });
		await expect.poll(() => plot.locator('canvas').getAttribute('data-points')).toBe('12');

		// Hovering the plot reads the values at the step under the pointer.
		const box = await plot.boundingBox();
		if (!box) throw new Error('The loss chart has no box.');
		await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
		await expect
			.poll(() => loss.getByTestId('chart-readout').textContent())
			.toMatch(/^step \d+: loss -?\d+\.\d{4}$/);

		// Smoothing and log scale change what is drawn, not the logged data.
		const drawn = () =>
			plot.locator('canvas').evaluate((canvas) => (canvas as HTMLCanvasElement).toDataURL());
		const before = await drawn();
		await loss.getByRole('slider', { name: 'Loss smoothing' }).fill('0.9');
		await expect.poll(drawn).not.toBe(before);
		expect(await plot.locator('canvas').getAttribute('data-points')).toBe('12');
		// The contrastive loss is negative: a log axis would show nothing, so it is not offered.
		expect(await loss.getByRole('checkbox', { name: 'Log' }).isDisabled()).toBe(true);
		const rate = page.getByRole('figure').filter({ hasText: 'Throughput' }).first();
		const rateCanvas = rate.locator('canvas');
		const linear = await rateCanvas.evaluate((canvas) => (canvas as HTMLCanvasElement).toDataURL());
		await rate.getByRole('checkbox', { name: 'Log' }).check();
		await expect
			.poll(() => rateCanvas.evaluate((canvas) => (canvas as HTMLCanvasElement).toDataURL()))
			.not.toBe(linear);
		await screenshot(page, 'charts-dashboard');

		const [download] = await Promise.all([
			page.waitForEvent('download'),
			loss.getByRole('button', { name: 'Save the Loss chart as PNG' }).click()
		]);
		expect(download.suggestedFilename()).toBe('loss.png');
		expect([...fs.readFileSync(await download.path()).subarray(0, 8)]).toEqual(pngSignature);
		expect(errors).toEqual([]);
	});

	it('plots by wall time where the steps have times, and says why not where they have none', async () => {
		await page.goto(`${app.server.url}#/train`);
		await page.getByTestId('runs-list').getByRole('button', { name: 'Open run charted' }).click();
		const loss = page.getByRole('figure').filter({ hasText: 'Loss' }).first();
		const plot = loss.getByRole('img', { name: /^Loss chart/ });
		const canvas = plot.locator('canvas');
		await expect.poll(() => canvas.getAttribute('data-points')).toBe('12');
		const axis = loss.getByRole('checkbox', { name: 'Loss by wall time' });
		expect(await canvas.getAttribute('data-x-axis')).toBe('step');
		const byStep = await canvas.evaluate((node) => (node as HTMLCanvasElement).toDataURL());
		await axis.check();
		await expect.poll(() => canvas.getAttribute('data-x-axis')).toBe('time');
		await expect
			.poll(() => canvas.evaluate((node) => (node as HTMLCanvasElement).toDataURL()))
			.not.toBe(byStep);
		expect(await canvas.getAttribute('data-points')).toBe('12');
		const box = await plot.boundingBox();
		if (!box) throw new Error('The loss chart has no box.');
		await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
		await expect
			.poll(() => loss.getByTestId('chart-readout').textContent())
			.toMatch(/^(\d+(\.\d+)? s|\d+:\d\d) \(step \d+\): loss -?\d+\.\d{4}$/);
		await screenshot(page, 'charts-wall-time');
		await axis.uncheck();
		await expect.poll(() => canvas.getAttribute('data-x-axis')).toBe('step');

		await page.getByTestId('runs-list').getByRole('button', { name: 'Open run untimed' }).click();
		await expect.poll(() => canvas.getAttribute('data-points')).toBe('6');
		const untimed = loss.getByRole('checkbox', { name: 'Loss by wall time' });
		expect(await untimed.isDisabled()).toBe(true);
		expect(await untimed.getAttribute('title')).toMatch(/logged before NoiseLab recorded/);
		expect(await canvas.getAttribute('data-x-axis')).toBe('step');
		expect(errors).toEqual([]);
	});
});
