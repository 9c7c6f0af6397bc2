import { describe, expect, it } from 'vitest';
import { maxUploadBytes } from '../../src/core/api/explain';
import {
	decodeWireMessage,
	encodeWireMessage,
	maxRequestBytes,
	maxWireMessageBytes,
	peekRequestId
} from '../../src/core/api/wire';

describe('wire messages', () => {
	it('stay JSON text when they hold no bytes', () => {
		const message = { kind: 'response', id: 3, result: { ok: true, value: { a: [1, 'b', null] } } };
		const encoded = encodeWireMessage(message);
		expect(typeof encoded).toBe('string');
		expect(decodeWireMessage(encoded)).toEqual(message);
	});

	it('carry Uint8Arrays as raw bytes in one binary frame, not base64', () => {
		const pixels = new Uint8Array(128 * 128 * 3).map((_, i) => i % 251);
		const message = {
			kind: 'response',
			id: 9,
			result: {
				ok: true,
				value: {
					images: [
						{ index: 0, rgb: pixels },
						{ index: 1, rgb: new Uint8Array([7]) }
					]
				}
			}
		};
		const encoded = encodeWireMessage(message);
		expect(encoded).toBeInstanceOf(Uint8Array);
		// Header plus raw bytes: a base64 encoding would be a third larger.
		expect((encoded as Uint8Array).byteLength).toBeLessThan(pixels.byteLength + 400);
		const decoded = decodeWireMessage((encoded as Uint8Array).slice().buffer) as typeof message;
		expect(decoded).toEqual(message);
		expect(decoded.result.value.images[0]?.rgb).toBeInstanceOf(Uint8Array);
	});

	it('rejects a frame shorter than its header claims', () => {
		const encoded = encodeWireMessage({ bytes: new Uint8Array(100) }) as Uint8Array;
		expect(() => decodeWireMessage(encoded.subarray(0, encoded.byteLength - 10))).toThrow(
			/shorter/
		);
	});

	it('reads the id at the start of a request without parsing the rest', () => {
		const text = encodeWireMessage({
			id: 42,
			method: 'settings.get',
			params: { pad: '{'.repeat(100) }
		});
		expect(peekRequestId(text as string)).toBe(42);
		const binary = encodeWireMessage({
			id: 7,
			method: 'explain.compute',
			params: { upload: { name: 'a.png', bytes: new Uint8Array(10) } }
		});
		expect(binary).toBeInstanceOf(Uint8Array);
		expect(peekRequestId(binary as Uint8Array)).toBe(7);
		expect(peekRequestId('{"method":"x","id":3}')).toBe(-1);
		expect(peekRequestId('not json')).toBe(-1);
		expect(peekRequestId(new Uint8Array(3))).toBe(-1);
	});

	it('lets the server read a whole request far above the request limit', () => {
		expect(maxRequestBytes).toBeGreaterThan(maxUploadBytes);
		expect(maxWireMessageBytes).toBeGreaterThanOrEqual(2 * maxRequestBytes);
	});
});
