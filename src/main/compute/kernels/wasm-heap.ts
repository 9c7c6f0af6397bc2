/**
 * Access to tfjs-backend-wasm's heap for the kernels of this pack that loop in JavaScript.
 */
import type { DataType, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's `BackendWasm` these kernels use. */
export interface WasmHeapBackend extends KernelBackend {
	/** Allocates an uninitialised tensor on the heap. */
	makeOutput(shape: number[], dtype: DataType): TensorInfo;
	typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
	/** The byte address of a tensor's data on the heap. */
	getMemoryOffset(dataId: object): number;
}

/** The byte address of a tensor's data on the wasm heap. */
export function heapOffset(backend: WasmHeapBackend, info: TensorInfo): number {
	return backend.getMemoryOffset(info.dataId);
}

/**
 * The heap's float32 view of a tensor, sharing its memory. Take views only after the kernel's
 * last allocation: an allocation may grow the heap, which detaches every earlier view.
 */
export function heapFloats(backend: WasmHeapBackend, info: TensorInfo): Float32Array {
	const view = backend.typedArrayFromHeap(info);
	if (!(view instanceof Float32Array)) throw new Error(`Expected float32 data, got ${info.dtype}.`);
	return view;
}
