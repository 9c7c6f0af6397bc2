/**
 * `npm run bench:texture-pool`: how long a dead_leaves-textures export waits for its first
 * images when the pool is cold. Runs the same export twice on the export threads, each time with
 * a fresh cache: with the pool textures filled ahead of the images on all threads (the default,
 * which needs the persistent cache), and, as the reference, without the fill, where every thread
 * draws the textures of its own images into the cache (what exports did before).
 *
 * The two alternate for `--rounds` rounds, so that a changing load slows both alike; medians.
 *
 * Options: --size 128, --count 4, --threads <cores>, --rounds 1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cacheDirVariable } from '../src/main/generation/disk-cache';
import { exportDataset } from '../src/main/generation/export-dataset';

async function timeExport(
	fillTextures: boolean,
	size: number,
	count: number,
	threads: number
): Promise<{ first: number; all: number }> {
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'noiselab-texture-bench-'));
	process.env[cacheDirVariable] = path.join(folder, 'cache');
	const started = performance.now();
	let first = NaN;
	try {
		const result = await exportDataset(
			{
				preset: 'dead_leaves-textures',
				seed: 1,
				count,
				startIndex: 0,
				size,
				outDir: path.join(folder, 'dataset'),
				format: 'png',
				quality: 95,
				shards: false,
				workers: threads
			},
			{
				threadFile: path.resolve('dist', 'workers', 'generate-thread.cjs'),
				fillTextures,
				onProgress: (progress) => {
					if (progress.done > 0 && Number.isNaN(first)) first = performance.now() - started;
				}
			}
		);
		if (!result.ok) throw new Error(result.error.message);
		return { first: first / 1000, all: (performance.now() - started) / 1000 };
	} finally {
		fs.rmSync(folder, { recursive: true, force: true });
	}
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			size: { type: 'string', default: '128' },
			count: { type: 'string', default: '4' },
			threads: { type: 'string', default: String(os.availableParallelism()) },
			rounds: { type: 'string', default: '1' }
		}
	});
	if (!fs.existsSync(path.resolve('dist', 'workers', 'generate-thread.cjs'))) {
		throw new Error('Run `npm run build` first.');
	}
	const size = Number(values.size);
	const count = Number(values.count);
	const threads = Number(values.threads);
	console.log(
		`dead_leaves-textures export from a cold pool: ${count} images at ${size} px on ${threads} threads, load average ${os.loadavg()[0]?.toFixed(1)}`
	);
	const filledRuns: { first: number; all: number }[] = [];
	const aloneRuns: { first: number; all: number }[] = [];
	for (let round = 0; round < Number(values.rounds); round++) {
		filledRuns.push(await timeExport(true, size, count, threads));
		aloneRuns.push(await timeExport(false, size, count, threads));
	}
	const median = (runs: { first: number; all: number }[]) => {
		const at = (key: 'first' | 'all') =>
			runs.map((run) => run[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)] as number;
		return { first: at('first'), all: at('all') };
	};
	const filled = median(filledRuns);
	const alone = median(aloneRuns);
	const row = (label: string, t: { first: number; all: number }) =>
		console.log(
			`${label.padEnd(36)} first image ${t.first.toFixed(1).padStart(6)} s   all ${t.all.toFixed(1).padStart(6)} s`
		);
	row('pool filled on all threads', filled);
	row('each thread draws its own (before)', alone);
	console.log(
		`factor: first image ${(alone.first / filled.first).toFixed(2)}×, all ${(alone.all / filled.all).toFixed(2)}×`
	);
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
