import WebSocket from 'ws';
import type { ApiEvent, ApiMethod, ApiParams, ApiResult } from '../../src/core/api/contract';
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
	private nextId = 1;
	private readonly pending = new Map<number, (result: Result<unknown>) => void>();

	private constructor(private readonly socket: WebSocket) {
		socket.on('message', (data, isBinary) => {
			const message = decodeWireMessage(
				isBinary ? new Uint8Array(data as Buffer) : data.toString()
			) as WireServerMessage;
			if (message.kind === 'event') this.events.push(message.event);
			else {
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

	close(): void {
		this.socket.close();
	}
}
