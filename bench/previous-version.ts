/**
 * The generators of an earlier commit, loaded beside the current ones, so a benchmark or a
 * fixture script can compare both in the same run: `git archive` extracts that commit's
 * `src/core`, esbuild bundles its registry, and the bundle is required like any module.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Esbuild from 'esbuild';
import type * as Registry from '../src/core/generators/registry';

// esbuild's API locates its native binary from its own package folder, so it is required from
// node_modules at run time rather than bundled into the script.
const { buildSync } = createRequire(__filename)('esbuild') as typeof Esbuild;

/**
 * The commit before issue 16's generator speed work: the "previous version" that
 * `npm run bench:generators` compares against unless `--baseline` names another.
 */
export const previousVersionCommit = 'ee3bf10';

/** The project root (bench/ and scripts/ are bundled into node_modules/.cache/…). */
export function projectRoot(): string {
	return execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
}

/**
 * Bundles the generator registry of commit `ref` and returns the path of the bundle; throws
 * with git's message when the commit is not in this clone (a shallow CI clone, say).
 */
export function bundlePreviousRegistry(ref: string): string {
	const root = projectRoot();
	const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], {
		cwd: root,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe']
	}).trim();
	// Inside node_modules, so the bundle resolves zod, fft.js and tfjs from the project.
	const folder = path.join(root, 'node_modules', '.cache', 'noiselab-baseline', commit);
	const bundle = path.join(folder, 'registry.cjs');
	if (!fs.existsSync(bundle)) {
		fs.mkdirSync(folder, { recursive: true });
		const archive = execFileSync('git', ['archive', commit, 'src/core'], {
			cwd: root,
			maxBuffer: 256 * 2 ** 20
		});
		execFileSync('tar', ['-x', '-C', folder], { input: archive });
		buildSync({
			absWorkingDir: root,
			entryPoints: [path.join(folder, 'src/core/generators/registry.ts')],
			outfile: bundle,
			bundle: true,
			platform: 'node',
			target: 'node22',
			format: 'cjs',
			external: ['@tensorflow/*'],
			logLevel: 'warning'
		});
	}
	return bundle;
}

/** The registry of commit `ref` (see {@link bundlePreviousRegistry}). */
export function loadPreviousRegistry(ref: string): typeof Registry {
	return createRequire(__filename)(bundlePreviousRegistry(ref)) as typeof Registry;
}
