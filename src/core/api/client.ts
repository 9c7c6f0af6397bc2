import type {
	ApiEvent,
	ApiEventName,
	ApiEventPayload,
	ApiMethod,
	ApiParams,
	ApiResult
} from './contract';
import type { Result } from './errors';

/**
 * What a transport provides: an untyped call and an event stream. Electron IPC and the
 * WebSocket client both implement it; {@link createApiClient} adds the types.
 */
export interface ApiTransport {
	/** `electron` inside the desktop app, `websocket` in web mode. */
	readonly kind: 'electron' | 'websocket';
	call(method: ApiMethod, params: unknown): Promise<Result<unknown>>;
	subscribe(listener: (event: ApiEvent) => void): () => void;
}

/** The typed API the renderer talks to; it does not know which transport is underneath. */
export interface ApiClient {
	readonly transport: ApiTransport['kind'];
	/** Calls a method; never throws for API failures, which come back as `{ ok: false }`. */
	call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<Result<ApiResult<M>>>;
	/** Listens to one event; returns the function that stops listening. */
	on<E extends ApiEventName>(name: E, listener: (payload: ApiEventPayload<E>) => void): () => void;
}

/** Wraps a transport in the typed {@link ApiClient}. */
export function createApiClient(transport: ApiTransport): ApiClient {
	return {
		transport: transport.kind,
		call: (method, params) => transport.call(method, params) as never,
		on: (name, listener) =>
			transport.subscribe((event) => {
				if (event.name === name) listener(event.payload as never);
			})
	};
}

/**
 * What Electron's preload exposes as `window.noiselab`: one function per contract method and
 * an event subscription, nothing else.
 */
export interface PreloadBridge {
	methods: Record<ApiMethod, (params: unknown) => Promise<Result<unknown>>>;
	subscribe(listener: (event: ApiEvent) => void): () => void;
}

/** The Electron IPC channel for a method; main registers exactly these. */
export function ipcChannelFor(method: ApiMethod): string {
	return `noiselab:api:${method}`;
}

/** The Electron IPC channel on which main pushes events to the window. */
export const ipcEventChannel = 'noiselab:event';
