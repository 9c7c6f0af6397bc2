import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiEvent } from '../../src/core/api/contract';
import type { Result } from '../../src/core/api/errors';
import type { WireServerMessage } from '../../src/core/api/wire';
import { latestSchemaVersion } from '../../src/main/store/database';
import { startTestServer, type TestServer } from '../support/app-server';

/** Opens the API socket; resolves with the socket or the HTTP status that refused it. */
function connect(
	app: TestServer,
	{
		token = app.server.token as string | null,
		origin = app.server.origin as string | undefined
	} = {}
): Promise<WebSocket | number> {
	const url = new URL('/api', app.server.origin);
	if (token !== null) url.searchParams.set('token', token);
	return new Promise((resolve, reject) => {
		const socket = new WebSocket(url, origin === undefined ? {} : { origin });
		socket.once('open', () => resolve(socket));
		socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
		socket.once('error', reject);
	});
}

/** Sends one request and waits for its response; events seen meanwhile are collected. */
function call(
	socket: WebSocket,
	id: number,
	method: string,
	params: unknown,
	events: ApiEvent[] = []
) {
	return new Promise<Result<unknown>>((resolve) => {
		const onMessage = (data: WebSocket.RawData) => {
			const message = JSON.parse(data.toString()) as WireServerMessage;
			if (message.kind === 'event') events.push(message.event);
			else if (message.id === id) {
				socket.off('message', onMessage);
				resolve(message.result);
			}
		};
		socket.on('message', onMessage);
		socket.send(JSON.stringify({ id, method, params }));
	});
}

function get(app: TestServer, path: string, headers: http.OutgoingHttpHeaders = {}) {
	return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
		(resolve, reject) => {
			http
				.get(new URL(path, app.server.origin), { headers }, (response) => {
					let body = '';
					response.on('data', (chunk: Buffer) => (body += chunk.toString()));
					response.on('end', () =>
						resolve({ status: response.statusCode ?? 0, headers: response.headers, body })
					);
				})
				.on('error', reject);
		}
	);
}

describe('web mode server', () => {
	let app: TestServer;
	beforeAll(async () => {
		app = await startTestServer();
	});
	afterAll(() => app.stop());

	it('prints a loopback URL that carries a long random token', () => {
		expect(app.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
	});

	it('serves the renderer with a strict Content-Security-Policy', async () => {
		const page = await get(app, '/');
		expect(page.status).toBe(200);
		expect(page.body).toContain('<div id="app">');
		expect(page.headers['content-security-policy']).toContain("script-src 'self'");
		expect(page.headers['content-security-policy']).not.toContain('unsafe');
		expect((await get(app, '/../package.json')).status).toBe(404);
	});

	it('refuses a request whose Host header is not this server (DNS rebinding)', async () => {
		expect((await get(app, '/', { host: 'evil.example:80' })).status).toBe(421);
	});

	it('refuses an API connection without the token, with a wrong token, or from another origin', async () => {
		expect(await connect(app, { token: null })).toBe(401);
		expect(await connect(app, { token: 'x'.repeat(32) })).toBe(401);
		expect(await connect(app, { origin: 'http://evil.example' })).toBe(403);
	});

	it('answers API calls over the socket and validates every request', async () => {
		const socket = await connect(app);
		if (typeof socket === 'number') throw new Error(`refused with ${socket}`);
		const status = await call(socket, 1, 'system.status', {});
		expect(status).toMatchObject({
			ok: true,
			value: { app: { name: 'NoiseLab' }, dataDir: { path: app.dataDir } }
		});
		const bad = await call(socket, 2, 'settings.update', { backend: 'gpu' });
		expect(bad.ok || bad.error.code).toBe('INVALID_REQUEST');
		const unknown = await call(socket, 3, 'system.shutdown', {});
		expect(unknown.ok || unknown.error.code).toBe('UNKNOWN_METHOD');
		socket.close();
	});

	it('answers a malformed message with INVALID_REQUEST instead of dropping the connection', async () => {
		const socket = await connect(app);
		if (typeof socket === 'number') throw new Error(`refused with ${socket}`);
		const reply = new Promise<WireServerMessage>((resolve) =>
			socket.once('message', (data) => resolve(JSON.parse(data.toString()) as WireServerMessage))
		);
		socket.send('not json');
		expect(await reply).toMatchObject({
			kind: 'response',
			id: -1,
			result: { ok: false, error: { code: 'INVALID_REQUEST' } }
		});
		expect((await call(socket, 9, 'settings.get', {})).ok).toBe(true);
		socket.close();
	});

	it('pushes events to every connected client', async () => {
		const [first, second] = await Promise.all([connect(app), connect(app)]);
		if (typeof first === 'number' || typeof second === 'number') throw new Error('refused');
		const secondEvents: ApiEvent[] = [];
		second.on('message', (data) => {
			const message = JSON.parse(data.toString()) as WireServerMessage;
			if (message.kind === 'event') secondEvents.push(message.event);
		});
		const updated = await call(first, 1, 'settings.update', { backend: 'cpu' });
		expect(updated).toEqual({
			ok: true,
			value: { backend: 'cpu', replicas: null, allowedFolders: [] }
		});
		await expect.poll(() => secondEvents.map((event) => event.name)).toContain('settings.changed');
		expect(secondEvents.find((event) => event.name === 'settings.changed')?.payload).toEqual({
			backend: 'cpu',
			replicas: null,
			allowedFolders: []
		});
		first.close();
		second.close();
	});

	it('runs the doctor through the real probe worker', async () => {
		const socket = await connect(app);
		if (typeof socket === 'number') throw new Error('refused');
		const report = await call(socket, 1, 'system.doctor', { refresh: true });
		expect(report).toMatchObject({
			ok: true,
			value: {
				database: { status: 'ok', schemaVersion: latestSchemaVersion() },
				workers: { ok: true },
				selection: { preference: 'cpu', active: 'cpu' }
			}
		});
		socket.close();
	});
});
