/**
 * WebGPU in the UI (web mode in Chromium): Settings shows the adapter Dawn found, and a `tiny`
 * run started from the New run form with the WebGPU backend trains to completion on it (lavapipe
 * in CI). Skipped, saying why, where no adapter exists.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuAdapter } from '../../src/core/compute/backends';
import { releaseDawn, requestAdapter } from '../../src/main/compute/webgpu';
import { startTestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';
import { startFromForm } from '../support/run-form';

let adapter: GpuAdapter | null = null;
try {
	adapter = await requestAdapter();
} catch {
	adapter = null;
}
// Only the adapter's description was needed here; the workers load Dawn themselves.
releaseDawn();
if (!adapter) {
	console.log(
		'webgpu e2e test skipped: Dawn found no WebGPU adapter (no Vulkan, Metal or D3D12 device). On Debian, install bookworm-backports’ mesa-vulkan-drivers (lavapipe) as .ci/run does.'
	);
}

describe.skipIf(!adapter)('WebGPU in the Training lab (web mode)', () => {
	let browser: Browser;
	beforeAll(async () => {
		browser = await launchChromium();
	});
	afterAll(async () => {
		await browser?.close();
	});

	it(
		'shows the adapter in Settings and trains a tiny run on it from the form',
		{ timeout: 300_000 },
		async () => {
			const app = await startTestServer();
			const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
			const errors = watchForErrors(page);
			try {
				await page.goto(`${app.server.url}#/settings`);
				const shown = page.getByTestId('adapter-webgpu');
				await shown.waitFor({ timeout: 120_000 });
				expect(await shown.textContent()).toContain(adapter?.description);
				expect(await page.getByTestId('doctor-backends').textContent()).toMatch(
					/largest binding \d+ MiB/
				);
				await screenshot(page, 'settings-webgpu');

				await page.goto(`${app.server.url}#/train`);
				await startFromForm(page, {
					name: 'e2e-webgpu',
					steps: 3,
					checkpointEvery: 3,
					batch: 4,
					backend: 'webgpu'
				});
				const badge = page.getByTestId('run-dashboard').locator('[data-status]').first();
				await expect
					.poll(() => badge.getAttribute('data-status'), { timeout: 240_000 })
					.toBe('completed');
				expect(await page.getByTestId('run-backend').textContent()).toContain(
					`webgpu on ${adapter?.description}`
				);
				await screenshot(page, 'train-webgpu');
				expect(errors).toEqual([]);
			} finally {
				await page.close();
				await app.stop();
			}
		}
	);
});
