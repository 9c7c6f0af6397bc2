import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../src/core/api/training';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';
import { failpointsVariable } from '../../src/main/failpoints';
import { temporaryFolder } from '../support/paths';
import { spawnServe, type ServeProcess } from '../support/serve-process';
import { fillRunForm, startFromForm } from '../support/run-form';

/** The step the dashboard shows, from "step 1,234 / 2,000 (61.7%)". */
async function shownStep(page: Page): Promise<number> {
	const text = (await page.getByTestId('run-steps').textContent()) ?? '';
	const match = /step ([\d,]+) \//.exec(text);
	if (!match?.[1]) throw new Error(`No step in ${JSON.stringify(text)}`);
	return Number(match[1].replaceAll(',', ''));
}

/** The status of the dashboard's badge, and its words. */
async function shownStatus(page: Page): Promise<string> {
	const badge = page.getByTestId('run-dashboard').locator('[data-status]').first();
	return `${await badge.getAttribute('data-status')} ${(await badge.textContent())?.trim()}`;
}

/** Points the loss chart's chart.js instance holds (MetricChart mirrors them in data-points). */
async function lossChartPoints(page: Page): Promise<number> {
	const canvas = page.getByRole('img', { name: /^Loss chart\./ }).locator('canvas');
	return Number((await canvas.getAttribute('data-points')) ?? 0);
}

/** The step of the loss chart's latest point, from its accessible summary. */
async function lossChartLastStep(page: Page): Promise<number | null> {
	const label = await page.getByRole('img', { name: /^Loss chart\./ }).getAttribute('aria-label');
	const match = /at step (\d+)$/.exec(label ?? '');
	return match?.[1] ? Number(match[1]) : null;
}

/**
 * Opens a run's dashboard afresh (a reload, then the runs list), so that the chart holds the
 * run's whole history as `runs.get` returns it rather than what arrived live.
 */
async function reopen(page: Page, name: string): Promise<void> {
	await page.reload();
	await page
		.getByTestId('runs-list')
		.getByRole('button', { name: `Open run ${name}` })
		.click();
	await page.getByTestId('run-dashboard').getByRole('heading', { name }).waitFor();
}

/** Steps of the checkpoints table, newest first. */
async function checkpointSteps(page: Page): Promise<number[]> {
	const cells = page
		.getByRole('region', { name: 'Checkpoints' })
		.locator('tbody tr td:first-child')
		.allTextContents();
	return (await cells).map((text) => Number(text.replaceAll(',', '')));
}

/** The runs list's entry of a run: its status badge and step counter. */
async function listedStatus(page: Page, name: string): Promise<string | null> {
	const entry = page.getByTestId('runs-list').getByRole('button', { name: `Open run ${name}` });
	return entry.locator('[data-status]').getAttribute('data-status');
}

const statusWords: Partial<Record<RunStatus, string>> = {
	running: 'running ▶ Running',
	paused: 'paused ❚❚ Paused',
	cancelled: 'cancelled ■ Cancelled',
	interrupted: 'interrupted ↯ Interrupted',
	completed: 'completed ✓ Completed'
};

/** Steps logged for a run, as `runs.get` returns them. */
async function loggedSteps(app: TestServer, id: number): Promise<number[]> {
	const api = await TestApiClient.connect(app);
	try {
		const detail = await api.call('runs.get', { id });
		if (!detail.ok) throw new Error(detail.error.message);
		return detail.value.metrics.map((point) => point.step);
	} finally {
		api.close();
	}
}

const oneTo = (last: number) => Array.from({ length: last }, (_, index) => index + 1);

