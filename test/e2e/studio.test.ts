import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';
import { failpointLauncher } from '../support/failpoints';
import { temporaryFolder } from '../support/paths';

/** A fingerprint of the first preview canvas, to see the grid change. */
const firstCanvas = (page: Page) =>
	page
		.locator('[data-testid=preview-grid] canvas')
		.first()
		.evaluate((canvas) => (canvas as HTMLCanvasElement).toDataURL());

const slope = async (page: Page) =>
	Number((await page.getByTestId('spectral-slope').textContent())?.split('±')[0]);

describe('the Generator Studio in Chromium (web mode)', () => {
	let app: TestServer;
	let browser: Browser;
	let page: Page;
	let errors: string[];
	const exports = temporaryFolder();
	const failpoints = failpointLauncher();

	beforeAll(async () => {
		app = await startTestServer(undefined, {
			allowFolders: [exports.path],
			launcher: failpoints.launcher
		});
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
		errors = watchForErrors(page);
		await page.goto(`${app.server.url}#/generate`);
		await page.locator('[data-testid=preview-grid] canvas').first().waitFor();
	});
	afterAll(async () => {
		await browser?.close();
		await app?.stop();
		exports.remove();
	});

	it('re-renders the grid and moves the fitted spectral slope when the slope slider moves', async () => {
		await page.getByRole('button', { name: 'stat-spectrum', exact: true }).click();
		await page.getByRole('heading', { name: 'Statistical image model' }).waitFor();
		await page.getByTestId('spectral-slope').waitFor({ timeout: 30_000 });
		await expect
			.poll(() => page.getByTestId('render-status').textContent())
			.toMatch(/16 images in \d+ ms/);
		const before = { image: await firstCanvas(page), slope: await slope(page) };
		await screenshot(page, 'studio-stat-spectrum');

		// Flatten the spectrum: amplitude slopes drawn from [0.5, 1] instead of [0.5, 3.5].
		const slopeHigh = page.getByRole('spinbutton', { name: 'Slope high value' });
		await slopeHigh.fill('1');
		await slopeHigh.press('Tab');
		await expect.poll(() => page.getByTestId('value-slopeHigh').textContent()).toBe('1');
		await expect.poll(() => firstCanvas(page), { timeout: 30_000 }).not.toBe(before.image);
		await expect.poll(() => slope(page), { timeout: 30_000 }).toBeLessThan(before.slope - 0.5);
		expect(errors).toEqual([]);
	});

	it('keeps a keyboard-accessible slider with a visible label and value', async () => {
		const slider = page.getByRole('slider', { name: 'Slope low' });
		await slider.focus();
		const start = await page.getByTestId('value-slopeLow').textContent();
		await page.keyboard.press('ArrowRight');
		await expect.poll(() => page.getByTestId('value-slopeLow').textContent()).not.toBe(start);
	});

	it('refuses seed −5 with its range and keeps the grid, then draws a valid seed', async () => {
		const seed = page.getByRole('spinbutton', { name: 'Seed', exact: true });
		const before = await firstCanvas(page);
		await seed.fill('-5');
		await seed.press('Tab');
		const problem = page.locator('#studio-seed-error');
		await expect
			.poll(() => problem.textContent())
			.toMatch(/^\s*The seed must be a whole number from 0 to 4,294,967,295; got -5\.\s*$/);
		expect(await problem.getAttribute('role')).toBe('alert');
		expect(await seed.getAttribute('aria-invalid')).toBe('true');
		expect(await seed.getAttribute('aria-describedby')).toBe('studio-seed-error');
		// Refused, not clamped: the grid still shows the previous seed's images.
		expect(await firstCanvas(page)).toBe(before);

		await seed.fill('7');
		await seed.press('Tab');
		await problem.waitFor({ state: 'detached' });
		expect(await seed.getAttribute('aria-invalid')).toBeNull();
		await expect.poll(() => firstCanvas(page), { timeout: 30_000 }).not.toBe(before);
		expect(errors).toEqual([]);
	});

	it('reaches the parameters with one Tab and Enter, and shows their help without hovering', async () => {
		await page.reload();
		await page.locator('[data-testid=preview-grid] canvas').first().waitFor();
		await page.keyboard.press('Tab');
		expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(
			'Skip to parameters'
		);
		await page.keyboard.press('Enter');
		expect(
			await page.evaluate(() => document.activeElement?.closest('#params-panel') !== null)
		).toBe(true);
		const help = page.locator('#params-panel .param-help');
		expect(await help.count()).toBe(0);
		await page.getByRole('button', { name: 'Show help' }).click();
		await expect.poll(() => help.count()).toBeGreaterThan(0);
		expect(await help.first().isVisible()).toBe(true);
		await screenshot(page, 'studio-help-shown');
		await page.getByRole('button', { name: 'Hide help' }).click();
	});

	it('renders a slow generator only on request, filling the grid image by image', async () => {
		await page.getByRole('button', { name: 'feature_vis-random', exact: true }).click();
		const render = page.getByRole('button', { name: 'Render 4 previews' });
		await render.waitFor();
		expect(await page.getByTestId('render-status').textContent()).not.toContain('Rendering');
		// Cheap settings, so that the test takes seconds: the small network, 2 steps, 32 px.
		await page.getByLabel('Network', { exact: true }).selectOption('small');
		const steps = page.getByRole('spinbutton', { name: 'Steps value' });
		await steps.fill('2');
		await steps.press('Tab');
		await page.getByRole('toolbar').getByLabel('Size').selectOption('32');
		await render.click();
		await expect
			.poll(() => page.locator('[data-testid=preview-grid] canvas').count(), { timeout: 60_000 })
			.toBe(4);
		await expect
			.poll(() => page.getByTestId('render-status').textContent(), { timeout: 60_000 })
			.toMatch(/4 images in \d+ ms/);
		await page.getByRole('button', { name: 'stat-spectrum', exact: true }).click();
		await expect
			.poll(() => page.getByRole('heading', { name: 'Statistical image model' }).count())
			.toBe(1);
	});

	it('drops an expensive preset’s late answer, and renders it only on request with a Stop that works per image', async () => {
		const status = page.getByTestId('render-status');
		await page.getByRole('button', { name: 'dead_leaves-squares', exact: true }).click();
		await page.getByRole('toolbar').getByLabel('Grid').selectOption('4');
		await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/16 images in/);
		const squares = await firstCanvas(page);
		// stylegan-random at 256 px takes about a minute per image on a CPU: its cost is measured
		// on the first image, and the user moves on before that image is done.
		await page.getByRole('button', { name: 'stylegan-random', exact: true }).click();
		await expect.poll(() => status.textContent()).toBe('Measuring the preview cost…');
		await page.getByRole('button', { name: 'dead_leaves-oriented', exact: true }).click();
		await expect
			.poll(() => status.textContent(), { timeout: 60_000 })
			.toMatch(/^16 images in \d+ ms$/);
		// The stylegan worker was stopped; the oriented grid was drawn on a fresh one, not failed.
		expect(await page.getByRole('alert').count()).toBe(0);
		expect(await firstCanvas(page)).not.toBe(squares);
		expect(await page.locator('[data-testid=preview-grid] canvas').count()).toBe(16);

		// At 32 px stylegan still costs far more than the threshold per grid: it waits for a click
		// on a 2×2 grid, keeping the image that measured it.
		await page.getByRole('button', { name: 'stylegan-random', exact: true }).click();
		await page.getByRole('toolbar').getByLabel('Size').selectOption('32');
		const onRequest = page.getByTestId('on-request');
		const remaining = onRequest.getByRole('button', { name: /^Render the remaining \d previews$/ });
		await remaining.waitFor({ timeout: 120_000 });
		await expect(onRequest.textContent()).resolves.toMatch(/per image here \(measured\)/);
		expect(await page.getByRole('toolbar').getByLabel('Grid').inputValue()).toBe('2');
		const before = await page.locator('[data-testid=preview-grid] canvas').count();
		expect(before).toBeGreaterThanOrEqual(1);
		await remaining.click();
		await onRequest.getByRole('progressbar', { name: 'Previews drawn' }).waitFor();
		await onRequest.getByRole('button', { name: 'Stop' }).click();
		// The image being drawn finishes; no further one starts.
		await remaining.waitFor({ timeout: 120_000 });
		const after = await page.locator('[data-testid=preview-grid] canvas').count();
		expect(after).toBeGreaterThan(before);
		expect(after).toBeLessThan(4);
		await screenshot(page, 'studio-expensive-on-request');
		expect(await page.getByRole('alert').count()).toBe(0);
	});

	it('saves a preset that is still there after a reload', async () => {
		await page.getByRole('button', { name: 'stat-spectrum', exact: true }).click();
		const slopeHigh = page.getByRole('spinbutton', { name: 'Slope high value' });
		await slopeHigh.fill('1');
		await slopeHigh.press('Tab');
		await expect.poll(() => page.getByTestId('value-slopeHigh').textContent()).toBe('1');
		await page.getByLabel('Save as preset').fill('Flat spectra');
		await page.getByRole('button', { name: 'Save', exact: true }).click();
		await page
			.getByTestId('user-presets')
			.getByRole('button', { name: 'Flat spectra', exact: true })
			.waitFor();
		await page.reload();
		await page
			.getByTestId('user-presets')
			.getByRole('button', { name: 'Flat spectra', exact: true })
			.click();
		await expect.poll(() => page.getByTestId('value-slopeHigh').textContent()).toBe('1');
	});

	it('exports 50 images with progress, and they are on disk with a manifest', async () => {
		const outDir = path.join(exports.path, 'flat');
		await page.getByLabel('Images').fill('50');
		await page.getByLabel('Destination folder').fill(outDir);
		await page.getByRole('button', { name: 'Export', exact: true }).click();
		await page
			.getByTestId('export-outcome')
			.getByText('Done: 50 images')
			.waitFor({ timeout: 60_000 });
		const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as {
			complete: boolean;
			written: number;
			params: { slopeHigh: number };
		};
		expect(manifest).toMatchObject({ complete: true, written: 50, params: { slopeHigh: 1 } });
		expect(fs.readdirSync(path.join(outDir, '00000000'))).toHaveLength(50);
	});

	it(
		'cancels an export midway and resumes it from the recent exports',
		{ timeout: 120_000 },
		async () => {
			const outDir = path.join(exports.path, 'squares');
			await page.getByRole('button', { name: 'dead_leaves-squares', exact: true }).click();
			await page.getByLabel('Images').fill('3000');
			await page.getByLabel('Destination folder').fill(outDir);
			// The export's worker holds after 200 images (a failpoint) until the cancel: on a fast
			// machine the 3000 images were written before the Cancel button could be clicked.
			failpoints.arm('export.hold-after-images=200');
			await page.getByRole('button', { name: 'Export', exact: true }).click();
			await expect
				.poll(() => page.getByTestId('export-progress').textContent(), { timeout: 30_000 })
				.toMatch(/[1-9]\d* \/ 3000/);
			failpoints.arm(null);
			await screenshot(page, 'studio-export');
			await page.getByRole('button', { name: 'Cancel', exact: true }).click();
			await page
				.getByTestId('export-outcome')
				.getByText('Export again to the same folder to resume')
				.waitFor({ timeout: 30_000 });
			const manifest = () =>
				JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as {
					complete: boolean;
					written: number;
				};
			expect(manifest().complete).toBe(false);
			expect(manifest().written).toBeLessThan(3000);
			const recent = page.getByRole('listitem').filter({ hasText: outDir });
			await recent.getByRole('button', { name: 'Resume' }).click();
			await page
				.getByTestId('export-outcome')
				.getByText('Done: 3000 images')
				.waitFor({ timeout: 90_000 });
			expect(manifest()).toMatchObject({ complete: true, written: 3000 });
			expect(errors).toEqual([]);
		}
	);
});
