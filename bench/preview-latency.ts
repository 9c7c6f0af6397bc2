/**
 * `npm run bench:preview`: how long the Studio waits for a preview grid. Starts the web-mode
 * server in this process with a real generator worker, then times `generators.preview` over the
 * real WebSocket (binary frames) for 4×4 grids at 128 px: request to decoded pixels.
 *
 * Options: --rounds 15, --preset a,b.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { decodeWireMessage, encodeWireMessage, type WireServerMessage } from '../src/core/api/wire';
import { createAppContext } from '../src/main/app-context';
import { startWebServer } from '../src/main/server/web-server';
import { forkNodeWorker } from '../src/main/workers/node-launcher';

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			rounds: { type: 'string', default: '15' },
			preset: {
				type: 'string',
				default:
					'dead_leaves-squares,dead_leaves-mixed,stat-spectrum,stat-spectrum_color,fractaldb-plain,control-white_noise'
			}
		}
	});
	const dist = path.resolve('dist');
	if (!fs.existsSync(path.join(dist, 'workers', 'generator.cjs')))
		throw new Error('Run `npm run build` first.');
	const home = fs.mkdtempSync(path.join(os.tmpdir(), 'noiselab-latency-'));
	const context = createAppContext({
		dataDir: { path: home, source: 'NOISELAB_HOME' },
		launcher: forkNodeWorker,
		workersDir: path.join(dist, 'workers')
	});
	const server = await startWebServer({
		host: '127.0.0.1',
		port: 0,
		rendererDir: path.join(dist, 'renderer'),
		context
	});
	const url = new URL('/api', server.origin);
	url.searchParams.set('token', server.token);
	const socket = new WebSocket(url, { origin: server.origin });
	await new Promise((resolve) => socket.once('open', resolve));
	let nextId = 1;
	const call = (method: string, params: unknown) =>
		new Promise<{ ok: boolean; value?: { images: { rgb: Uint8Array }[] } }>((resolve) => {
			const id = nextId++;
			const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
				const message = decodeWireMessage(
					isBinary ? new Uint8Array(data as Buffer) : data.toString()
				) as WireServerMessage;
				if (message.kind === 'response' && message.id === id) {
					socket.off('message', onMessage);
					resolve(message.result as never);
				}
			};
			socket.on('message', onMessage);
			socket.send(encodeWireMessage({ id, method, params }));
		});

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
			// A new seed each round, as when a slider moves: nothing is cached between rounds.
			const result = await call('generators.preview', {
				config: { preset, size: 128 },
				seed: round + 1,
				indices: Array.from({ length: 16 }, (_, i) => i)
			});
			if (!result.ok) throw new Error(`${preset}: ${JSON.stringify(result)}`);
			bytes = result.value?.images.reduce((sum, image) => sum + image.rgb.byteLength, 0) ?? 0;
			if (round > 0) times.push(performance.now() - started); // Round 0 warms the worker.
		}
		times.sort((a, b) => a - b);
		const at = (q: number) =>
			`${(times[Math.min(times.length - 1, Math.floor(q * times.length))] as number).toFixed(0)} ms`;
		console.log(
			`${preset.padEnd(24)} ${at(0.5).padStart(9)} ${at(0.9).padStart(9)} ${String(bytes).padStart(10)}`
		);
	}
	socket.close();
	await server.close();
	context.close();
	fs.rmSync(home, { recursive: true, force: true });
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
