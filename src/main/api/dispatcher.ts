import type { ApiMethod, ApiParsedParams, ApiResult } from '../../core/api/contract';
import { toAppError, type Result } from '../../core/api/errors';
import { validateRequest } from '../../core/api/validate';

/** The service layer: one handler per contract method, receiving validated params. */
export type ApiHandlers = {
	[M in ApiMethod]: (params: ApiParsedParams<M>) => Promise<ApiResult<M>> | ApiResult<M>;
};

/** Takes an untrusted (method, params) pair from any transport and returns a Result. */
export type Dispatch = (method: unknown, params: unknown) => Promise<Result<unknown>>;

/**
 * Builds the one entry point both transports call: validate against the contract, run the
 * handler, and turn any exception into an error Result so nothing throws across a boundary.
 */
export function createDispatcher(handlers: ApiHandlers): Dispatch {
	return async (method, params) => {
		const request = validateRequest(method, params);
		if (!request.ok) return request;
		try {
			const handler = handlers[request.value.method] as (params: unknown) => unknown;
			return { ok: true, value: await handler(request.value.params) };
		} catch (error) {
			const appError = toAppError(error);
			if (appError.code === 'INTERNAL') console.error(`API ${request.value.method} failed:`, error);
			return { ok: false, error: appError };
		}
	};
}
