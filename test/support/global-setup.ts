import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { fixtureWorkersDir, repoRoot } from './paths';

/** Checks that the app is built and builds the test-only worker entries next to it. */
export default async function setup(): Promise<void> {
	for (const needed of [
		'dist/workers/probe.cjs',
		'dist/renderer/index.html',
		'dist/cli/noiselab.cjs'
	]) {
		if (!fs.existsSync(path.join(repoRoot, needed))) {
			throw new Error(
				`${needed} is missing: run \`npm run build\` before the integration and e2e tests.`
			);
		}
	}
	const source = path.join(repoRoot, 'test/fixtures/workers');
	await build({
		absWorkingDir: repoRoot,
		entryPoints: fs
			.readdirSync(source)
			.filter((file) => file.endsWith('.ts'))
			.map((file) => path.join(source, file)),
		outdir: fixtureWorkersDir,
		outExtension: { '.js': '.cjs' },
		bundle: true,
		platform: 'node',
		target: 'node22',
		format: 'cjs',
		logLevel: 'warning'
	});
}
