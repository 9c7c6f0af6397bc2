import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/api/training';
import { checkpointMagic } from '../../src/core/training/checkpoint';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';
import { temporaryFolder } from '../support/paths';
import { tinyGeneratorSource, tinyRunSettings, trainToCompletion } from '../support/train-runs';

/** The magic and the `format` tag of a bundle's header, read here rather than with its decoder. */
function bundleHeader(file: string): { magic: string; format: unknown } {
	const bytes = fs.readFileSync(file);
	const headerLength = bytes.readUInt32LE(8);
	const header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8')) as {
		meta: { format?: unknown };
	};
	return { magic: bytes.subarray(0, 4).toString('latin1'), format: header.meta.format };
}

/** The mean of an `rgb(r, g, b)` colour's channels, 0 (black) to 1 (white). */
function lightness(colour: string): number {
	const channels = (colour.match(/\d+/g) ?? []).slice(0, 3).map(Number);
	expect(channels).toHaveLength(3);
	return channels.reduce((sum, channel) => sum + channel, 0) / (3 * 255);
}

describe('run bundles from the Runs page in Chromium (web mode)', () => {
	const bundles = temporaryFolder('noiselab-bundles-');
	let app: TestServer;
	let api: TestApiClient;
	let browser: Browser;
	let page: Page;
	let errors: string[];
	let source: RunRecord;

	beforeAll(async () => {
		app = await startTestServer(undefined, { allowFolders: [bundles.path] });
		api = await TestApiClient.connect(app);
		source = (
			await trainToCompletion(api, 'Bundle source – tiny', {
				source: tinyGeneratorSource,
				...tinyRunSettings,
				steps: 4
			})
		).run;
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
		errors = watchForErrors(page);
	}, 90_000);
	afterAll(async () => {
		api?.close();
		await browser?.close();
		await app?.stop();
		bundles.remove();
	});

	/** The open dialog with this heading. */
	const dialog = (heading: RegExp) =>
		page.locator('dialog[open]').filter({ has: page.getByRole('heading', { name: heading }) });

	it('writes a run into a bundle file through the Bundle dialog', async () => {
		await page.goto(`${app.server.url}#/runs`);
		await page.locator(`tr[data-run-id="${source.id}"]`).waitFor();
		await page.getByRole('button', { name: `Bundle ${source.name} into a file` }).click();
		const bundle = dialog(/^Bundle “Bundle source – tiny”$/);
		await bundle.waitFor();

		// The file name is derived from the run, and the path shown follows the folder typed.
		const fileName = `bundle-source-tiny-run${source.id}.nlrun`;
		expect(await bundle.getByLabel('File name').inputValue()).toBe(fileName);
		await bundle.getByLabel('Folder').fill('bundles');
		await expect(bundle.getByTestId('bundle-target').count()).resolves.toBe(0);
		await bundle.getByRole('button', { name: 'Write bundle' }).click();
		await expect(bundle.getByRole('alert').textContent()).resolves.toContain(
			'“bundles” is not an absolute path'
		);

		// A folder that does not exist: the API's error and its hint are shown.
		const missing = path.join(bundles.path, 'missing');
		await bundle.getByLabel('Folder').fill(`${missing}/`);
		expect(await bundle.getByTestId('bundle-target').textContent()).toBe(
			path.join(missing, fileName)
		);
		await bundle.getByRole('button', { name: 'Write bundle' }).click();
		const failure = bundle.getByRole('alert');
		await failure.waitFor();
		expect(await failure.textContent()).toContain(`Cannot write ${path.join(missing, fileName)}`);
		expect(fs.existsSync(missing)).toBe(false);

		await bundle.getByLabel('Folder').fill(bundles.path);
		await bundle.getByRole('button', { name: 'Write bundle' }).click();
		const written = path.join(bundles.path, fileName);
		const status = bundle.getByRole('status');
		await expect
			.poll(() => status.textContent(), { timeout: 20_000 })
			.toMatch(new RegExp(`^\\s*Wrote ${written.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`));
		await expect(bundle.getByRole('alert').count()).resolves.toBe(0);

		const { size } = fs.statSync(written);
		// The size shown is the file's, in kB or MB with one decimal at this scale.
		const shown = /\((\d+(?:\.\d)?) (kB|MB)\)/.exec((await status.textContent()) ?? '');
		expect(shown).not.toBeNull();
		const factor = shown?.[2] === 'MB' ? 1e6 : 1e3;
		expect(Math.abs(Number(shown?.[1]) * factor - size)).toBeLessThanOrEqual(0.05 * factor);
		expect(bundleHeader(written)).toEqual({
			magic: checkpointMagic,
			format: 'noiselab-run-bundle'
		});
		await screenshot(page, 'runs-bundle-written-light');

		await bundle.getByRole('button', { name: 'Close' }).click();
		await expect(page.locator('dialog[open]').count()).resolves.toBe(0);
	});

	it('imports that bundle through the Import dialog and lists the new run', async () => {
		const written = path.join(bundles.path, `bundle-source-tiny-run${source.id}.nlrun`);
		await page.getByRole('button', { name: 'Import bundle…' }).click();
		const importer = dialog(/^Import a run bundle$/);
		await importer.waitFor();
		// The bundle just written is offered; the extension is added to a name without one.
		expect(await importer.getByLabel('Bundle file').inputValue()).toBe(written);
		await importer.getByLabel('Bundle file').fill(written.replace(/\.nlrun$/, ''));
		expect(await importer.getByTestId('import-target').textContent()).toBe(written);
		await importer.getByRole('button', { name: 'Import', exact: true }).click();

		const listed = await (async () => {
			for (;;) {
				const runs = await api.call('runs.list', {});
				if (!runs.ok) throw new Error(runs.error.message);
				const imported = runs.value.find((run) => run.id !== source.id);
				if (imported) return imported;
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
		})();
		expect(listed.name).toBe(`${source.name} (imported)`);
		expect(listed.config).toEqual(source.config);
		expect(listed.step).toBe(source.step);
		await expect
			.poll(() => importer.getByRole('status').textContent())
			.toBe(`Imported as run ${listed.id}: “${listed.name}”.`);
		const row = page.locator(`tr[data-run-id="${listed.id}"]`);
		await row.waitFor();
		expect(await row.locator('.name-text').textContent()).toBe(listed.name);
		await expect(page.getByRole('status').filter({ hasText: 'of 2 runs' }).count()).resolves.toBe(
			1
		);
		await screenshot(page, 'runs-import-done-light');
		await importer.getByRole('button', { name: 'Close' }).click();

		// Importing something that is not a bundle shows the API's error.
		await page.getByRole('button', { name: 'Import bundle…' }).click();
		const notBundle = path.join(bundles.path, 'notes.txt');
		fs.writeFileSync(notBundle, 'not a bundle');
		await importer.getByLabel('Bundle file').fill(notBundle);
		await importer.getByRole('button', { name: 'Import', exact: true }).click();
		await expect
			.poll(() => importer.getByRole('alert').textContent())
			.toContain(`Cannot import ${notBundle}`);
		await importer.getByRole('button', { name: 'Cancel' }).click();
		expect(errors).toEqual([]);
	});

	it('shows both dialogs legibly in the dark theme', async () => {
		const dark = await browser.newPage({
			viewport: { width: 1280, height: 800 },
			colorScheme: 'dark'
		});
		const darkErrors = watchForErrors(dark);
		await dark.goto(`${app.server.url}#/runs`);
		await dark.locator(`tr[data-run-id="${source.id}"]`).waitFor();
		await dark.getByRole('button', { name: `Bundle ${source.name} into a file` }).click();
		const bundle = dark.locator('dialog[open]');
		await bundle.getByLabel('Folder').fill(bundles.path);
		await bundle.getByRole('button', { name: 'Write bundle' }).click();
		await expect
			.poll(() => bundle.getByRole('status').textContent(), { timeout: 20_000 })
			.toContain('Wrote ');
		// The dialog follows the dark theme: light text on a dark surface.
		const colours = await bundle.evaluate((element) => {
			const style = getComputedStyle(element);
			return { text: style.color, background: style.backgroundColor };
		});
		expect(lightness(colours.background)).toBeLessThan(0.25);
		expect(lightness(colours.text)).toBeGreaterThan(0.75);
		await screenshot(dark, 'runs-bundle-written-dark');
		await bundle.getByRole('button', { name: 'Close' }).click();

		await dark.getByRole('button', { name: 'Import bundle…' }).click();
		const importer = dark.locator('dialog[open]');
		await importer.getByLabel('Bundle file').fill('relative.nlrun');
		await importer.getByRole('button', { name: 'Import', exact: true }).click();
		await importer.getByRole('alert').waitFor();
		await screenshot(dark, 'runs-import-error-dark');
		expect(darkErrors).toEqual([]);
		await dark.close();
	});
});
