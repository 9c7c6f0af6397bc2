/**
 * The checkpoint file format: one self-describing binary blob, pure bytes in and out (the
 * caller writes it atomically).
 *
 * Layout (all integers little-endian):
 *   0  'NLCK' magic
 *   4  uint32 format version (1)
 *   8  uint32 byte length H of the header
 *  12  header: UTF-8 JSON `{ meta, dataBytes, tensors: [{ name, shape, offset }] }`, offsets in
 *      bytes from the start of the data section
 *      zero padding to a multiple of 4 bytes
 *      data: float32 little-endian values, each tensor 4-byte aligned, `dataBytes` long
 * The data section ends the file; anything shorter or longer is rejected.
 */
import { z } from 'zod';

/** Everything a checkpoint holds. */
export interface CheckpointContents {
	/** Free-form JSON-serialisable facts (step, config, RNG state, …). */
	meta: Record<string, unknown>;
	tensors: Record<string, { shape: number[]; data: Float32Array }>;
}

/** The file signature, "NLCK" (NoiseLab checkpoint). */
export const checkpointMagic = 'NLCK';
/** The format version this code writes and reads. */
export const checkpointFormatVersion = 1;

const prefixBytes = 12;

const headerSchema = z.object({
	meta: z.record(z.string(), z.unknown()),
	dataBytes: z.number().int().min(0),
	tensors: z.array(
		z.object({
			name: z.string(),
			shape: z.array(z.number().int().min(0)),
			offset: z.number().int().min(0).multipleOf(4)
		})
	)
});

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndian(): void {
	if (!littleEndian) throw new Error('Checkpoints are stored little-endian; this platform is not.');
}

function sizeOf(shape: readonly number[]): number {
	return shape.reduce((a, b) => a * b, 1);
}

/** Serialises `contents`; throws if a tensor's data does not match its shape. */
export function encodeCheckpoint(contents: CheckpointContents): Uint8Array {
	assertLittleEndian();
	const table: { name: string; shape: number[]; offset: number }[] = [];
	let dataBytes = 0;
	for (const [name, tensor] of Object.entries(contents.tensors)) {
		if (sizeOf(tensor.shape) !== tensor.data.length) {
			throw new Error(
				`Checkpoint tensor '${name}' has ${tensor.data.length} values for shape [${tensor.shape.join(', ')}].`
			);
		}
		table.push({ name, shape: [...tensor.shape], offset: dataBytes });
		dataBytes += tensor.data.byteLength;
	}
	const header = new TextEncoder().encode(
		JSON.stringify({ meta: contents.meta, dataBytes, tensors: table })
	);
	const dataStart = Math.ceil((prefixBytes + header.length) / 4) * 4;
	const bytes = new Uint8Array(dataStart + dataBytes);
	const view = new DataView(bytes.buffer);
	bytes.set(new TextEncoder().encode(checkpointMagic), 0);
	view.setUint32(4, checkpointFormatVersion, true);
	view.setUint32(8, header.length, true);
	bytes.set(header, prefixBytes);
	for (const [index, tensor] of Object.values(contents.tensors).entries()) {
		const offset = dataStart + (table[index]?.offset ?? 0);
		bytes.set(
			new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
			offset
		);
	}
	return bytes;
}

/** A checkpoint's header as {@link decodeCheckpointHeader} reads it. */
export interface CheckpointHeader {
	meta: Record<string, unknown>;
	/** Byte length of the data section. */
	dataBytes: number;
	/** Byte offset of the data section in the file. */
	dataStart: number;
	/** The tensor table; offsets are from the start of the data section. */
	tensors: { name: string; shape: number[]; offset: number }[];
}

/** Bytes before the JSON header: magic, format version, header length. */
export const checkpointPrefixBytes = prefixBytes;

