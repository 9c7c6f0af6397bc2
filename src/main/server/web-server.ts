import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { fail } from '../../core/api/errors';
import {
	decodeWireMessage,
	encodeWireMessage,
	wireApiPath,
	wireRequestSchema,
	type WireServerMessage
} from '../../core/api/wire';
import type { AppContext } from '../app-context';
import { contentSecurityPolicy, readStaticFile } from './static-files';

/** How to run web mode. */
export interface WebServerOptions {
	host: string;
	/** 0 picks a free port. */
	port: number;
	/** The built renderer (`dist/renderer`). */
	rendererDir: string;
	context: AppContext;
	/** The session token; a random one when omitted. */
	token?: string;
}

/** A running web-mode server. */
export interface WebServer {
	/** The URL to open, token included. */
	readonly url: string;
	readonly origin: string;
	readonly token: string;
	readonly port: number;
	close(): Promise<void>;
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
	return (
		host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host)
	);
}

/**
 * Serves the built renderer and the API over WebSocket. The API refuses connections without
 * the session token or from a foreign Origin, and every request is refused unless its Host
 * header names this server, which defeats DNS rebinding.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
	const token = options.token ?? crypto.randomBytes(24).toString('base64url');
	const { context } = options;
	let allowedHosts = new Set<string>();

	const server = http.createServer((request, response) => {
		void (async () => {
			if (!allowedHosts.has(request.headers.host ?? '')) {
				response.writeHead(421, { 'content-type': 'text/plain' }).end('Unknown Host header.\n');
				return;
			}
			if (request.method !== 'GET' && request.method !== 'HEAD') {
				response.writeHead(405, { allow: 'GET, HEAD' }).end();
				return;
			}
			const file = await readStaticFile(options.rendererDir, request.url ?? '/');
			if (!file) {
				response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found.\n');
				return;
			}
			response.writeHead(200, {
				'content-type': file.contentType,
				'content-security-policy': contentSecurityPolicy,
				'x-content-type-options': 'nosniff',
				'referrer-policy': 'no-referrer',
				'cache-control': 'no-cache'
			});
			response.end(request.method === 'HEAD' ? undefined : file.body);
		})();
	});

	const sockets = new WebSocketServer({ noServer: true, maxPayload: 16 * 2 ** 20 });
	server.on('upgrade', (request, socket, head) => {
		const refuse = (status: number, reason: string) => {
			socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
		};
		const url = new URL(request.url ?? '/', 'http://placeholder');
		const host = request.headers.host ?? '';
		const origin = request.headers.origin;
		if (url.pathname !== wireApiPath) return refuse(404, 'Not Found');
		if (!allowedHosts.has(host)) return refuse(421, 'Misdirected Request');
		// Browsers always send Origin; only our own page may connect. Tools without one need the token.
		if (origin !== undefined && !allowedHosts.has(origin.replace(/^http:\/\//, ''))) {
			return refuse(403, 'Forbidden');
		}
		if (!tokenMatches(url.searchParams.get('token'), token)) return refuse(401, 'Unauthorized');
		sockets.handleUpgrade(request, socket, head, (ws) => serveConnection(ws, context));
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', (error: NodeJS.ErrnoException) => {
			reject(
				new Error(
					error.code === 'EADDRINUSE'
						? `Port ${options.port} on ${options.host} is already in use. Pass --port 0 to pick a free one, or stop the other program.`
						: `Cannot listen on ${options.host}:${options.port}: ${error.message}`
				)
			);
		});
		server.listen(options.port, options.host, resolve);
	});
	const { port } = server.address() as AddressInfo;
	const hostForUrl =
		options.host.includes(':') && !options.host.startsWith('[')
			? `[${options.host}]`
			: options.host;
	allowedHosts = new Set(
		[hostForUrl, ...(isLoopbackHost(options.host) ? ['127.0.0.1', 'localhost', '[::1]'] : [])].map(
			(name) => `${name}:${port}`
		)
	);
	const origin = `http://${hostForUrl}:${port}`;
	return {
		url: `${origin}/?token=${token}`,
		origin,
		token,
		port,
		close: async () => {
			for (const client of sockets.clients) client.terminate();
			await new Promise<void>((resolve) => sockets.close(() => resolve()));
			await new Promise<void>((resolve) => server.close(() => resolve()));
		}
	};
}

function tokenMatches(given: string | null, expected: string): boolean {
	if (given === null) return false;
	const a = Buffer.from(given);
	const b = Buffer.from(expected);
	return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function toBytes(data: WebSocket.RawData): Uint8Array {
	if (Array.isArray(data)) return Buffer.concat(data);
	return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

function serveConnection(ws: WebSocket, context: AppContext): void {
	const send = (message: WireServerMessage) => {
		if (ws.readyState === ws.OPEN) ws.send(encodeWireMessage(message));
	};
	const unsubscribe = context.events.subscribe((event) => send({ kind: 'event', event }));
	ws.on('close', unsubscribe);
	ws.on('message', (data, isBinary) => {
		void (async () => {
			let raw: unknown;
			try {
				raw = decodeWireMessage(isBinary ? toBytes(data) : data.toString());
			} catch {
				raw = undefined;
			}
			const request = wireRequestSchema.safeParse(raw);
			if (!request.success) {
				const id =
					typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
				send({
					kind: 'response',
					id,
					result: fail(
						'INVALID_REQUEST',
						'Expected a JSON message {"id": number, "method": string, "params": object}.'
					)
				});
				return;
			}
			const { id, method, params } = request.data;
			send({ kind: 'response', id, result: await context.dispatch(method, params) });
		})();
	});
}
