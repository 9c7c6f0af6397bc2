/**
 * The two ways the renderer reaches the service layer. The rest of the UI sees only the
 * {@link ApiClient} that {@link connectApi} returns.
 */
import {
	createApiClient,
	type ApiClient,
	type ApiTransport,
	type PreloadBridge
} from '../../core/api/client';
import type { ApiEvent } from '../../core/api/contract';
import { fail, type Result } from '../../core/api/errors';
import {
	decodeWireMessage,
	encodeWireMessage,
	maxRequestBytes,
	wireApiPath,
	wireSessionPath,
	type WireServerMessage
} from '../../core/api/wire';
import { formatMiB } from '../../core/format';

declare global {
	interface Window {
		/** Exposed by Electron's preload; absent in web mode. */
		noiselab?: PreloadBridge;
	}
}

/**
 * Connection state, shown by the shell: `unauthorized` when the page has no token, `refused` when
 * the server no longer accepts it (restarted with a new token).
 */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized' | 'refused';

function electronTransport(bridge: PreloadBridge): ApiTransport {
	return {
		kind: 'electron',
		call: (method, params) => bridge.methods[method](params),
		subscribe: (listener) => bridge.subscribe(listener)
	};
}

/**
 * Web mode: JSON over one WebSocket, authorised by the token from the page URL. Reconnects with
 * back-off; calls made while disconnected wait for the connection, and calls in flight when it
 * drops fail with DISCONNECTED.
 */
class WebSocketTransport implements ApiTransport {
	readonly kind = 'websocket';
	private socket: WebSocket | null = null;
	private nextId = 1;
	private retryMs = 500;
	private readonly pending = new Map<number, (result: Result<unknown>) => void>();
	private readonly waiting: (() => void)[] = [];
	private readonly listeners = new Set<(event: ApiEvent) => void>();

	constructor(
		private readonly token: string,
		private readonly onState: (state: ConnectionState) => void
	) {
		this.connect();
	}

	call(method: string, params: unknown): Promise<Result<unknown>> {
		return new Promise((resolve) => {
			const send = () => {
				const id = this.nextId++;
				const message = encodeWireMessage({ id, method, params });
				const size =
					typeof message === 'string'
						? new TextEncoder().encode(message).byteLength
						: message.byteLength;
				// The server would answer TOO_LARGE too; refusing here spares sending the bytes.
				if (size > maxRequestBytes) {
					resolve(
						fail(
							'TOO_LARGE',
							`The request is ${formatMiB(size)}; a request may be at most ${formatMiB(maxRequestBytes)}.`
						)
					);
					return;
				}
				this.pending.set(id, resolve);
				this.socket?.send(message);
			};
			if (this.socket?.readyState === WebSocket.OPEN) send();
			else this.waiting.push(send);
		});
	}

	subscribe(listener: (event: ApiEvent) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	private connect(): void {
		this.onState('connecting');
		const url = new URL(wireApiPath, location.href);
		url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
		url.searchParams.set('token', this.token);
		const socket = new WebSocket(url);
		socket.binaryType = 'arraybuffer';
		this.socket = socket;
		socket.onopen = () => {
			this.retryMs = 500;
			this.onState('open');
			for (const send of this.waiting.splice(0)) send();
		};
		socket.onmessage = (message) =>
			this.receive(decodeWireMessage(message.data as string | ArrayBuffer) as WireServerMessage);
		socket.onclose = () => {
			for (const resolve of this.pending.values()) {
				resolve(
					fail('DISCONNECTED', 'The connection to the NoiseLab server dropped before it answered.')
				);
			}
			this.pending.clear();
			this.onState('closed');
			void this.retryUnlessRefused();
		};
	}

	/**
	 * Reconnects with back-off while the server is away; stops once a running server says the
	 * token is no longer its own (a retry could never succeed).
	 */
	private async retryUnlessRefused(): Promise<void> {
		const url = new URL(wireSessionPath, location.href);
		url.searchParams.set('token', this.token);
		try {
			const answer = await fetch(url, { cache: 'no-store' });
			if (answer.status === 401) {
				this.onState('refused');
				return;
			}
		} catch {
			// The server is not reachable (stopped or restarting): keep trying.
		}
		setTimeout(() => this.connect(), this.retryMs);
		this.retryMs = Math.min(this.retryMs * 2, 10_000);
	}

	private receive(message: WireServerMessage): void {
		if (message.kind === 'event') {
			for (const listener of this.listeners) listener(message.event);
			return;
		}
		this.pending.get(message.id)?.(message.result);
		this.pending.delete(message.id);
	}
}

/** A transport for a page opened without a token: every call explains what to do. */
function unauthorizedTransport(): ApiTransport {
	return {
		kind: 'websocket',
		call: async () =>
			fail(
				'UNAUTHORIZED',
				'This page was opened without its session token. Open the URL printed by `noiselab serve`, including ?token=….'
			),
		subscribe: () => () => undefined
	};
}

/** Picks the transport this page has and returns the typed API. */
export function connectApi(onState: (state: ConnectionState) => void): ApiClient {
	if (window.noiselab) {
		onState('open');
		return createApiClient(electronTransport(window.noiselab));
	}
	const token = new URLSearchParams(location.search).get('token');
	if (!token) {
		onState('unauthorized');
		return createApiClient(unauthorizedTransport());
	}
	return createApiClient(new WebSocketTransport(token, onState));
}
