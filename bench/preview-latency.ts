/**
 * `npm run bench:preview`: how long the Studio waits for a preview grid. Starts the web-mode
 * server in this process with a real generator worker (as the integration tests do), then times
 * `generators.preview` over the real WebSocket (binary frames) for 4×4 grids at 128 px: request
 * to decoded pixels. Beside it, as the reference, the same grid drawn one image after another on
 * one thread of this process (what the Studio waited for before grids were spread over threads),
 * timed in the same rounds so that load slows both alike.
 *
 * dead_leaves-textures is timed apart, on a cold texture pool (a fresh cache each round): the
 * first image and the whole 4×4 grid on the preview threads, with the pool textures filled ahead
 * of the images on all threads (the default) and, as the reference, without the fill, where each
 * thread draws its own images' textures (what previews did before), alternating.
 *
 * Options: --rounds 15, --preset a,b, --texture-rounds 1 (0 skips dead_leaves-textures).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/core/generators/registry';
import { cacheDirVariable } from '../src/main/generation/disk-cache';
import { PreviewThreads } from '../src/main/generation/preview-threads';
import { TestApiClient } from '../test/support/api-client';
import { startTestServer } from '../test/support/app-server';

const defaultPresets = [
	'dead_leaves-squares',
	'dead_leaves-mixed',
	'stat-spectrum',
	'stat-spectrum_color',
	'stat-wmm',
	'stat-spectrum_color_wmm',
	'stylegan-highfreq',
	'stylegan-sparse',
	'stylegan-oriented',
	'fractaldb-plain',
	'control-white_noise'
];

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			rounds: { type: 'string', default: '15' },
			preset: { type: 'string', default: defaultPresets.join(',') },
			'texture-rounds': { type: 'string', default: '1' }
		}
	});
	if (!fs.existsSync(path.resolve('dist', 'workers', 'generator.cjs'))) {
		throw new Error('Run `npm run build` first.');
	}
	const app = await startTestServer();
	const api = await TestApiClient.connect(app);
	console.log(
		`Preview latency, 4×4 grid at 128 px, ${os.availableParallelism()} cores, Node ${process.versions.node}`
	);
	console.log(
		`${'preset'.padEnd(24)} ${'median'.padStart(9)} ${'p90'.padStart(9)} ${'1 thread'.padStart(9)} ${'×'.padStart(6)} ${'bytes'.padStart(10)}`
	);
	const rounds = Number(values.rounds);
	for (const preset of values.preset.split(',')) {
		const times: number[] = [];
		const sequential: number[] = [];
		const resolved = resolveConfig({ preset, size: 128 });
		if (!resolved.ok) throw new Error(`${preset}: ${resolved.message}`);
		const { generator, params, size } = resolved.value;
		let bytes = 0;
		for (let round = 0; round <= rounds; round++) {
			const started = performance.now();
			// A new seed each round, as when a slider moves: nothing is reused between rounds.
			const result = await api.call('generators.preview', {
				config: { preset, size: 128 },
				seed: round + 1,
				indices: Array.from({ length: 16 }, (_, i) => i)
			});
			if (!result.ok) throw new Error(`${preset}: ${result.error.message}`);
			bytes = result.value.images.reduce((sum, image) => sum + image.rgb.byteLength, 0);
			if (round > 0) times.push(performance.now() - started); // Round 0 warms the worker.
			const alone = performance.now();
			for (let index = 0; index < 16; index++)
				await generator.generate(params, round + 1, index, size);
			if (round > 0) sequential.push(performance.now() - alone);
		}
		const at = (values: number[], q: number) =>
			[...values].sort((a, b) => a - b)[
				Math.min(values.length - 1, Math.floor(q * values.length))
			] as number;
		const ms = (value: number) => `${value.toFixed(0)} ms`;
		const factor = at(sequential, 0.5) / at(times, 0.5);
		console.log(
			`${preset.padEnd(24)} ${ms(at(times, 0.5)).padStart(9)} ${ms(at(times, 0.9)).padStart(9)} ${ms(at(sequential, 0.5)).padStart(9)} ${`${factor.toFixed(2)}×`.padStart(6)} ${String(bytes).padStart(10)}`
		);
	}
	api.close();
	await app.stop();
	const textureRounds = Number(values['texture-rounds']);
	if (textureRounds > 0) await texturedGrid(textureRounds);
}

/** The first image and the whole grid of dead_leaves-textures on a cold pool, in seconds. */
async function coldTexturedGrid(fillTextures: boolean): Promise<{ first: number; all: number }> {
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'noiselab-preview-textures-'));
	// The preview threads read it when they start, as in the generator worker.
	process.env[cacheDirVariable] = folder;
	const threads = new PreviewThreads(path.resolve('dist', 'workers', 'preview-thread.cjs'), {
		fillTextures
	});
	const started = performance.now();
	let first = NaN;
	try {
		await threads.render(
			{ preset: 'dead_leaves-textures', size: 128 },
			1,
			Array.from({ length: 16 }, (_, i) => i),
			new AbortController().signal,
			() => {
				if (Number.isNaN(first)) first = performance.now() - started;
			}
		);
		return { first: first / 1000, all: (performance.now() - started) / 1000 };
	} finally {
		fs.rmSync(folder, { recursive: true, force: true });
	}
}

async function texturedGrid(rounds: number): Promise<void> {
	const threads = Math.min(8, os.availableParallelism());
	console.log(
		`\ndead_leaves-textures, 4×4 grid at 128 px on ${threads} preview threads, cold texture pool (medians of ${rounds})`
	);
	const filled: { first: number; all: number }[] = [];
	const alone: { first: number; all: number }[] = [];
	for (let round = 0; round < rounds; round++) {
		filled.push(await coldTexturedGrid(true));
		alone.push(await coldTexturedGrid(false));
	}
	const median = (values: number[]) =>
		[...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] as number;
	const row = (label: string, runs: { first: number; all: number }[]) =>
		console.log(
			`${label.padEnd(44)} first image ${median(runs.map((run) => run.first))
				.toFixed(1)
				.padStart(6)} s   grid ${median(runs.map((run) => run.all))
				.toFixed(1)
				.padStart(6)} s`
		);
	row('textures filled on all threads first', filled);
	row('reference: each thread draws its own', alone);
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
