import WebSocket from 'ws';
import type {
	ApiEvent,
	ApiEventName,
	ApiEventPayload,
	ApiMethod,
	ApiParams,
	ApiResult
} from '../../src/core/api/contract';
import type { Result } from '../../src/core/api/errors';
import {
	decodeWireMessage,
	encodeWireMessage,
	type WireServerMessage
} from '../../src/core/api/wire';
import type { TestServer } from './app-server';

/** A Node WebSocket client of the real API, as the browser's transport speaks it. */
export class TestApiClient {
	readonly events: ApiEvent[] = [];
	private readonly listeners = new Set<(event: ApiEvent) => void>();
	private nextId = 1;
	private readonly pending = new Map<number, (result: Result<unknown>) => void>();

	private constructor(private readonly socket: WebSocket) {
		socket.on('message', (data, isBinary) => {
			const message = decodeWireMessage(
				isBinary ? new Uint8Array(data as Buffer) : data.toString()
			) as WireServerMessage;
			if (message.kind === 'event') {
				this.events.push(message.event);
				for (const listener of this.listeners) listener(message.event);
			} else {
				this.pending.get(message.id)?.(message.result);
				this.pending.delete(message.id);
			}
		});
	}

	/** Connects with the server's token and origin. */
	static connect(app: TestServer): Promise<TestApiClient> {
		return TestApiClient.connectTo(app.server.origin, app.server.token);
	}

	/** Connects to the server whose printed URL (`http://…/?token=…`) is `pageUrl`. */
	static connectToUrl(pageUrl: string): Promise<TestApiClient> {
		const page = new URL(pageUrl);
		return TestApiClient.connectTo(page.origin, page.searchParams.get('token') ?? '');
	}

	private static connectTo(origin: string, token: string): Promise<TestApiClient> {
		const url = new URL('/api', origin);
		url.searchParams.set('token', token);
		const socket = new WebSocket(url, { origin });
		return new Promise((resolve, reject) => {
			socket.once('open', () => resolve(new TestApiClient(socket)));
			socket.once('error', reject);
		});
	}

	/** Calls a method and waits for its result. */
	call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<Result<ApiResult<M>>> {
		const id = this.nextId++;
		return new Promise((resolve) => {
			this.pending.set(id, resolve as (result: Result<unknown>) => void);
			this.socket.send(encodeWireMessage({ id, method, params }));
		});
	}

	/** Events of one name received so far. */
	eventsNamed<E extends ApiEvent['name']>(name: E): Extract<ApiEvent, { name: E }>['payload'][] {
		return this.events
			.filter((event) => event.name === name)
			.map((event) => event.payload) as never;
	}

	/**
	 * Resolves with the first event of `name` (received so far or later) that `matches`; fails
	 * after `timeoutMs` naming what it waited for.
	 */
	waitForEvent<E extends ApiEventName>(
		name: E,
		matches: (payload: ApiEventPayload<E>) => boolean,
		timeoutMs: number
	): Promise<ApiEventPayload<E>> {
		const accepts = (event: ApiEvent) =>
			event.name === name && matches(event.payload as ApiEventPayload<E>);
		const found = this.events.find(accepts);
		if (found) return Promise.resolve(found.payload as ApiEventPayload<E>);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.listeners.delete(listener);
				reject(new Error(`No matching ${name} event within ${timeoutMs} ms.`));
			}, timeoutMs);
			const listener = (event: ApiEvent) => {
				if (!accepts(event)) return;
				clearTimeout(timer);
				this.listeners.delete(listener);
				resolve(event.payload as ApiEventPayload<E>);
			};
			this.listeners.add(listener);
		});
	}

	close(): void {
		this.socket.close();
	}
}
