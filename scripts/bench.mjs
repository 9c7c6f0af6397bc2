// Runs a benchmark from bench/<name>.ts: bundles it with esbuild into a temporary file and runs
// it with Node, passing the remaining arguments. Benchmarks print figures; they assert nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...args] = process.argv.slice(2);
const source = path.join(root, 'bench', `${name}.ts`);
if (!name || !fs.existsSync(source)) {
	const known = fs.readdirSync(path.join(root, 'bench')).map((file) => file.replace(/\.ts$/, ''));
	console.error(`Usage: node scripts/bench.mjs <${known.join('|')}> [options]`);
	process.exit(2);
}
const outfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'noiselab-bench-')), `${name}.cjs`);
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
fs.rmSync(path.dirname(outfile), { recursive: true, force: true });
process.exit(run.status ?? 1);
