import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationRecord } from '../../src/core/api/evaluation';
import type { RunRecord } from '../../src/core/api/training';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, watchForErrors } from '../support/browser';
import { readPngText } from '../../src/core/explain/png-text';
import { artefactsDir } from '../support/paths';
import { tinyGeneratorSource, tinyRunSettings, trainToCompletion } from '../support/train-runs';

const dataset = 'fashion-mnist-mini';
/** The eight bytes every PNG file starts with. */
const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A whole-page screenshot under test-results/screenshots, for a person to look at. */
async function fullScreenshot(page: Page, name: string): Promise<void> {
	const folder = path.join(artefactsDir, 'screenshots');
	fs.mkdirSync(folder, { recursive: true });
	await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
}

/** Evaluates a run with a small linear probe on the bundled subset and waits until it is stored. */
async function evaluateWithProbe(api: TestApiClient, runId: number): Promise<EvaluationRecord> {
	const started = await api.call('evaluations.start', {
		runId,
		dataset,
		protocol: 'linear',
		randomInit: false,
		epochs: 3,
		views: 1,
		maxTrain: 300
	});
	if (!started.ok) throw new Error(`evaluations.start: ${started.error.message}`);
	const deadline = Date.now() + 60_000;
	for (;;) {
		const listed = await api.call('evaluations.list', { runId });
		if (!listed.ok) throw new Error(`evaluations.list: ${listed.error.message}`);
		const record = listed.value.find((candidate) => candidate.groupId === started.value.groupId);
		if (record && record.status !== 'running') {
			expect(record.status, record.error ?? '').toBe('completed');
			return record;
		}
		if (Date.now() > deadline) throw new Error(`Evaluation of run ${runId} still running.`);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

describe('the Explain area in Chromium (web mode)', () => {
	let app: TestServer;
	let api: TestApiClient;
	let browser: Browser;
	let page: Page;
	let errors: string[];
	let runs: { first: RunRecord; second: RunRecord };
	let probes: EvaluationRecord[];

	beforeAll(async () => {
		app = await startTestServer();
		api = await TestApiClient.connect(app);
		const train = async (name: string, seed: number) =>
			(
				await trainToCompletion(api, name, {
					source: tinyGeneratorSource,
					...tinyRunSettings,
					steps: 6,
					seed
				})
			).run;
		// One run trains at a time; two seeds so that the encoders (and their maps) differ.
		runs = { first: await train('noise-one', 0), second: await train('noise-two', 1) };
		probes = [
			await evaluateWithProbe(api, runs.first.id),
			await evaluateWithProbe(api, runs.second.id)
		];
		browser = await launchChromium();
		page = await browser.newPage({
			viewport: { width: 1400, height: 1600 },
			acceptDownloads: true
		});
		errors = watchForErrors(page);
	}, 150_000);

	afterAll(async () => {
		api?.close();
		await browser?.close();
		await app?.stop();
	});

	it(
		'shows two encoders’ maps and their difference, re-explains another class and exports the grid',
		{ timeout: 90_000 },
		async () => {
			await page.goto(`${app.server.url}#/explain`);
			await page.getByRole('heading', { name: 'Explain', exact: true }).waitFor();

			// Encoder A: noise-one; B: noise-two, both trained (the default pairs B with random init).
			const runA = page.getByLabel('Encoder A (reference)');
			await runA.locator(`option[value="${runs.first.id}"]`).waitFor({ state: 'attached' });
			await runA.selectOption(String(runs.first.id));
			await page.getByLabel('Encoder B', { exact: true }).selectOption(String(runs.second.id));
			await page
				.locator('[data-slot=B]')
				.getByRole('checkbox', { name: /Random init/ })
				.uncheck();

			// The third thumbnail of the strip becomes the chosen image.
			const strip = page.getByRole('list', { name: 'Test images' });
			await expect.poll(() => strip.getByRole('button').count(), { timeout: 20_000 }).toBe(24);
			const third = strip.getByRole('button').nth(2);
			await third.click();
			await expect.poll(() => third.getAttribute('aria-pressed')).toBe('true');
			const chosen = await page.getByTestId('explain-chosen-image').textContent();
			expect(chosen).toMatch(/^\s*Test image \d+ · \S/);

			await page.getByRole('button', { name: 'Compute', exact: true }).click();
			const panels = page.getByTestId('explain-panel');
			await expect.poll(() => panels.count(), { timeout: 30_000 }).toBe(2);
			await page.getByTestId('explain-difference').waitFor();
			await fullScreenshot(page, 'explain-maps');
			// A 6-step encoder's map can be flat (no positive evidence), which leaves ρ undefined.
			expect(await page.getByTestId('explain-agreement').textContent()).toMatch(
				/A vs B: (-?\d\.\d\d — .* agreement|not defined)/
			);
			// Each panel names its own probe (the evaluation made above), and by default both explain
			// one shared target, the image's true class: the agreement compares like with like.
			const trueClass = chosen?.split(' · ')[1]?.trim() ?? '?';
			for (const [slot, probe] of probes.entries()) {
				const panel = panels.nth(slot);
				expect(await panel.locator('.probe').textContent()).toContain(
					`Probe: evaluation #${probe.id}`
				);
				expect(await panel.getByTestId('explain-target').textContent()).toBe(
					`Explains probe class "${trueClass}" (true label)`
				);
				expect(await panel.locator('ol.top li').count()).toBe(3);
			}
			expect(await page.getByTestId('explain-target-mismatch').count()).toBe(0);
			// A colour scale under both maps and the difference.
			expect(await page.getByTestId('colour-bar').count()).toBe(3);

			// Another class than A's prediction: the maps are drawn anew for it.
			const drawn = () =>
				panels
					.locator('canvas')
					.evaluateAll((canvases) =>
						canvases.map((canvas) => (canvas as HTMLCanvasElement).toDataURL()).join()
					);
			const before = await drawn();
			const predictedA = await panels
				.nth(0)
				.locator('ol.top li')
				.first()
				.locator('span')
				.first()
				.textContent();
			await page.getByLabel('Target', { exact: true }).selectOption('class');
			const classSelect = page.getByLabel('Target class');
			const classNames = await classSelect.locator('option').allTextContents();
			expect(classNames).toHaveLength(10);
			const other = classNames.find((name) => name !== predictedA && name !== classNames[0]);
			if (!other) throw new Error('No other class to explain.');
			await classSelect.selectOption({ label: other });
			for (const slot of [0, 1]) {
				await expect
					.poll(() => panels.nth(slot).getByTestId('explain-target').textContent(), {
						timeout: 30_000
					})
					.toBe(`Explains probe class "${other}"`);
			}
			await expect
				.poll(() => page.getByTestId('explain-result').getAttribute('aria-busy'))
				.toBe('false');
			expect(await drawn()).not.toBe(before);
			await fullScreenshot(page, 'explain-class');

			const [download] = await Promise.all([
				page.waitForEvent('download'),
				page.getByRole('button', { name: 'Export PNG' }).click()
			]);
			expect(download.suggestedFilename()).toMatch(/^explain-fashion-mnist-mini-\d+-gradcam\.png$/);
			const png = fs.readFileSync(await download.path());
			expect([...png.subarray(0, 8)]).toEqual(pngSignature);
			// The PNG says what it shows: method, layer, both encoders and their target.
			const text = readPngText(new Uint8Array(png));
			expect(text.Title).toMatch(/^NoiseLab Explain: Grad-CAM \(GradCAM\) at conv\d/);
			expect(text.Description).toMatch(
				/\nA: noise-one .* — explains probe class "[^"]+"\nB: noise-two /
			);
			expect(errors).toEqual([]);
		}
	);
	it(
		'maps a batch per class and exports it, and shows filters and activations side by side',
		{ timeout: 90_000 },
		async () => {
			await page.getByRole('tab', { name: 'Batch' }).click();
			await page.getByLabel('Images', { exact: true }).fill('6');
			await page.getByRole('button', { name: 'Run batch' }).click();
			const maps = page.getByRole('table', { name: 'Batch maps' });
			await maps.waitFor({ timeout: 60_000 });
			// Six images, one per class of the first six, each with a map per encoder.
			expect(await maps.locator('tbody tr').count()).toBe(6);
			expect(await page.getByTestId('explain-batch-agreement').textContent()).toMatch(
				/Overall: (-?\d\.\d\d|—)/
			);
			const [download] = await Promise.all([
				page.waitForEvent('download'),
				page.getByRole('button', { name: 'Export PNG' }).click()
			]);
			expect(download.suggestedFilename()).toBe('explain-fashion-mnist-mini-batch-gradcam.png');
			expect([...fs.readFileSync(await download.path()).subarray(0, 8)]).toEqual(pngSignature);
			await fullScreenshot(page, 'explain-batch');

			await page.getByRole('tab', { name: 'Filters & activations' }).click();
			await page.getByRole('button', { name: 'Show filters' }).click();
			const grids = page.getByTestId('filter-grid');
			await expect.poll(() => grids.count(), { timeout: 30_000 }).toBe(2);
			expect(await grids.first().locator('canvas').getAttribute('aria-label')).toMatch(
				/The 24 first-layer filters of A · noise-one @ step 6/
			);
			await page.getByRole('button', { name: 'Show activations' }).click();
			const activations = page.getByTestId('explain-activation');
			await expect.poll(() => activations.count(), { timeout: 30_000 }).toBe(2);
			expect(await activations.first().textContent()).toMatch(/channel \d+ of \d+/i);
			await fullScreenshot(page, 'explain-features');
			expect(errors).toEqual([]);
		}
	);
	it(
		'opens from an evaluation with its encoders and dataset chosen',
		{ timeout: 60_000 },
		async () => {
			await page.goto(`${app.server.url}#/evaluate`);
			const row = page.locator(`tr[data-group="${probes[0]?.groupId}"]`);
			await row.getByRole('button').click();
			await page.getByRole('button', { name: 'Explain these encoders →' }).click();
			await page.getByRole('heading', { name: 'Explain', exact: true }).waitFor();
			await expect
				.poll(() => page.getByLabel('Encoder A (reference)').inputValue())
				.toBe(String(runs.first.id));
			// That evaluation measured the run alone (no random-init control): one slot.
			expect(await page.getByLabel('Encoder B', { exact: true }).count()).toBe(0);
			expect(errors).toEqual([]);
		}
	);
});