/**
 * Reads the fixed prefix (the first {@link checkpointPrefixBytes} bytes) and returns the length
 * of the JSON header that follows. Throws an Error naming the problem on a wrong signature or an
 * unknown version; never quotes the bytes themselves.
 */
export function checkpointHeaderLength(prefix: Uint8Array): number {
	assertLittleEndian();
	if (prefix.length < prefixBytes) {
		throw new Error(`Not a checkpoint: ${prefix.length} bytes is shorter than the file header.`);
	}
	// Never quote what the file starts with: the caller may have named any file on the machine.
	if (new TextDecoder().decode(prefix.subarray(0, 4)) !== checkpointMagic) {
		throw new Error(`Not a checkpoint: the file does not start with "${checkpointMagic}".`);
	}
	const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
	const version = view.getUint32(4, true);
	if (version !== checkpointFormatVersion) {
		throw new Error(
			`Checkpoint format version ${version} is not supported (this build reads version ${checkpointFormatVersion}); update NoiseLab.`
		);
	}
	return view.getUint32(8, true);
}

/**
 * Parses the JSON header (`headerBytes`, the bytes after the prefix) and checks its tensor table:
 * every tensor inside the data section, none twice. The file's total length must be
 * `dataStart + dataBytes`; the caller checks that.
 */
export function decodeCheckpointHeader(headerBytes: Uint8Array): CheckpointHeader {
	let parsed: unknown;
	try {
		parsed = JSON.parse(new TextDecoder().decode(headerBytes));
	} catch (error) {
		// The parser's message quotes the text; the text may be anything (it is not ours).
		throw new Error('The checkpoint header is not valid JSON.', { cause: error });
	}
	const header = headerSchema.safeParse(parsed);
	if (!header.success) {
		const issue = header.error.issues[0];
		throw new Error(
			`The checkpoint header is malformed (${issue?.path.join('.') || 'header'}: ${issue?.message ?? 'invalid'}).`
		);
	}
	const names = new Set<string>();
	for (const entry of header.data.tensors) {
		if (entry.offset + sizeOf(entry.shape) * 4 > header.data.dataBytes) {
			throw new Error(`Checkpoint tensor '${entry.name}' lies outside the data section.`);
		}
		if (names.has(entry.name)) throw new Error(`Checkpoint tensor '${entry.name}' appears twice.`);
		names.add(entry.name);
	}
	return {
		...header.data,
		dataStart: Math.ceil((prefixBytes + headerBytes.length) / 4) * 4
	};
}

/**
 * Parses a checkpoint. Throws an Error naming the problem on a wrong signature, an unknown
 * version, a truncated or over-long file or an inconsistent tensor table. The tensors' data are
 * copies, independent of `bytes`.
 */
export function decodeCheckpoint(bytes: Uint8Array): CheckpointContents {
	const headerLength = checkpointHeaderLength(bytes);
	if (prefixBytes + headerLength > bytes.length) {
		throw new Error(
			`The checkpoint is truncated: its header needs ${prefixBytes + headerLength} bytes, the file has ${bytes.length}.`
		);
	}
	const header = decodeCheckpointHeader(bytes.subarray(prefixBytes, prefixBytes + headerLength));
	const expectedLength = header.dataStart + header.dataBytes;
	if (bytes.length !== expectedLength) {
		throw new Error(
			bytes.length < expectedLength
				? `The checkpoint is truncated: ${bytes.length} of ${expectedLength} bytes.`
				: `The checkpoint has ${bytes.length - expectedLength} unexpected trailing bytes.`
		);
	}
	const tensors: CheckpointContents['tensors'] = {};
	for (const entry of header.tensors) {
		const byteLength = sizeOf(entry.shape) * 4;
		const start = header.dataStart + entry.offset;
		const data = new Float32Array(byteLength / 4);
		new Uint8Array(data.buffer).set(bytes.subarray(start, start + byteLength));
		tensors[entry.name] = { shape: entry.shape, data };
	}
	return { meta: header.meta, tensors };
}
