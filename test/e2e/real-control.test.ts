import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/api/training';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';
import { writeToyImageFolder } from '../support/image-folder';
import { temporaryFolder } from '../support/paths';
import {
	tinyGeneratorSource,
	tinyRunSettings,
	trainToCompletion,
	waitForCompletion
} from '../support/train-runs';

describe('the real-data control without the command line (web mode)', () => {
	const datasetRoot = temporaryFolder('noiselab-control-');
	const datasetPath = path.join(datasetRoot.path, 'toy-shapes');
	let app: TestServer;
	let api: TestApiClient;
	let browser: Browser;
	let page: Page;
	let errors: string[];
	let noise: RunRecord;

	beforeAll(async () => {
		await writeToyImageFolder(datasetPath, { perClass: 6, size: 32 });
		app = await startTestServer(undefined, { allowFolders: [datasetRoot.path] });
		api = await TestApiClient.connect(app);
		noise = (
			await trainToCompletion(api, 'noise-for-control', {
				source: tinyGeneratorSource,
				...tinyRunSettings,
				steps: 4
			})
		).run;
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
		errors = watchForErrors(page);
	}, 120_000);
	afterAll(async () => {
		api?.close();
		await browser?.close();
		await app?.stop();
		datasetRoot.remove();
	});

	it('trains the control from Evaluate with the evaluated run’s budget on the dataset’s training split', async () => {
		await page.goto(`${app.server.url}#/evaluate`);
		await page.getByLabel('Run', { exact: true }).selectOption(String(noise.id));
		await page.getByLabel('Dataset', { exact: true }).selectOption('fashion-mnist-mini');
		await page.getByRole('button', { name: 'Train the real-data control' }).click();
		const notice = page.getByTestId('real-control-notice');
		await expect.poll(() => notice.textContent()).toMatch(/Started run \d+/);
		const id = Number(/Started run (\d+)/.exec((await notice.textContent()) ?? '')?.[1]);
		const control = (await waitForCompletion(api, id)).run;
		expect(control.config.source).toEqual({
			kind: 'dataset',
			dataset: 'fashion-mnist-mini',
			splitSeed: 0
		});
		const { source: controlSource, ...controlBudget } = control.config;
		const { source: noiseSource, ...noiseBudget } = noise.config;
		void [controlSource, noiseSource];
		expect(controlBudget).toEqual(noiseBudget);
		expect(control.sourceLabel).toMatch(/fashion-mnist-mini · training split · 5,000 images/);
		await expect.poll(() => page.getByLabel('Real-data run').inputValue()).toBe(String(control.id));
		await screenshot(page, 'evaluate-real-control-1280x800');
	});

	it('browses the host’s allowed folders to pick a dataset for Train, and nothing outside them', async () => {
		await page.goto(`${app.server.url}#/train`);
		await page.getByRole('heading', { name: 'New training run' }).waitFor();
		await page.getByRole('radio', { name: 'Real dataset (training split)' }).check();
		await page.getByRole('button', { name: 'Other folder…' }).click();
		const dialog = page.getByTestId('folder-browser');
		const root = fs.realpathSync(datasetRoot.path);
		await dialog.getByRole('button', { name: root }).click();
		await expect.poll(() => dialog.getByTestId('folder-browser-path').textContent()).toMatch(root);
		// A starting point has no way up out of what the policy allows.
		await expect.poll(() => dialog.getByRole('button', { name: 'Up' }).count()).toBe(0);
		await dialog.getByRole('button', { name: 'toy-shapes' }).click();
		await expect
			.poll(() => dialog.getByTestId('folder-browser-path').textContent())
			.toMatch(/toy-shapes$/);
		await screenshot(page, 'train-folder-browser-1280x800');
		await dialog.getByRole('button', { name: 'Choose this folder' }).click();
		await expect
			.poll(() => page.getByLabel('Dataset', { exact: true }).inputValue())
			.toBe(path.join(root, 'toy-shapes'));
		expect(errors).toEqual([]);
	});
});
