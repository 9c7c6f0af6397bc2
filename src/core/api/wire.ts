/**
 * The WebSocket message format of web mode. Requests carry an id that the response echoes;
 * events carry no id. Messages without binary data travel as JSON text; messages that contain
 * `Uint8Array`s (preview pixels) travel as one binary frame, so images never become base64.
 */
import { z } from 'zod';
import type { ApiEvent } from './contract';
import type { Result } from './errors';
import { maxUploadBytes } from './explain';

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

/**
 * Web mode: `GET` with `?token=…` answers 204 while the token is the server's and 401 once it is
 * not (the server was restarted with `--new-token`, or on another data folder).
 */
export const wireSessionPath = '/api/session';

/**
 * The largest request message: the largest upload plus room for the rest of the request. The
 * renderer does not send a larger one, and the server answers one with `TOO_LARGE`.
 */
export const maxRequestBytes = maxUploadBytes + 2 ** 20;

/**
 * What the server's WebSocket reads at all before it closes the connection with 1009 (message
 * too big). Well above {@link maxRequestBytes}, so that an oversized request still arrives
 * whole and is answered with an error naming the limit, instead of a dropped connection.
 */
export const maxWireMessageBytes = 4 * maxRequestBytes;

/**
 * The `id` of a request, read from the start of the message without parsing all of it: what an
 * error response for a message too large to parse echoes. -1 when there is none. Encoded
 * requests start with their id (`{"id":7,…` or, binary, `…{"message":{"id":7,…`).
 */
export function peekRequestId(data: string | Uint8Array): number {
	const head =
		typeof data === 'string'
			? data.slice(0, 64)
			: new TextDecoder().decode(data.subarray(4, Math.min(data.byteLength, 68)));
	const match = /^\s*\{\s*(?:"message"\s*:\s*\{\s*)?"id"\s*:\s*(\d{1,15})\s*[,}]/.exec(head);
	return match ? Number(match[1]) : -1;
}

const bytesKey = '$bytes';

/**
 * Encodes a message: JSON text when it holds no bytes, else a binary frame laid out as
 * [u32 header length][header JSON][chunk 0][chunk 1]…, where the header is the message with each
 * Uint8Array replaced by `{"$bytes": k}` plus the chunk lengths.
 */
export function encodeWireMessage(message: unknown): string | Uint8Array<ArrayBuffer> {
	const chunks: Uint8Array[] = [];
	const json = JSON.stringify(message, (_key, value: unknown) => {
		if (value instanceof Uint8Array) {
			chunks.push(value);
			return { [bytesKey]: chunks.length - 1 };
		}
		return value;
	});
	if (chunks.length === 0) return json;
	const header = new TextEncoder().encode(
		JSON.stringify({
			message: JSON.parse(json) as unknown,
			chunks: chunks.map((chunk) => chunk.byteLength)
		})
	);
	const total = 4 + header.byteLength + chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
	const frame = new Uint8Array(total);
	new DataView(frame.buffer).setUint32(0, header.byteLength, true);
	frame.set(header, 4);
	let offset = 4 + header.byteLength;
	for (const chunk of chunks) {
		frame.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return frame;
}

/** Decodes what {@link encodeWireMessage} produced. Throws on a malformed frame. */
export function decodeWireMessage(data: string | ArrayBuffer | Uint8Array): unknown {
	if (typeof data === 'string') return JSON.parse(data);
	const frame = data instanceof Uint8Array ? data : new Uint8Array(data);
	const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
	const headerLength = view.getUint32(0, true);
	const header = JSON.parse(new TextDecoder().decode(frame.subarray(4, 4 + headerLength))) as {
		message: unknown;
		chunks: number[];
	};
	const chunks: Uint8Array[] = [];
	let offset = 4 + headerLength;
	for (const length of header.chunks) {
		if (offset + length > frame.byteLength)
			throw new RangeError('Binary message is shorter than its header says.');
		// A copy, so each image owns its bytes (and the frame can be released).
		chunks.push(frame.slice(offset, offset + length));
		offset += length;
	}
	return restoreBytes(header.message, chunks);
}

function restoreBytes(value: unknown, chunks: readonly Uint8Array[]): unknown {
	if (Array.isArray(value)) return value.map((item) => restoreBytes(item, chunks));
	if (value !== null && typeof value === 'object') {
		const record = value as Record<string, unknown>;
		const keys = Object.keys(record);
		if (keys.length === 1 && keys[0] === bytesKey && typeof record[bytesKey] === 'number') {
			const chunk = chunks[record[bytesKey]];
			if (!chunk) throw new RangeError('Binary message refers to a missing chunk.');
			return chunk;
		}
		return Object.fromEntries(keys.map((key) => [key, restoreBytes(record[key], chunks)]));
	}
	return value;
}
