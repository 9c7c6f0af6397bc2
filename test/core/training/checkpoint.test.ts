import { describe, expect, it } from 'vitest';
import {
	checkpointFormatVersion,
	decodeCheckpoint,
	encodeCheckpoint,
	type CheckpointContents
} from '../../../src/core/training/checkpoint';

const contents: CheckpointContents = {
	meta: { step: 1200, config: { model: 'tiny', batch: 128 }, rng: [1, 2, 3, 4], note: 'π ≠ 3' },
	tensors: {
		'conv1/kernel': {
			shape: [2, 1, 1, 3],
			data: Float32Array.from([1.5, -2, Number.NaN, -0, Infinity, 3.4028234663852886e38])
		},
		'optimizer/step': { shape: [], data: Float32Array.from([7]) },
		empty: { shape: [0, 4], data: new Float32Array(0) },
		'fc8/bias': { shape: [3], data: Float32Array.from([1e-30, 2, -3]) }
	}
};

function expectSameBits(actual: Float32Array, expected: Float32Array): void {
	expect([...new Uint32Array(actual.buffer, actual.byteOffset, actual.length)]).toEqual([
		...new Uint32Array(expected.buffer, expected.byteOffset, expected.length)
	]);
}

describe('checkpoint format', () => {
	it('round-trips meta and tensors bit for bit, with the data section 4-byte aligned', () => {
		const bytes = encodeCheckpoint(contents);
		expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('NLCK');
		const view = new DataView(bytes.buffer);
		expect(view.getUint32(4, true)).toBe(checkpointFormatVersion);
		const headerLength = view.getUint32(8, true);
		const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
		// The data section holds exactly the tensors' floats, in table order.
		expect(bytes.length - dataStart).toBe((6 + 1 + 0 + 3) * 4);
		expect(new Float32Array(bytes.buffer, dataStart, 2)).toEqual(Float32Array.from([1.5, -2]));

		const decoded = decodeCheckpoint(bytes);
		expect(decoded.meta).toEqual(contents.meta);
		expect(Object.keys(decoded.tensors)).toEqual(Object.keys(contents.tensors));
		for (const [name, tensor] of Object.entries(contents.tensors)) {
			expect(decoded.tensors[name]?.shape).toEqual(tensor.shape);
			expectSameBits(decoded.tensors[name]?.data ?? new Float32Array(), tensor.data);
		}
	});

	it('reads from an unaligned view and returns data independent of the input bytes', () => {
		const bytes = encodeCheckpoint(contents);
		const shifted = new Uint8Array(bytes.length + 1);
		shifted.set(bytes, 1);
		const decoded = decodeCheckpoint(shifted.subarray(1));
		shifted.fill(0);
		expect(decoded.tensors['fc8/bias']?.data).toEqual(Float32Array.from([1e-30, 2, -3]));
	});

	it('rejects a wrong signature and an unknown version', () => {
		const bytes = encodeCheckpoint(contents);
		const badMagic = bytes.slice();
		badMagic[0] = 'P'.charCodeAt(0);
		// The message never quotes the file's first bytes: any file on the machine may be named.
		expect(() => decodeCheckpoint(badMagic)).toThrow(
			/^Not a checkpoint: the file does not start with "NLCK"\.$/
		);
		const secret = new TextEncoder().encode('root:$6$secret-hash:19000:0:99999:7:::\n');
		expect(() => decodeCheckpoint(secret)).toThrow(/^Not a checkpoint: the file does not start/);
		expect(() => decodeCheckpoint(secret)).not.toThrow(/root/);
		const newer = bytes.slice();
		new DataView(newer.buffer).setUint32(4, checkpointFormatVersion + 1, true);
		expect(() => decodeCheckpoint(newer)).toThrow(/version 2 is not supported/);
	});

	it('rejects every truncation and trailing bytes', () => {
		const bytes = encodeCheckpoint(contents);
		for (const length of [0, 3, 11, 12, 40, bytes.length - 5, bytes.length - 1]) {
			expect(() => decodeCheckpoint(bytes.subarray(0, length)), `length ${length}`).toThrow(
				/Not a checkpoint|truncated|header/
			);
		}
		const longer = new Uint8Array(bytes.length + 4);
		longer.set(bytes);
		expect(() => decodeCheckpoint(longer)).toThrow(/4 unexpected trailing bytes/);
	});

	it('rejects a corrupt or inconsistent header', () => {
		const bytes = encodeCheckpoint(contents);
		const corrupt = bytes.slice();
		corrupt[12] = '}'.charCodeAt(0);
		expect(() => decodeCheckpoint(corrupt)).toThrow(/^The checkpoint header is not valid JSON\.$/);

		const header = JSON.stringify({
			meta: {},
			dataBytes: 8,
			tensors: [{ name: 'w', shape: [3], offset: 0 }]
		});
		const encodedHeader = new TextEncoder().encode(header);
		const dataStart = Math.ceil((12 + encodedHeader.length) / 4) * 4;
		const forged = new Uint8Array(dataStart + 8);
		forged.set(new TextEncoder().encode('NLCK'));
		new DataView(forged.buffer).setUint32(4, checkpointFormatVersion, true);
		new DataView(forged.buffer).setUint32(8, encodedHeader.length, true);
		forged.set(encodedHeader, 12);
		expect(() => decodeCheckpoint(forged)).toThrow(/'w' lies outside the data section/);
	});

	it('refuses to encode a tensor whose data does not match its shape', () => {
		expect(() =>
			encodeCheckpoint({ meta: {}, tensors: { w: { shape: [2, 2], data: new Float32Array(3) } } })
		).toThrow(/'w' has 3 values for shape \[2, 2\]/);
	});
});
