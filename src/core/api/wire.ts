/**
 * The WebSocket message format of web mode. Requests carry an id that the response echoes;
 * events carry no id.
 */
import { z } from 'zod';
import type { ApiEvent } from './contract';
import type { Result } from './errors';

/** A request from the browser. `method` is checked against the contract after this parse. */
export const wireRequestSchema = z.object({
	id: z.number().int().nonnegative(),
	method: z.string(),
	params: z.unknown()
});

/** See {@link wireRequestSchema}. */
export type WireRequest = z.infer<typeof wireRequestSchema>;

/** A message from the server. */
export type WireServerMessage =
	{ kind: 'response'; id: number; result: Result<unknown> } | { kind: 'event'; event: ApiEvent };

/** Path of the WebSocket endpoint; the session token goes in its `token` query parameter. */
export const wireApiPath = '/api';
