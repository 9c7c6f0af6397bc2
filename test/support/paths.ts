import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The repository root; tests run with it as the working directory. */
export const repoRoot = path.resolve('.');
/** Built app. */
export const distDir = path.join(repoRoot, 'dist');
/** Test-only worker entries, built by the global setup. */
export const fixtureWorkersDir = path.join(repoRoot, 'test-results', 'workers');
/** Screenshots and other artefacts a person may want to look at (not committed). */
export const artefactsDir = path.join(repoRoot, 'test-results');

/** A fresh temporary folder, removed by the returned function. */
export function temporaryFolder(prefix = 'noiselab-test-'): { path: string; remove(): void } {
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	return { path: folder, remove: () => fs.rmSync(folder, { recursive: true, force: true }) };
}
