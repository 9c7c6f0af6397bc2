import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/api/training';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, watchForErrors } from '../support/browser';
import { artefactsDir, repoRoot } from '../support/paths';
import { tinyGeneratorSource, tinyRunSettings, trainToCompletion } from '../support/train-runs';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'torch', 'resnet50-w8.pth');

async function screenshot(page: Page, name: string): Promise<void> {
	const folder = path.join(artefactsDir, 'screenshots');
	fs.mkdirSync(folder, { recursive: true });
	await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
}

describe('external encoders in Chromium (web mode)', () => {
	let app: TestServer;
	let api: TestApiClient;
	let browser: Browser;
	let page: Page;
	let errors: string[];
	let trained: RunRecord;
	let importedId: number;

	beforeAll(async () => {
		// The fixture lives in the repository: allow its folder, as a user would in Settings.
		app = await startTestServer(undefined, { allowFolders: [path.dirname(fixture)] });
		api = await TestApiClient.connect(app);
		trained = (
			await trainToCompletion(api, 'noise-run', {
				source: tinyGeneratorSource,
				...tinyRunSettings,
				steps: 6
			})
		).run;
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
		errors = watchForErrors(page);
	}, 150_000);

	afterAll(async () => {
		api?.close();
		await browser?.close();
		await app?.stop();
	});

	it('imports the MoCo ResNet-50 fixture from Runs', { timeout: 60_000 }, async () => {
		await page.goto(`${app.server.url}#/runs`);
		await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
		await page.getByRole('button', { name: 'Import encoder…' }).click();
		await page.getByLabel('Checkpoint file').fill(fixture);
		// 64 px keeps the CPU evaluation short; the import's default is 224.
		await page.getByLabel('Input size (px)').fill('64');
		await page.getByLabel('Name', { exact: true }).fill('moco-w8');
		await page.getByLabel('Licence').fill('MIT');
		await page.getByRole('button', { name: 'Import', exact: true }).click();
		const done = page.getByTestId('encoder-imported');
		await done.waitFor({ timeout: 30_000 });
		const text = (await done.textContent()) ?? '';
		expect(text).toMatch(/Imported as run (\d+): “moco-w8”, ResNet-50 \(width 1\/8\), 64 px\./);
		importedId = Number(/run (\d+)/.exec(text)?.[1]);
		expect(await page.locator('dialog ul.notes').textContent()).toContain('module.encoder_q.');
		await screenshot(page, 'interop-import');
		await page.getByRole('button', { name: 'Close' }).click();
		const row = page.locator('tr', { hasText: 'moco-w8' });
		await expect.poll(() => row.textContent()).toMatch(/resnet50\s*imported/);
	});

	it('evaluates it with kNN on fashion-mnist-mini', { timeout: 120_000 }, async () => {
		await page.goto(`${app.server.url}#/evaluate`);
		await page.getByRole('heading', { name: 'New evaluation' }).waitFor();
		const runSelect = page.getByLabel('Run', { exact: true });
		await runSelect.locator(`option[value="${importedId}"]`).waitFor({ state: 'attached' });
		await runSelect.selectOption(String(importedId));
		await page.getByLabel('Dataset', { exact: true }).selectOption('fashion-mnist-mini');
		await page.getByRole('radio', { name: 'kNN' }).check();
		await page.locator('summary', { hasText: 'Advanced' }).click();
		await page.getByLabel('Max training images').fill('500');
		await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
		const progress = page.getByTestId('evaluation-progress');
		await progress.waitFor();
		await progress.waitFor({ state: 'detached', timeout: 100_000 });
		const listed = await api.call('evaluations.list', { runId: importedId });
		if (!listed.ok) throw new Error(listed.error.message);
		const encoder = listed.value.find((record) => record.role === 'encoder');
		expect(encoder).toMatchObject({
			status: 'completed',
			layer: 'avgpool',
			dataset: 'fashion-mnist-mini'
		});
		expect(encoder?.metrics?.featureDim).toBe(256);
		const row = page.getByTestId('evaluation-results').locator('tbody tr[data-group]').first();
		expect(await row.textContent()).toContain('moco-w8');
	});

	it('shows its Grad-CAM at layer4 beside a run’s at conv5', { timeout: 90_000 }, async () => {
		await page.goto(`${app.server.url}#/explain`);
		await page.getByRole('heading', { name: 'Explain', exact: true }).waitFor();
		const runA = page.getByLabel('Encoder A (reference)');
		await runA.locator(`option[value="${trained.id}"]`).waitFor({ state: 'attached' });
		await runA.selectOption(String(trained.id));
		await page.getByLabel('Encoder B', { exact: true }).selectOption(String(importedId));
		await page
			.locator('[data-slot=B]')
			.getByRole('checkbox', { name: /Random init/ })
			.uncheck();
		const strip = page.getByRole('list', { name: 'Test images' });
		await expect.poll(() => strip.getByRole('button').count(), { timeout: 20_000 }).toBe(24);
		// conv5 maps to a ResNet's layer4 (the page's default is conv3, where tiny maps decide).
		await page.getByLabel('Layer', { exact: true }).selectOption('conv5');
		await page.getByRole('button', { name: 'Compute', exact: true }).click();
		const panels = page.getByTestId('explain-panel');
		await expect.poll(() => panels.count(), { timeout: 60_000 }).toBe(2);
		expect(await panels.nth(0).getByTestId('explain-layer').textContent()).toBe('At conv5');
		expect(await panels.nth(1).getByTestId('explain-layer').textContent()).toBe('At layer4');
		expect(await panels.nth(1).locator('.title').textContent()).toContain('moco-w8 (imported)');
		await page.getByTestId('explain-difference').waitFor();
		// The imported encoder has a kNN evaluation, no linear probe: the default true class
		// cannot be explained for it, so each encoder explains its own prediction, and says so.
		await expect(page.getByTestId('explain-target-note').textContent()).resolves.toMatch(
			/^\s*The true class could not be explained \(.*\), so each encoder explains its own prediction\.\s*$/
		);
		await screenshot(page, 'interop-explain');
		expect(errors).toEqual([]);
	});
});
