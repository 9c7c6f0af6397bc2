import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestSchemaVersion } from '../../src/main/store/database';
import { startTestServer, type TestServer } from '../support/app-server';
import { launchChromium, screenshot, watchForErrors } from '../support/browser';
import { temporaryFolder } from '../support/paths';

describe('the app shell in Chromium (web mode)', () => {
	let app: TestServer;
	let browser: Browser;
	beforeAll(async () => {
		app = await startTestServer();
		browser = await launchChromium();
	});
	afterAll(async () => {
		await browser?.close();
		await app?.stop();
	});

	async function open(
		hash = '',
		colorScheme: 'light' | 'dark' = 'light'
	): Promise<{ page: Page; errors: string[] }> {
		const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme });
		const errors = watchForErrors(page);
		await page.goto(`${app.server.url}${hash}`);
		return { page, errors };
	}

	it('loads the shell with every area in the navigation and no errors', async () => {
		const { page, errors } = await open();
		await expect(page.title()).resolves.toBe('NoiseLab');
		const nav = page.getByRole('navigation', { name: 'Main' });
		await nav.getByRole('link').first().waitFor();
		expect(await nav.getByRole('link').allTextContents()).toEqual(
			['Generate', 'Train', 'Evaluate', 'Studies', 'Runs', 'Explain', 'Settings'].map((label) =>
				expect.stringContaining(label)
			)
		);
		await page.getByRole('heading', { name: 'Generator Studio' }).waitFor();
		// The status bar learns the active backend from the probe worker, through a pushed event.
		await page.getByTestId('status-backend').getByText('wasm').waitFor();
		await screenshot(page, 'shell-generate');
		expect(errors).toEqual([]);
		await page.close();
	});

	it('navigates between areas, and the URL keeps the area across a reload', async () => {
		const { page, errors } = await open();
		const nav = page.getByRole('navigation', { name: 'Main' });
		await nav.getByRole('link', { name: 'Train' }).click();
		await page.getByRole('heading', { name: 'Training lab' }).waitFor();
		expect(new URL(page.url()).hash).toBe('#/train');
		expect(await nav.getByRole('link', { name: 'Train' }).getAttribute('aria-current')).toBe(
			'page'
		);
		await nav.getByRole('link', { name: 'Explain' }).click();
		await page.getByRole('heading', { name: 'Explain' }).waitFor();
		await page.reload();
		await page.getByRole('heading', { name: 'Explain' }).waitFor();
		expect(errors).toEqual([]);
		await page.close();
	});

	it('shows the doctor report fetched through the WebSocket API', async () => {
		const { page, errors } = await open('#/settings');
		await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
		const report = page.getByTestId('doctor-report');
		await report.waitFor();
		await expect(report.getByRole('row', { name: /Database/ }).textContent()).resolves.toContain(
			`schema ${latestSchemaVersion()} of ${latestSchemaVersion()}`
		);
		await expect(report.getByRole('row', { name: /Data folder/ }).textContent()).resolves.toContain(
			app.dataDir
		);
		await expect(report.getByRole('row', { name: /Node\.js/ }).textContent()).resolves.toContain(
			process.versions.node
		);
		const backends = page.getByTestId('doctor-backends');
		await expect(
			backends.getByRole('row', { name: /^wasm/ }).getByLabel('available').count()
		).resolves.toBe(1);
		await expect(
			backends.getByRole('row', { name: /tfjs-node-gpu/ }).textContent()
		).resolves.toMatch(/not installed|failed to load|ready/);
		await screenshot(page, 'settings-light');
		expect(errors).toEqual([]);
		await page.close();
	});

	it('changes the compute backend, updates the status bar by event and keeps the choice', async () => {
		const { page, errors } = await open('#/settings');
		await page.getByTestId('doctor-report').waitFor();
		await page.getByRole('radio', { name: /Plain JavaScript/ }).check();
		await page.getByTestId('status-backend').getByText('cpu', { exact: true }).waitFor();
		await page.getByTestId('backend-selection').getByText('cpu was chosen in Settings').waitFor();
		await page.reload();
		await page.getByTestId('doctor-report').waitFor();
		expect(await page.getByRole('radio', { name: /Plain JavaScript/ }).isChecked()).toBe(true);
		await page.getByRole('radio', { name: 'Automatic', exact: true }).check();
		await page.getByTestId('status-backend').getByText('wasm').waitFor();
		expect(errors).toEqual([]);
		await page.close();
	});

	it('sets the training replicas in Settings and keeps them, or goes back to automatic', async () => {
		const { page, errors } = await open('#/settings');
		const section = page.getByRole('region', { name: 'Training on several cores' });
		const automatic = section.getByRole('checkbox', { name: /^Automatic/ });
		const replicas = section.getByRole('spinbutton', { name: 'Replicas' });
		await expect.poll(() => automatic.isChecked()).toBe(true);
		expect(await replicas.isDisabled()).toBe(true);
		// What automatic means on this machine, from the doctor report's core count.
		await section
			.getByRole('checkbox', {
				name: /^Automatic \(here: \d+ replicas? and \d+ data threads? on \d+ cores\)$/
			})
			.waitFor();
		const stored = async () => {
			const result = await app.context.dispatch('settings.get', {});
			return result.ok ? (result.value as { replicas: number | null }).replicas : 'unreadable';
		};
		await automatic.uncheck();
		await expect.poll(stored).toBe(2);
		await replicas.fill('3');
		await replicas.press('Tab');
		await expect.poll(stored).toBe(3);
		await page.reload();
		await expect.poll(() => replicas.inputValue()).toBe('3');
		expect(await automatic.isChecked()).toBe(false);
		await automatic.check();
		await expect.poll(stored).toBeNull();
		expect(errors).toEqual([]);
		await page.close();
	});

	it('lists the folders web mode may use and allows one with the code printed on the host', async () => {
		const extra = temporaryFolder('noiselab-allowed-');
		const canonical = fs.realpathSync(extra.path);
		try {
			const { page, errors } = await open('#/settings');
			const folders = page.getByRole('list', { name: 'Folders web mode may use' });
			await folders.getByText(app.dataDir).waitFor();
			await page.getByLabel('Allow another folder').fill(extra.path);
			await page.getByRole('button', { name: 'Allow…' }).click();
			const codeField = page.getByLabel(/^Code for/);
			await codeField.waitFor();
			// The code is printed on the host (the terminal of noiselab serve), never on the page.
			const code = /(\d{4}-\d{4})/.exec(app.hostMessages.at(-1) ?? '')?.[1] ?? '';
			expect(code).not.toBe('');
			expect(await page.content()).not.toContain(code);
			await codeField.fill(code);
			await page.getByRole('button', { name: 'Confirm' }).click();
			await folders.getByText(canonical).waitFor();
			await screenshot(page, 'settings-folders');
			await page.getByRole('button', { name: `Remove ${canonical}` }).click();
			await expect.poll(() => folders.getByText(canonical).count()).toBe(0);
			expect(errors).toEqual([]);
			await page.close();
		} finally {
			extra.remove();
		}
	});

	it('looks right in the dark theme', async () => {
		const { page, errors } = await open('#/settings', 'dark');
		await page.getByTestId('doctor-report').waitFor();
		const background = await page.evaluate(
			() => getComputedStyle(document.documentElement).backgroundColor
		);
		expect(background).toBe('rgb(22, 24, 29)');
		await screenshot(page, 'settings-dark');
		expect(errors).toEqual([]);
		await page.close();
	});

	it('refuses a page opened without the token and says what to do', async () => {
		const page = await browser.newPage();
		await page.goto(app.server.origin);
		await page.getByRole('alert').getByText('opened without its session token').waitFor();
		// The API itself refuses the socket: the browser sees the handshake fail.
		const refused = await page.evaluate(
			(origin) =>
				new Promise<string>((resolve) => {
					const socket = new WebSocket(`${origin.replace('http', 'ws')}/api`);
					socket.onopen = () => resolve('open');
					socket.onerror = () => resolve('refused');
				}),
			app.server.origin
		);
		expect(refused).toBe('refused');
		await page.close();
	});
});
