import type { z } from 'zod';
import {
	apiMethodNames,
	apiMethods,
	isApiMethod,
	type ApiMethod,
	type ApiParsedParams
} from './contract';
import { fail, ok, type Result } from './errors';

/** Formats schema issues as `path: message` lines that name the field and what was received. */
export function describeIssues(error: z.ZodError): string {
	return error.issues
		.map((issue) => {
			const path = issue.path.length > 0 ? issue.path.join('.') : '(request)';
			return `${path}: ${issue.message}`;
		})
		.join('; ');
}

/** The method name a caller sent, quoted and cut short: a client must not get megabytes echoed. */
function describeMethodName(method: unknown): string {
	const text = JSON.stringify(method) ?? String(method);
	return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/**
 * Validates an incoming request against the contract. Unknown methods and bad payloads come
 * back as UNKNOWN_METHOD and INVALID_REQUEST with a message that says what to fix.
 */
export function validateRequest(
	method: unknown,
	params: unknown
): Result<{ method: ApiMethod; params: ApiParsedParams<ApiMethod> }> {
	if (!isApiMethod(method)) {
		return fail(
			'UNKNOWN_METHOD',
			`Unknown API method ${describeMethodName(method)}. Known methods: ${apiMethodNames.join(', ')}.`
		);
	}
	const parsed = apiMethods[method].params.safeParse(params ?? {});
	if (!parsed.success) {
		return fail(
			'INVALID_REQUEST',
			`Invalid request for ${method}: ${describeIssues(parsed.error)}.`
		);
	}
	return ok({ method, params: parsed.data });
}
