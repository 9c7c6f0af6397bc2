// Builds everything `npm start`, `npm run serve` and the CLI run: the Node-side bundles with
// esbuild (one file per entry, native and optional packages left external) and the renderer
// with Vite.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const workerEntries = path.join(root, 'src/main/workers/entries');

/** Loaded at run time from node_modules: native code, wasm files, and the app's host. */
const external = ['electron', 'better-sqlite3', 'sharp', '@tensorflow/*'];

const nodeBundles = [
	{ in: 'src/main/electron/main.ts', out: 'electron/main' },
	{ in: 'src/preload/preload.ts', out: 'preload/preload' },
	{ in: 'src/main/cli/entry.ts', out: 'cli/noiselab' },
	...fs
		.readdirSync(workerEntries)
		.filter((file) => file.endsWith('.ts'))
		.map((file) => ({
			in: path.join('src/main/workers/entries', file),
			out: `workers/${path.basename(file, '.ts')}`
		}))
];

const started = performance.now();
fs.rmSync(dist, { recursive: true, force: true });
await esbuild({
	absWorkingDir: root,
	entryPoints: nodeBundles,
	outdir: dist,
	outExtension: { '.js': '.cjs' },
	bundle: true,
	platform: 'node',
	target: 'node22',
	format: 'cjs',
	external,
	sourcemap: 'linked',
	logLevel: 'warning'
});
await viteBuild({ configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' });
console.log(`Built dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