describe('the Training lab in Chromium (web mode)', () => {
	let browser: Browser;
	beforeAll(async () => {
		browser = await launchChromium();
	});
	afterAll(async () => {
		await browser?.close();
	});

	it(
		'starts a tiny run from the form, charts it live, and pauses, resumes and cancels it',
		{ timeout: 150_000 },
		async () => {
			const app = await startTestServer();
			const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
			const errors = watchForErrors(page);
			try {
				await page.goto(`${app.server.url}#/train`);
				await startFromForm(page, { name: 'e2e-controls', steps: 2000, checkpointEvery: 1000 });
				await expect.poll(() => shownStatus(page), { timeout: 30_000 }).toBe(statusWords.running);

				// Live: the counter and the chart's data both advance while it trains.
				await expect.poll(() => shownStep(page), { timeout: 30_000 }).toBeGreaterThan(0);
				const early = { step: await shownStep(page), points: await lossChartPoints(page) };
				expect(early.points).toBeGreaterThan(0);
				await expect.poll(() => shownStep(page), { timeout: 30_000 }).toBeGreaterThan(early.step);
				await expect
					.poll(() => lossChartPoints(page), { timeout: 30_000 })
					.toBeGreaterThan(early.points);
				expect(
					await page.getByRole('img', { name: /^Loss chart\./ }).getAttribute('aria-label')
				).toMatch(/loss -?\d+\.\d{4} at step \d+/);
				await screenshot(page, 'train-running');

				// Pause ends the session with a checkpoint at the step it reached.
				await page.getByRole('button', { name: 'Pause run' }).click();
				await expect.poll(() => shownStatus(page), { timeout: 30_000 }).toBe(statusWords.paused);
				const paused = await shownStep(page);
				await expect.poll(() => checkpointSteps(page), { timeout: 10_000 }).toEqual([paused]);
				expect(await page.getByRole('button', { name: 'Pause run' }).isDisabled()).toBe(true);
				expect(await listedStatus(page, 'e2e-controls')).toBe('paused');
				await screenshot(page, 'train-paused');

				await page.getByRole('button', { name: 'Resume run' }).click();
				await expect.poll(() => shownStatus(page), { timeout: 30_000 }).toBe(statusWords.running);
				await expect.poll(() => shownStep(page), { timeout: 30_000 }).toBeGreaterThan(paused + 2);

				// Cancel asks first, and keeping the run changes nothing.
				await page.getByRole('button', { name: 'Cancel run' }).click();
				await page.getByRole('button', { name: 'Keep it' }).click();
				expect(await shownStatus(page)).toBe(statusWords.running);
				await page.getByRole('button', { name: 'Cancel run' }).click();
				await page.getByRole('button', { name: 'Yes, cancel the run' }).click();
				await expect.poll(() => shownStatus(page), { timeout: 30_000 }).toBe(statusWords.cancelled);
				const cancelled = await shownStep(page);
				expect(await listedStatus(page, 'e2e-controls')).toBe('cancelled');
				for (const control of ['Pause run', 'Resume run', 'Cancel run']) {
					expect(await page.getByRole('button', { name: control }).isDisabled()).toBe(true);
				}
				// The pause lost nothing and repeated nothing: one point per step, 1..the last.
				expect(await loggedSteps(app, 1)).toEqual(oneTo(cancelled));
				await expect.poll(() => lossChartLastStep(page)).toBe(cancelled);
				// Live, every progress event carries all the steps since the previous one: one point per step.
				await expect.poll(() => lossChartPoints(page)).toBe(cancelled);
				await reopen(page, 'e2e-controls');
				await expect.poll(() => lossChartPoints(page)).toBe(cancelled);
				expect(errors).toEqual([]);
			} finally {
				await page.close();
				await app.stop();
			}
		}
	);

	it('shows an estimate’s progress and time left, and cancels one', async () => {
		const app = await startTestServer();
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		const errors = watchForErrors(page);
		try {
			await page.goto(`${app.server.url}#/train`);
			await fillRunForm(page, { name: 'e2e-estimate', steps: 500, checkpointEvery: 100 });
			const estimate = page.getByRole('button', { name: 'Estimate duration' });
			const progress = page.getByTestId('estimate-progress');
			// Every text the progress shows, recorded as the page changes (stages can be brief).
			await page.evaluate(() => {
				const seen: string[] = [];
				(window as unknown as { estimateTexts: string[] }).estimateTexts = seen;
				new MutationObserver(() => {
					const text = document.querySelector('[data-testid="estimate-progress"]')?.textContent;
					if (text && seen.at(-1) !== text) seen.push(text.replace(/\s+/g, ' ').trim());
				}).observe(document.body, { subtree: true, childList: true, characterData: true });
			});
			await estimate.click();
			await progress.waitFor();
			expect(
				Number(
					await progress
						.getByRole('progressbar', { name: 'Estimate progress' })
						.getAttribute('aria-valuenow')
				)
			).toBeGreaterThanOrEqual(0);
			// For the picture only: the stage with a time left (the assertions are on the record below).
			await progress
				.getByText(/about \d+ s left/)
				.waitFor({ timeout: 30_000 })
				.catch(() => undefined);
			await screenshot(page, 'train-estimate-progress');
			await expect
				.poll(() => page.getByTestId('run-estimate').textContent(), { timeout: 60_000 })
				.toMatch(/≈ .+ on wasm/);
			expect(await progress.count()).toBe(0);
			const texts = await page.evaluate(
				() => (window as unknown as { estimateTexts: string[] }).estimateTexts
			);
			// A count of stages from the start, then the time left once the warm-up step is timed.
			expect(texts).toContainEqual(
				expect.stringMatching(
					/Building tiny on wasm… 1 \/ 9 · time left known after the first step/
				)
			);
			expect(texts).toContainEqual(
				expect.stringMatching(/Timing step 1 of at most 5… 4 \/ 9 · about \d+ s left/)
			);

			// A second estimate, cancelled: no figures, no error, and the button is free again.
			await page.getByLabel('Steps', { exact: true }).fill('600');
			await estimate.click();
			await progress.waitFor();
			await progress.getByRole('button', { name: 'Cancel estimate' }).click();
			await expect
				.poll(() => page.getByTestId('run-estimate').textContent(), { timeout: 30_000 })
				.toContain('Estimate cancelled.');
			expect(await estimate.isEnabled()).toBe(true);
			expect(await page.getByTestId('estimate-error').count()).toBe(0);
			expect(errors).toEqual([]);
		} finally {
			await page.close();
			await app.stop();
		}
	});

	describe('a server killed mid-run', () => {
		const dataDir = temporaryFolder();
		let first: ServeProcess | undefined;
		let second: TestServer | undefined;
		afterAll(async () => {
			await first?.killHard();
			// stop() removes the data folder; without a second server it is removed here.
			if (second) await second.stop();
			else dataDir.remove();
		});

		it(
			'continues the run from its checkpoint after a restart, through the work queue, with continuous metrics',
			{ timeout: 150_000 },
			async () => {
				const steps = 32;
				// The first server's session holds after step 11 (a failpoint), so the kill lands at a
				// known point on any machine: after the checkpoint of step 8, with 3 steps it will lose.
				// Waiting for a step instead raced the machine: a fast one finished the run first.
				const heldAt = 11;
				first = await spawnServe(dataDir.path, {
					[failpointsVariable]: `train.hold-after-step=${heldAt}`
				});
				const before = await browser.newPage({ viewport: { width: 1280, height: 900 } });
				await before.goto(`${first.url}#/train`);
				await startFromForm(before, { name: 'e2e-restart', steps, checkpointEvery: 8 });
				await expect.poll(() => shownStep(before), { timeout: 60_000 }).toBe(heldAt);
				await expect.poll(() => checkpointSteps(before), { timeout: 30_000 }).toEqual([8]);
				expect(await shownStatus(before)).toBe(statusWords.running);
				await first.killHard();
				await before.close();

				// The queue kept the training: the restarted server marks the run interrupted and
				// resumes it by itself from its newest checkpoint.
				second = await startTestServer(dataDir);
				const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
				const errors = watchForErrors(page);
				await page.goto(`${second.server.url}#/train`);
				await page
					.getByTestId('runs-list')
					.getByRole('button', { name: 'Open run e2e-restart' })
					.click();
				await expect.poll(() => shownStatus(page), { timeout: 60_000 }).toBe(statusWords.completed);
				expect(await shownStep(page)).toBe(steps);
				expect(await listedStatus(page, 'e2e-restart')).toBe('completed');
				await expect(page.getByTestId('run-error').count()).resolves.toBe(0);
				const resumedFrom = second.context.store.ok
					? (
							second.context.store.value.db
								.prepare('SELECT start_step AS step FROM run_sessions ORDER BY id')
								.all() as { step: number }[]
						).map((session) => session.step)
					: [];
				expect(resumedFrom).toEqual([0, 8]);
				// The steps after the checkpoint were trained again, not logged twice or skipped.
				expect(await loggedSteps(second, 1)).toEqual(oneTo(steps));
				await expect.poll(() => lossChartLastStep(page)).toBe(steps);
				await expect.poll(() => checkpointSteps(page)).toContain(steps);
				await reopen(page, 'e2e-restart');
				await expect.poll(() => lossChartPoints(page)).toBe(steps);

				// For a person to look at: the completed dashboard in both themes, and the form.
				await screenshot(page, 'train-completed-light');
				await page.getByRole('button', { name: 'New run' }).click();
				await page.getByRole('heading', { name: 'New training run' }).waitFor();
				await screenshot(page, 'train-new-run-light');
				const dark = await browser.newPage({
					viewport: { width: 1280, height: 900 },
					colorScheme: 'dark'
				});
				await dark.goto(`${second.server.url}#/train`);
				await dark.getByRole('button', { name: 'Open run e2e-restart' }).click();
				await expect.poll(() => lossChartPoints(dark)).toBe(steps);
				await screenshot(dark, 'train-completed-dark');
				expect(errors).toEqual([]);
				await dark.close();
				await page.close();
			}
		);
	});
});
