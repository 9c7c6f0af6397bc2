/**
 * Tensors as the import and export formats carry them: a shape and float32 values in
 * row-major (C) order, whatever the file stored (float16, bfloat16, float64 and integer
 * storages are converted on read).
 */

/** One tensor of a state dict. */
export interface HostTensor {
	shape: number[];
	data: Float32Array;
}

/** A state dict: tensors by their (PyTorch) names, in the file's order. */
export type StateDict = Map<string, HostTensor>;

/** The element types the readers understand, with their byte widths. */
export const dtypeBytes = {
	float32: 4,
	float64: 8,
	float16: 2,
	bfloat16: 2,
	int64: 8,
	int32: 4,
	int16: 2,
	int8: 1,
	uint8: 1,
	bool: 1
} as const;

/** One of {@link dtypeBytes}' keys. */
export type Dtype = keyof typeof dtypeBytes;

/** The number of elements of a shape. */
export function elementCount(shape: readonly number[]): number {
	return shape.reduce((a, b) => a * b, 1);
}

/** IEEE half → float. */
function halfToFloat(bits: number): number {
	const sign = bits & 0x8000 ? -1 : 1;
	const exponent = (bits >> 10) & 0x1f;
	const fraction = bits & 0x3ff;
	if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
	if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
	return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Element `index` of little-endian `bytes` of type `dtype` as a float. `view` and `bytes`
 * describe the same memory.
 */
export function readElement(view: DataView, dtype: Dtype, index: number): number {
	const at = index * dtypeBytes[dtype];
	switch (dtype) {
		case 'float32':
			return view.getFloat32(at, true);
		case 'float64':
			return view.getFloat64(at, true);
		case 'float16':
			return halfToFloat(view.getUint16(at, true));
		case 'bfloat16': {
			const scratch = new DataView(new ArrayBuffer(4));
			scratch.setUint32(0, view.getUint16(at, true) << 16, false);
			return scratch.getFloat32(0, false);
		}
		case 'int64':
			return Number(view.getBigInt64(at, true));
		case 'int32':
			return view.getInt32(at, true);
		case 'int16':
			return view.getInt16(at, true);
		case 'int8':
			return view.getInt8(at);
		case 'uint8':
		case 'bool':
			return view.getUint8(at);
	}
}

/**
 * The values of a strided view of a storage as a contiguous float32 array: element
 * (i0, i1, …) is storage element `offset + Σ ik·stride[k]`. Throws when the view reaches past
 * the storage's `storageElements`.
 */
export function gatherStrided(
	storage: Uint8Array,
	dtype: Dtype,
	storageElements: number,
	offset: number,
	shape: readonly number[],
	stride: readonly number[],
	what: string
): Float32Array {
	const count = elementCount(shape);
	if (shape.length !== stride.length) {
		throw new Error(`${what}: ${shape.length} sizes but ${stride.length} strides.`);
	}
	if (shape.some((size) => !Number.isInteger(size) || size < 0)) {
		throw new Error(`${what}: invalid shape [${shape.join(', ')}].`);
	}
	if (
		stride.some((step) => !Number.isInteger(step) || step < 0) ||
		!Number.isInteger(offset) ||
		offset < 0
	) {
		throw new Error(`${what}: invalid offset ${offset} or strides [${stride.join(', ')}].`);
	}
	if (count > 0) {
		const last = shape.reduce((sum, size, k) => sum + (size - 1) * (stride[k] as number), offset);
		if (last >= storageElements || storageElements * dtypeBytes[dtype] > storage.length) {
			throw new Error(
				`${what}: the tensor [${shape.join(', ')}] reaches element ${last} of a storage holding ${Math.min(storageElements, Math.floor(storage.length / dtypeBytes[dtype]))}; the file is truncated or corrupt.`
			);
		}
	}
	const view = new DataView(storage.buffer, storage.byteOffset, storage.byteLength);
	const out = new Float32Array(count);
	const contiguous = stride.every((step, k) => {
		const inner = shape.slice(k + 1).reduce((a, b) => a * b, 1);
		return (shape[k] as number) <= 1 || step === inner;
	});
	if (contiguous && dtype === 'float32' && (storage.byteOffset + offset * 4) % 4 === 0) {
		out.set(new Float32Array(storage.buffer, storage.byteOffset + offset * 4, count));
		return out;
	}
	if (contiguous) {
		for (let i = 0; i < count; i++) out[i] = readElement(view, dtype, offset + i);
		return out;
	}
	const index = new Array<number>(shape.length).fill(0);
	let source = offset;
	for (let i = 0; i < count; i++) {
		out[i] = readElement(view, dtype, source);
		for (let k = shape.length - 1; k >= 0; k--) {
			index[k] = (index[k] as number) + 1;
			source += stride[k] as number;
			if ((index[k] as number) < (shape[k] as number)) break;
			source -= (shape[k] as number) * (stride[k] as number);
			index[k] = 0;
		}
	}
	return out;
}
