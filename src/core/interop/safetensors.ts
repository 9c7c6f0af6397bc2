/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { key: string } }`,
 * then the tensors' raw little-endian bytes, offsets relative to the end of the header.
 */
import { dtypeBytes, elementCount, gatherStrided, type Dtype, type HostTensor } from './tensors';

const safetensorsDtypes: Record<string, Dtype> = {
	F32: 'float32',
	F64: 'float64',
	F16: 'float16',
	BF16: 'bfloat16',
	I64: 'int64',
	I32: 'int32',
	I16: 'int16',
	I8: 'int8',
	U8: 'uint8',
	BOOL: 'bool'
};

/** A safetensors file: its tensors in header order and the free-form string metadata. */
export interface SafetensorsFile {
	tensors: Map<string, HostTensor>;
	metadata: Record<string, string>;
}

/** The largest JSON header accepted (the format's reference reader uses 100 MB). */
const maxHeaderBytes = 100 * 2 ** 20;

/** Whether `bytes` plausibly start a safetensors file (a sane length, then '{'). */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
	if (bytes.length < 10) return false;
	const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(
		0,
		true
	);
	return (
		length > 1n && length <= BigInt(Math.min(maxHeaderBytes, bytes.length - 8)) && bytes[8] === 0x7b
	);
}

/** Parses a safetensors file; throws naming what is wrong for a truncated or inconsistent one. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
	if (bytes.length < 8) throw new Error(`Not a safetensors file: ${bytes.length} bytes.`);
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const headerLength = view.getBigUint64(0, true);
	if (headerLength > BigInt(maxHeaderBytes) || headerLength > BigInt(bytes.length - 8)) {
		throw new Error(
			`The safetensors header claims ${headerLength} bytes; the file has ${bytes.length}. It is truncated or not a safetensors file.`
		);
	}
	const dataStart = 8 + Number(headerLength);
	let header: unknown;
	try {
		header = JSON.parse(
			new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart))
		);
	} catch (error) {
		throw new Error(`The safetensors header is not valid JSON: ${(error as Error).message}`, {
			cause: error
		});
	}
	if (typeof header !== 'object' || header === null || Array.isArray(header)) {
		throw new Error('The safetensors header is not a JSON object.');
	}
	const data = bytes.subarray(dataStart);
	const tensors = new Map<string, HostTensor>();
	let metadata: Record<string, string> = {};
	for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
		if (name === '__metadata__') {
			metadata = Object.fromEntries(
				Object.entries((entry ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])
			);
			continue;
		}
		const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
		const type = typeof dtype === 'string' ? safetensorsDtypes[dtype] : undefined;
		if (!type)
			throw new Error(`Tensor '${name}' has an unsupported dtype ${JSON.stringify(dtype)}.`);
		if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
			throw new Error(`Tensor '${name}' has a malformed header entry.`);
		}
		const [begin, end] = offsets as number[];
		const dims = shape as number[];
		const count = elementCount(dims);
		if (
			!Number.isInteger(begin) ||
			!Number.isInteger(end) ||
			(begin as number) < 0 ||
			(end as number) > data.length ||
			(end as number) - (begin as number) !== count * dtypeBytes[type]
		) {
			throw new Error(
				`Tensor '${name}' [${dims.join(', ')}] ${dtype} lies at bytes ${begin}–${end} of a ${data.length}-byte data section; the file is truncated or corrupt.`
			);
		}
		const strides = dims.map((_, k) => elementCount(dims.slice(k + 1)));
		const values = gatherStrided(
			data.subarray(begin as number, end as number),
			type,
			count,
			0,
			dims,
			strides,
			`Tensor '${name}'`
		);
		tensors.set(name, { shape: [...dims], data: values });
	}
	return { tensors, metadata };
}

/** A tensor to write: float32, or int64 when `dtype` says so (BN's `num_batches_tracked`). */
export interface WritableTensor extends HostTensor {
	dtype?: 'float32' | 'int64';
}

function rawBytes(tensor: WritableTensor): Uint8Array {
	if (tensor.dtype !== 'int64') {
		return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
	}
	const values = BigInt64Array.from(tensor.data, (value) => BigInt(Math.round(value)));
	return new Uint8Array(values.buffer);
}

/** Writes tensors (in the given order) and string metadata as a safetensors file. */
export function writeSafetensors(
	tensors: ReadonlyMap<string, WritableTensor>,
	metadata: Record<string, string> = {}
): Uint8Array {
	const header: Record<string, unknown> = {};
	if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
	let offset = 0;
	const raws: Uint8Array[] = [];
	for (const [name, tensor] of tensors) {
		if (elementCount(tensor.shape) !== tensor.data.length) {
			throw new Error(
				`Tensor '${name}' has ${tensor.data.length} values for shape [${tensor.shape.join(', ')}].`
			);
		}
		const raw = rawBytes(tensor);
		raws.push(raw);
		header[name] = {
			dtype: tensor.dtype === 'int64' ? 'I64' : 'F32',
			shape: tensor.shape,
			data_offsets: [offset, offset + raw.length]
		};
		offset += raw.length;
	}
	let json = JSON.stringify(header);
	// Pad the header with spaces so the data section starts 8-byte aligned, as the reference writer does.
	json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
	const encoded = new TextEncoder().encode(json);
	const out = new Uint8Array(8 + encoded.length + offset);
	new DataView(out.buffer).setBigUint64(0, BigInt(encoded.length), true);
	out.set(encoded, 8);
	let at = 8 + encoded.length;
	for (const raw of raws) {
		out.set(raw, at);
		at += raw.length;
	}
	return out;
}
