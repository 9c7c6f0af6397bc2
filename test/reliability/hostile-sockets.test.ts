/**
 * The web-mode server against what a socket can send: malformed upgrades, clients that reset,
 * every kind of WebSocket frame the protocol forbids, oversized messages and uploads. The server
 * runs as `noiselab serve` in a process of its own, so a fault that would kill it shows as a dead
 * process, and after each input a normal call on a new connection must still succeed.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Result } from '../../src/core/api/errors';
import { maxUploadBytes } from '../../src/core/api/explain';
import {
	decodeWireMessage,
	encodeWireMessage,
	maxRequestBytes,
	maxWireMessageBytes,
	type WireServerMessage
} from '../../src/core/api/wire';
import { lastResortMarker } from '../../src/main/server/last-resort';
import { temporaryFolder } from '../support/paths';
import { encodeFrame, opcodes, RawConnection, upgradeRequest } from '../support/raw-websocket';
import { spawnServe, type ServeProcess } from '../support/serve-process';

const mib = 2 ** 20;

describe('noiselab serve survives hostile sockets', () => {
	const home = temporaryFolder();
	let serve: ServeProcess;
	let port: number;
	let token: string;
	/** What the battery sent and how the server answered, for the summary line. */
	const tally = { sent: 0, answered: 0, unanswerable: 0 };

	beforeAll(async () => {
		serve = await spawnServe(home.path);
		const url = new URL(serve.url);
		port = Number(url.port);
		token = url.searchParams.get('token') ?? '';
	});
	afterAll(async () => {
		await serve?.killHard();
		home.remove();
		console.log(
			`hostile inputs: ${tally.sent} sent, ${tally.answered} answered with a clear error, ` +
				`${tally.unanswerable} from clients that were gone before an answer could reach them`
		);
	});

	/** Calls a method over a fresh, well-behaved connection and returns its result. */
	async function call(method: string, params: unknown): Promise<Result<unknown>> {
		const socket = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, {
			origin: `http://127.0.0.1:${port}`
		});
		try {
			await once(socket, 'open');
			const id = 1;
			const reply = new Promise<Result<unknown>>((resolve, reject) => {
				socket.on('message', (data, isBinary) => {
					const message = decodeWireMessage(
						isBinary ? new Uint8Array(data as Buffer) : data.toString()
					) as WireServerMessage;
					if (message.kind === 'response' && message.id === id) resolve(message.result);
				});
				socket.once('close', (code) =>
					reject(new Error(`The server closed the socket (${code}).`))
				);
			});
			socket.send(encodeWireMessage({ id, method, params }));
			return await reply;
		} finally {
			socket.terminate();
		}
	}

	/** The server is alive and a normal call on a new connection succeeds. */
	async function expectServing(): Promise<void> {
		expect(() => process.kill(serve.pid, 0), serve.output()).not.toThrow();
		const result = await call('settings.get', {});
		expect(result, serve.output()).toMatchObject({ ok: true, value: { backend: 'auto' } });
	}

	/** Counts one input; `answered` when the server gave a clear error (HTTP status, close code, API error). */
	function count(answered: boolean): void {
		tally.sent += 1;
		if (answered) tally.answered += 1;
		else tally.unanswerable += 1;
	}

	it('answers an upgrade whose path does not parse with 400 (no token needed to try)', async () => {
		for (const target of ['//[', '//[::1', 'http://[', '/api?token=%E0%A4%A']) {
			for (let attempt = 0; attempt < 3; attempt++) {
				const connection = await RawConnection.open(port);
				connection.write(upgradeRequest(target, `127.0.0.1:${port}`));
				const status = await connection.httpStatus();
				expect(status, target).toBeGreaterThanOrEqual(400);
				expect(status, target).toBeLessThan(500);
				count(true);
				connection.end();
			}
		}
		await expectServing();
	});

	it('survives upgrades refused for want of a token whose clients reset the connection', async () => {
		for (let delayMs = 0; delayMs <= 20; delayMs++) {
			const connection = await RawConnection.open(port);
			connection.write(upgradeRequest('/api', `127.0.0.1:${port}`));
			// The timing is the attack: the server's refusal meets a connection already reset.
			await new Promise((resolve) => setTimeout(resolve, delayMs));
			connection.reset();
			count(false);
		}
		await expectServing();
	});

	it('survives clients that reset just after a successful upgrade, or halfway through a frame', async () => {
		for (let attempt = 0; attempt < 5; attempt++) {
			const connection = await RawConnection.upgraded(port, token);
			connection.reset();
			count(false);
			const partial = await RawConnection.upgraded(port, token);
			partial.write(
				encodeFrame({ opcode: opcodes.text, payload: 'x'.repeat(1000) }).subarray(0, 300)
			);
			partial.reset();
			count(false);
		}
		await expectServing();
	});

	it('answers upgrades the WebSocket handshake forbids with an HTTP error', async () => {
		const requests = [
			upgradeRequest(`/api?token=${token}`, `127.0.0.1:${port}`, { 'Sec-WebSocket-Key': null }),
			upgradeRequest(`/api?token=${token}`, `127.0.0.1:${port}`, { 'Sec-WebSocket-Version': '7' }),
			upgradeRequest(`/api?token=${token}`, 'evil.example:80'),
			upgradeRequest(`/api?token=${token}`, `127.0.0.1:${port}`, { Origin: 'http://evil.example' }),
			upgradeRequest('/elsewhere', `127.0.0.1:${port}`),
			'NOT-HTTP\r\n\r\n'
		];
		for (const request of requests) {
			const connection = await RawConnection.open(port);
			connection.write(request);
			const status = await connection.httpStatus();
			expect(status, request).toBeGreaterThanOrEqual(400);
			count(true);
			connection.end();
		}
		await expectServing();
	});

	/** Frames the protocol forbids, and the close code RFC 6455 §7.4.1 prescribes for each. */
	const forbiddenFrames: { name: string; bytes: () => Buffer; code: number }[] = [
		{
			name: 'an unmasked client frame',
			bytes: () => encodeFrame({ opcode: opcodes.text, payload: '{}', masked: false }),
			code: 1002
		},
		{
			name: 'reserved data opcode 3',
			bytes: () => encodeFrame({ opcode: 3, payload: 'x' }),
			code: 1002
		},
		{
			name: 'reserved control opcode 0xB',
			bytes: () => encodeFrame({ opcode: 0xb, payload: 'x' }),
			code: 1002
		},
		{
			name: 'RSV1 set without a negotiated extension',
			bytes: () => encodeFrame({ opcode: opcodes.text, payload: '{}', rsv: 4 }),
			code: 1002
		},
		{
			name: 'invalid UTF-8 in a text frame',
			bytes: () =>
				encodeFrame({ opcode: opcodes.text, payload: Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d) }),
			code: 1007
		},
		{
			name: 'a fragmented ping',
			bytes: () => encodeFrame({ opcode: opcodes.ping, payload: 'x', fin: false }),
			code: 1002
		},
		{
			name: 'a ping longer than 125 bytes',
			bytes: () => encodeFrame({ opcode: opcodes.ping, payload: 'x'.repeat(200) }),
			code: 1002
		},
		{
			name: 'a continuation frame with nothing to continue',
			bytes: () => encodeFrame({ opcode: opcodes.continuation, payload: 'x' }),
			code: 1002
		},
		{
			name: 'a close frame with an invalid status code',
			bytes: () => encodeFrame({ opcode: opcodes.close, payload: Uint8Array.of(0x03, 0xe7) }),
			code: 1002
		},
		{
			name: 'a frame header announcing more than the server accepts',
			bytes: () =>
				encodeFrame({ opcode: opcodes.text, declaredLength: maxWireMessageBytes + 1 }).subarray(
					0,
					14
				),
			code: 1009
		}
	];

	it.each(forbiddenFrames)(
		'closes the connection with $code on $name, and keeps serving',
		async (frame) => {
			const connection = await RawConnection.upgraded(port, token);
			connection.write(frame.bytes());
			expect(await connection.closeCode()).toBe(frame.code);
			count(true);
			connection.end();
			await expectServing();
		}
	);

	it('answers malformed and oversized requests with an error response on the same connection', async () => {
		const connection = await RawConnection.upgraded(port, token);
		const send = (payload: string | Uint8Array, opcode: number = opcodes.text) =>
			connection.write(encodeFrame({ opcode, payload }));

		// A text frame above the old 16 MiB limit, within the request limit: validated and refused.
		send(JSON.stringify({ id: 1, method: 'settings.get', params: { pad: 'x'.repeat(17 * mib) } }));
		expect(await connection.response(1)).toMatchObject({
			ok: false,
			error: { code: 'INVALID_REQUEST' }
		});
		count(true);

		// Above the request limit: refused by size, naming the limit, before any parsing.
		const tooLarge = maxRequestBytes + 5 * mib;
		send(JSON.stringify({ id: 2, method: 'settings.get', params: { pad: 'x'.repeat(tooLarge) } }));
		const refused = await connection.response(2);
		expect(refused).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
		expect(refused?.error?.message).toContain(`${maxRequestBytes / mib} MiB`);
		count(true);

		// A binary frame whose header claims more bytes than follow.
		const lying = new Uint8Array(16);
		new DataView(lying.buffer).setUint32(0, 1000, true);
		send(lying, opcodes.binary);
		expect(await connection.response(-1)).toMatchObject({
			ok: false,
			error: { code: 'INVALID_REQUEST' }
		});
		count(true);

		// JSON nested a million levels deep.
		send(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`);
		expect(await connection.response(-1)).toMatchObject({
			ok: false,
			error: { code: 'INVALID_REQUEST' }
		});
		count(true);

		// An unknown method with a name of 1 MiB: refused without echoing the name back.
		send(JSON.stringify({ id: 3, method: 'm'.repeat(mib), params: {} }));
		const unknown = await connection.response(3);
		expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
		expect(unknown?.error?.message.length).toBeLessThan(4096);
		count(true);

		// A prototype key where the params go.
		send('{"id":4,"method":"settings.update","params":{"__proto__":{"backend":"wasm"}}}');
		expect(await connection.response(4)).toMatchObject({
			ok: false,
			error: { code: 'INVALID_REQUEST' }
		});
		count(true);

		// The connection itself still works.
		send(JSON.stringify({ id: 5, method: 'settings.get', params: {} }));
		expect(await connection.response(5)).toMatchObject({ ok: true });
		connection.end();
		await expectServing();
	});

	it('answers an 18 MiB Explain upload, and refuses larger ones with the limit in the message', async () => {
		const explain = (bytes: number) =>
			call('explain.compute', {
				encoders: [{ runId: 1 }],
				dataset: 'fashion-mnist-mini',
				upload: { name: 'photo.jpg', bytes: new Uint8Array(bytes).fill(7) }
			});
		// The photo is within the limit: the request reaches the service, which finds no run 1.
		expect(await explain(18 * mib)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
		count(true);
		// Just over the upload limit, within the message limit: the contract refuses the field.
		const overUpload = await explain(maxUploadBytes + 1024);
		expect(overUpload).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
		expect(overUpload.ok || overUpload.error.message).toContain(`${maxUploadBytes / mib} MiB`);
		count(true);
		// Over the message limit: refused by size.
		expect(await explain(maxRequestBytes + mib)).toMatchObject({
			ok: false,
			error: { code: 'TOO_LARGE' }
		});
		count(true);
		await expectServing();
	});

	it('never needed its last-resort handler: every fault was handled where it arose', () => {
		expect(serve.output()).not.toContain(lastResortMarker);
	});
});
