import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { fail } from '../../core/api/errors';
import { maxUploadBytes } from '../../core/api/explain';
import { formatMiB } from '../../core/format';
import {
	decodeWireMessage,
	encodeWireMessage,
	maxRequestBytes,
	maxWireMessageBytes,
	peekRequestId,
	wireApiPath,
	wireRequestSchema,
	wireSessionPath,
	type WireServerMessage
} from '../../core/api/wire';
import type { ApiCaller } from '../api/dispatcher';
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
	/** Where to report a connection that failed (a protocol violation, a server-side error). */
	log?: (line: string) => void;
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
 * header names this server, which defeats DNS rebinding. Nothing a client sends can throw out
 * of a handler: every socket has an error listener, and parsing is guarded.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
	const token = options.token ?? crypto.randomBytes(24).toString('base64url');
	const { context } = options;
	const log = options.log ?? (() => undefined);
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
			// A page whose socket keeps closing asks whether its token is still the server's: a
			// restarted server with a new token refuses it, and the page says so instead of waiting.
			const asked = new URL(request.url ?? '/', 'http://placeholder');
			if (asked.pathname === wireSessionPath) {
				const valid = tokenMatches(asked.searchParams.get('token'), token);
				response.writeHead(valid ? 204 : 401, { 'cache-control': 'no-store' }).end();
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
		})().catch((error: unknown) => {
			log(`HTTP ${request.method ?? '?'} failed: ${(error as Error).message}`);
			if (!response.headersSent) response.writeHead(500).end();
			else response.destroy();
		});
	});

	const sockets = new WebSocketServer({ noServer: true, maxPayload: maxWireMessageBytes });
	sockets.on('error', (error) => log(`WebSocket server error: ${error.message}`));
	server.on('upgrade', (request, socket, head) => {
		// Node hands an upgrade socket over without an error listener: a client that resets it
		// (even one refused below) would otherwise raise an uncaught ECONNRESET.
		socket.on('error', () => socket.destroy());
		const refuse = (status: number, reason: string) => {
			socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
		};
		let url: URL;
		try {
			url = new URL(request.url ?? '/', 'http://placeholder');
		} catch {
			return refuse(400, 'Bad Request');
		}
		const host = request.headers.host ?? '';
		const origin = request.headers.origin;
		if (url.pathname !== wireApiPath) return refuse(404, 'Not Found');
		if (!allowedHosts.has(host)) return refuse(421, 'Misdirected Request');
		// Browsers always send Origin; only our own page may connect. Tools without one need the token.
		if (origin !== undefined && !allowedHosts.has(origin.replace(/^http:\/\//, ''))) {
			return refuse(403, 'Forbidden');
		}
		if (!tokenMatches(url.searchParams.get('token'), token)) return refuse(401, 'Unauthorized');
		sockets.handleUpgrade(request, socket, head, (ws) => serveConnection(ws, context, log));
	});

	await new Promise<void>((resolve, reject) => {
		const refused = (error: NodeJS.ErrnoException) => {
			reject(
				new Error(
					error.code === 'EADDRINUSE'
						? `Port ${options.port} on ${options.host} is already in use. Pass --port 0 to pick a free one, or stop the other program.`
						: `Cannot listen on ${options.host}:${options.port}: ${error.message}`
				)
			);
		};
		server.once('error', refused);
		server.listen(options.port, options.host, () => {
			server.off('error', refused);
			// Once listening, a failure to accept one connection (too many open files) is logged.
			server.on('error', (error) => log(`Web server error: ${error.message}`));
			resolve();
		});
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

function serveConnection(ws: WebSocket, context: AppContext, log: (line: string) => void): void {
	const send = (message: WireServerMessage) => {
		if (ws.readyState !== ws.OPEN) return;
		let encoded: string | Uint8Array;
		try {
			encoded = encodeWireMessage(message);
		} catch (error) {
			log(`Cannot encode a message for the browser: ${(error as Error).message}`);
			if (message.kind !== 'response') return;
			encoded = encodeWireMessage({
				kind: 'response',
				id: message.id,
				result: fail('INTERNAL', 'The answer could not be encoded for the connection.')
			});
		}
		ws.send(encoded);
	};
	const unsubscribe = context.events.subscribe((event) => send({ kind: 'event', event }));
	// A closed tab's previews are cancelled: no core stays busy drawing images nobody will see.
	const connection = new AbortController();
	const caller: ApiCaller = { id: crypto.randomUUID(), signal: connection.signal };
	ws.on('close', () => {
		unsubscribe();
		connection.abort();
	});
	// A protocol violation (bad frame, invalid UTF-8, a message over maxWireMessageBytes) arrives
	// here after `ws` has closed the connection with the matching status code.
	ws.on('error', (error: NodeJS.ErrnoException) =>
		log(`Closed an API connection: ${error.message} (${error.code ?? 'error'}).`)
	);
	ws.on('message', (data, isBinary) => {
		void (async () => {
			const bytes = toBytes(data);
			const size = bytes.byteLength;
			if (size > maxRequestBytes) {
				send({
					kind: 'response',
					id: peekRequestId(isBinary ? bytes : new TextDecoder().decode(bytes.subarray(0, 64))),
					result: fail(
						'TOO_LARGE',
						`The request is ${formatMiB(size)}; a request may be at most ${formatMiB(maxRequestBytes)} (an uploaded image at most ${formatMiB(maxUploadBytes)}).`
					)
				});
				return;
			}
			let raw: unknown;
			try {
				raw = decodeWireMessage(isBinary ? bytes : new TextDecoder().decode(bytes));
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
			send({ kind: 'response', id, result: await context.dispatch(method, params, caller) });
		})().catch((error: unknown) => log(`An API message failed: ${(error as Error).message}`));
	});
}
