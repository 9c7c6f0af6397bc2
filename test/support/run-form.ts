/** The Training lab's New run form, filled as a person would, for the e2e tests. */
import type { Locator, Page } from 'playwright-core';

/** What the New run form is filled with: cheap enough for a few steps per second on two cores. */
export interface TinyRun {
	name: string;
	steps: number;
	checkpointEvery: number;
	/** The Backend field's value; default wasm. */
	backend?: string;
	/** Pairs per step; default 8. */
	batch?: number;
}

/** Fills the New run form field by field, as a person would, and starts the run. */
export async function startFromForm(page: Page, run: TinyRun): Promise<void> {
	await fillRunForm(page, run);
	await page.getByRole('button', { name: 'Start training' }).click();
	await page.getByTestId('run-dashboard').getByRole('heading', { name: run.name }).waitFor();
}

/** Fills the New run form field by field, as a person would. */
export async function fillRunForm(page: Page, run: TinyRun): Promise<void> {
	await page.getByRole('heading', { name: 'New training run' }).waitFor();
	const preset = page.getByLabel('Generator preset');
	// The presets arrive with the catalogue; until then the select holds only the default.
	await preset.locator('option[value="dead_leaves-squares"]').waitFor({ state: 'attached' });
	await preset.selectOption('dead_leaves-squares');
	await fill(page.getByLabel('Image size (px)'), 64);
	await fill(page.getByLabel('Dataset size (images)'), 256);
	await page.getByRole('radio', { name: /^Tiny/ }).check();
	await page.getByLabel('Name', { exact: true }).fill(run.name);
	await fill(page.getByLabel('Steps', { exact: true }), run.steps);
	await fill(page.getByLabel('Batch (pairs)'), run.batch ?? 8);
	await page.getByLabel('Backend', { exact: true }).selectOption(run.backend ?? 'wasm');
	await fill(page.getByLabel('Checkpoint every (steps)'), run.checkpointEvery);
}

async function fill(field: Locator, value: number): Promise<void> {
	await field.fill(String(value));
	await field.press('Tab');
}
