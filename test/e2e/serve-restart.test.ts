import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFileName } from '../../src/main/server/session-token';
import { launchChromium, screenshot } from '../support/browser';
import { temporaryFolder } from '../support/paths';
import { spawnServe, type ServeProcess } from '../support/serve-process';

/** What the server says about a token: 204 while it is its own, 401 once it is not. */
async function sessionStatus(url: string, token: string): Promise<number> {
	const asked = new URL('/api/session', url);
	asked.searchParams.set('token', token);
	return (await fetch(asked)).status;
}

describe('a restarted `noiselab serve` and the tabs open on it', () => {
	const home = temporaryFolder();
	let serve: ServeProcess | null = null;
	let browser: Browser;
	let page: Page;

	beforeAll(async () => {
		browser = await launchChromium();
	});
	afterAll(async () => {
		await serve?.killHard();
		await browser?.close();
		home.remove();
	});

	it('keeps the token across a restart of the same data folder, and says so when it was replaced', async () => {
		serve = await spawnServe(home.path);
		const first = new URL(serve.url);
		const token = first.searchParams.get('token') ?? '';
		expect(serve.output()).toContain('Token:       new');
		// The token grants the whole API: only this user may read the file that keeps it.
		const file = path.join(home.path, tokenFileName);
		expect(fs.statSync(file).mode & 0o777).toBe(0o600);
		expect(fs.readFileSync(file, 'utf8').trim()).toBe(token);

		page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
		await page.goto(`${serve.url}#/generate`);
		await page.locator('[data-testid=preview-grid] canvas').first().waitFor();

		// Restart on the same port: the open tab reconnects by itself and works again.
		await serve.killHard();
		serve = null;
		await page.getByText('Lost the connection to the NoiseLab server').waitFor();
		serve = await spawnServe(home.path, {}, ['--port', first.port]);
		expect(serve.url).toBe(first.href);
		expect(serve.output()).toContain('Token:       the same as last time');
		await page
			.getByText('Lost the connection to the NoiseLab server')
			.waitFor({ state: 'detached' });
		await page.getByRole('button', { name: 'stat-spectrum', exact: true }).click();
		await page.getByRole('heading', { name: 'Statistical image model' }).waitFor();
		expect(await sessionStatus(serve.url, token)).toBe(204);

		// --new-token replaces it: the old tab is told its token was refused and what to do.
		await serve.killHard();
		serve = await spawnServe(home.path, {}, ['--port', first.port, '--new-token']);
		const rotated = new URL(serve.url).searchParams.get('token') ?? '';
		expect(rotated).not.toBe(token);
		expect(fs.statSync(file).mode & 0o777).toBe(0o600);
		expect(await sessionStatus(serve.url, token)).toBe(401);
		expect(await sessionStatus(serve.url, rotated)).toBe(204);
		const refused = page.getByTestId('token-refused');
		await refused.waitFor({ timeout: 30_000 });
		expect(await refused.textContent()).toMatch(/refused this page’s session token.*--new-token/s);
		await screenshot(page, 'serve-token-refused');

		// A tab opened (or reloaded) with the refused token says so, and its empty panels do not
		// pretend to describe a generator: nothing was loaded.
		await page.reload();
		await refused.waitFor({ timeout: 30_000 });
		const parameters = page.getByRole('complementary', { name: 'Parameters' });
		await parameters
			.getByText('Not connected: the parameters appear once the app reconnects.')
			.waitFor();
		expect(await page.getByText('This generator has no parameters').count()).toBe(0);
		expect(await page.getByText(/^, \d+ px, seed/).count()).toBe(0);
		await page.close();
	});
});
