import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Result } from '../../src/core/api/errors';
import { decodeWireMessage, type WireServerMessage } from '../../src/core/api/wire';
import type { FromWorkerMessage, ToWorkerMessage } from '../../src/core/workers/protocol';
import type { WorkerLauncher } from '../../src/main/workers/host';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { startTestServer, type TestServer } from '../support/app-server';

/** What passed between the server and its generator workers, in order. */
interface Traffic {
	sent: ToWorkerMessage[];
	received: FromWorkerMessage[];
	/** Called after each message, so a test can wait for one without polling. */
	changed: (() => void)[];
}

/** The real launcher, recording the generator workers' messages. */
function recordingLauncher(traffic: Traffic): WorkerLauncher {
	const notify = () => traffic.changed.splice(0).forEach((listener) => listener());
	return (file, options) => {
		const channel = forkNodeWorker(file, options);
		if (options.name !== 'generator') return channel;
		channel.onMessage((message) => {
			traffic.received.push(message as FromWorkerMessage);
			notify();
		});
		return {
			...channel,
			pid: channel.pid,
			send: (message) => {
				traffic.sent.push(message);
				channel.send(message);
				notify();
			}
		};
	};
}

function until(traffic: Traffic, condition: () => boolean): Promise<void> {
	return new Promise((resolve) => {
		const check = () => (condition() ? resolve() : traffic.changed.push(check));
		check();
	});
}

/**
 * `serve` cancels a closed tab's previews (#17): its running and queued grids stop in the
 * generator worker instead of keeping the cores busy for images nobody will see.
 */
describe('a closed connection’s previews', () => {
	const traffic: Traffic = { sent: [], received: [], changed: [] };
	let app: TestServer;
	beforeAll(async () => {
		app = await startTestServer(undefined, { launcher: recordingLauncher(traffic) });
	});
	afterAll(() => app.stop());

	it('are cancelled in the worker when the socket closes', { timeout: 120_000 }, async () => {
		const url = new URL('/api', app.server.origin);
		url.searchParams.set('token', app.server.token);
		const socket = new WebSocket(url, { origin: app.server.origin });
		await new Promise((resolve, reject) => {
			socket.once('open', resolve);
			socket.once('error', reject);
		});
		const firstImage = new Promise<void>((resolve) => {
			socket.on('message', (data: Buffer, isBinary: boolean) => {
				const message = decodeWireMessage(
					isBinary ? new Uint8Array(data) : data.toString()
				) as WireServerMessage;
				if (message.kind === 'event' && message.event.name === 'generators.previewImage') {
					resolve();
				}
			});
		});
		// Two slow grids of 32 wavelet images at 192 px (several seconds each even on many cores):
		// one streaming its images, one on another stream beside or behind it.
		const grid = (stream: string, seed: number) => ({
			config: { preset: 'stat-wmm', size: 192 },
			seed,
			indices: Array.from({ length: 32 }, (_, index) => index),
			stream,
			progressiveId: stream,
			streamAfterMs: 0
		});
		socket.send(JSON.stringify({ id: 1, method: 'generators.preview', params: grid('a', 1) }));
		socket.send(JSON.stringify({ id: 2, method: 'generators.preview', params: grid('b', 2) }));
		const previewRuns = () =>
			traffic.sent.flatMap((message) =>
				message.kind === 'run' && message.task === 'preview' ? [message.id] : []
			);
		await until(traffic, () => previewRuns().length === 2);
		await firstImage;
		socket.close();

		// Each grid's run ends in the worker, answered as cancelled: the worker stopped drawing it.
		const [first, second] = previewRuns() as [number, number];
		const done = (id: number) =>
			traffic.received.find(
				(message): message is Extract<FromWorkerMessage, { kind: 'done' }> =>
					message.kind === 'done' && message.id === id
			);
		await until(traffic, () => done(first) !== undefined && done(second) !== undefined);
		for (const id of [first, second]) {
			expect(traffic.sent).toContainEqual({ kind: 'cancel', id });
			const result = done(id)?.result as Result<unknown>;
			expect(result.ok ? 'finished the grid' : result.error.code).toBe('CANCELLED');
		}
		// Cancelled, not killed: the worker honoured the cancel and keeps serving.
		const again = await app.context.dispatch('generators.preview', {
			config: { preset: 'control-white_noise', size: 32 },
			seed: 0,
			indices: [0]
		});
		expect(again.ok ? 'ok' : again.error.message).toBe('ok');
		expect(traffic.received.filter((message) => message.kind === 'ready')).toHaveLength(1);
	});
});
