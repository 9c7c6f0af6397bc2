/**
 * `npm run bench:preview`: how long the Studio waits for a preview grid. Starts the web-mode
 * server in this process with a real generator worker (as the integration tests do), then times
 * `generators.preview` over the real WebSocket (binary frames) for 4×4 grids at 128 px: request
 * to decoded pixels.
 *
 * Options: --rounds 15, --preset a,b.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
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
			preset: { type: 'string', default: defaultPresets.join(',') }
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
		`${'preset'.padEnd(24)} ${'median'.padStart(9)} ${'p90'.padStart(9)} ${'bytes'.padStart(10)}`
	);
	const rounds = Number(values.rounds);
	for (const preset of values.preset.split(',')) {
		const times: number[] = [];
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
		}
		times.sort((a, b) => a - b);
		const at = (q: number) =>
			`${(times[Math.min(times.length - 1, Math.floor(q * times.length))] as number).toFixed(0)} ms`;
		console.log(
			`${preset.padEnd(24)} ${at(0.5).padStart(9)} ${at(0.9).padStart(9)} ${String(bytes).padStart(10)}`
		);
	}
	api.close();
	await app.stop();
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
