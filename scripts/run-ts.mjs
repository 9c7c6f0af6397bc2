// Runs a TypeScript script of the project (a benchmark in bench/, a tool in scripts/): bundles it
// with esbuild and runs it with Node, passing the remaining arguments.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [file, ...args] = process.argv.slice(2);
const source = file ? path.resolve(root, file) : '';
if (!file || !fs.existsSync(source)) {
	console.error('Usage: node scripts/run-ts.mjs <path/to/script.ts> [options]');
	process.exit(2);
}
const name = path.basename(source, '.ts');
// Inside node_modules, so the bundle resolves the external packages from the project.
const cacheDir = path.join(root, 'node_modules', '.cache', 'noiselab-scripts');
fs.mkdirSync(cacheDir, { recursive: true });
const outfile = path.join(cacheDir, `${name}.cjs`);
await build({
	absWorkingDir: root,
	entryPoints: [source],
	outfile,
	bundle: true,
	platform: 'node',
	target: 'node22',
	format: 'cjs',
	external: ['sharp', 'better-sqlite3', '@tensorflow/*'],
	logLevel: 'warning',
	nodePaths: [path.join(root, 'node_modules')]
});
const run = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit', cwd: root });
process.exit(run.status ?? 1);
