import fs from 'node:fs';
import path from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { repoRoot, temporaryFolder } from '../support/paths';

/**
 * The desktop window itself. The electron package fetches its binary on first launch, which
 * needs the network; where the binary is absent this suite says so and is skipped, without
 * trying the download. Everything behind the window is covered by the web-mode tests.
 */
function electronBinary(): { path: string | null; why: string } {
	const packageDir = path.join(repoRoot, 'node_modules', 'electron');
	const pathFile = path.join(packageDir, 'path.txt');
	if (!fs.existsSync(pathFile)) {
		return {
			path: null,
			why: 'node_modules/electron has no binary yet (it is downloaded on first launch; run `npm start` once online)'
		};
	}
	const binary = path.join(packageDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
	return fs.existsSync(binary)
		? { path: binary, why: '' }
		: { path: null, why: `${binary} is missing` };
}

const binary = electronBinary();
if (!binary.path) console.log(`Electron window test skipped: ${binary.why}.`);

describe.skipIf(!binary.path)('the Electron window', () => {
	it('opens the shell over noiselab://, with the API reachable only through the preload bridge', async () => {
		const userData = temporaryFolder();
		const app = await electron.launch({
			executablePath: binary.path as string,
			args: [repoRoot, `--user-data-dir=${userData.path}`, '--no-sandbox'],
			env: { ...process.env, NOISELAB_HOME: userData.path }
		});
		try {
			const page = await app.firstWindow();
			await page.getByRole('navigation', { name: 'Main' }).waitFor();
			expect(page.url()).toMatch(/^noiselab:\/\/app\//);
			const isolation = await page.evaluate(() => ({
				bridge: Object.keys(
					(window as unknown as { noiselab: { methods: object } }).noiselab.methods
				),
				require: typeof (window as unknown as { require?: unknown }).require,
				process: typeof (window as unknown as { process?: unknown }).process
			}));
			expect(isolation.bridge).toContain('system.doctor');
			expect(isolation.require).toBe('undefined');
			expect(isolation.process).toBe('undefined');
			await page.goto('noiselab://app/index.html#/settings');
			await page.getByTestId('doctor-report').waitFor({ timeout: 60_000 });
			expect(await page.getByTestId('doctor-report').textContent()).toContain('Electron');
		} finally {
			await app.close();
			userData.remove();
		}
	});
});
