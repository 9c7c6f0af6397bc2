import type { ApiMethod, ApiParsedParams, ApiResult } from '../../core/api/contract';
import { toAppError, type Result } from '../../core/api/errors';
import { validateRequest } from '../../core/api/validate';

/**
 * Who sent a request, where the transport knows: one connection of the web server (a browser
 * tab). Absent for the desktop window's IPC and the CLI, whose requests end with the process.
 */
export interface ApiCaller {
	/** Unique per connection: keeps one tab's preview streams apart from another's. */
	id: string;
	/** Aborts when the connection closes: the work it was waiting for is cancelled. */
	signal: AbortSignal;
}

/** The service layer: one handler per contract method, receiving validated params. */
export type ApiHandlers = {
	[M in ApiMethod]: (
		params: ApiParsedParams<M>,
		caller?: ApiCaller
	) => Promise<ApiResult<M>> | ApiResult<M>;
};

/** Takes an untrusted (method, params) pair from any transport and returns a Result. */
export type Dispatch = (
	method: unknown,
	params: unknown,
	caller?: ApiCaller
) => Promise<Result<unknown>>;

/**
 * Builds the one entry point both transports call: validate against the contract, run the
 * handler, and turn any exception into an error Result so nothing throws across a boundary.
 */
export function createDispatcher(handlers: ApiHandlers): Dispatch {
	return async (method, params, caller) => {
		const request = validateRequest(method, params);
		if (!request.ok) return request;
		try {
			const handler = handlers[request.value.method] as (
				params: unknown,
				caller?: ApiCaller
			) => unknown;
			return { ok: true, value: await handler(request.value.params, caller) };
		} catch (error) {
			const appError = toAppError(error);
			if (appError.code === 'INTERNAL') console.error(`API ${request.value.method} failed:`, error);
			return { ok: false, error: appError };
		}
	};
}
