/**
 * The small part of tfjs-backend-webgpu's internals that the project's webgpu kernels use,
 * typed here so that the main process's compiler settings (no DOM, no WebGPU types) suffice.
 */
import { createRequire } from 'node:module';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

const load = createRequire(__filename);

/** A compute shader as tfjs-backend-webgpu compiles it (`WebGPUProgram` in its sources). */
export interface WebGpuProgram {
	variableNames: string[];
	uniforms?: string;
	workgroupSize: [number, number, number];
	size?: boolean;
	outputShape: number[];
	dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
	dispatch: [number, number, number];
	shaderKey: string;
	/** WGSL defining `fn main(index : i32)`; tfjs adds the entry point and the accessors. */
	getUserCode(): string;
}

/** The backend methods the kernels call. */
export interface WebGpuComputeBackend {
	runWebGPUProgram(
		program: WebGpuProgram,
		inputs: TensorInfo[],
		outputDtype: DataType,
		uniforms?: { type: 'int32' | 'float32' | 'uint32'; data: number[] }[]
	): TensorInfo;
}

interface WebGpuUtil {
	flatDispatchLayout(shape: number[]): { x: number[] };
	computeDispatch(
		layout: { x: number[]; y?: number[]; z?: number[] },
		outputShape: number[],
		workgroupSize: [number, number, number]
	): [number, number, number];
}

/** tfjs-backend-webgpu's dispatch helpers (load the package first: it needs `navigator.gpu`). */
export function webgpuUtil(): WebGpuUtil {
	return (load('@tensorflow/tfjs-backend-webgpu') as { webgpu_util: WebGpuUtil }).webgpu_util;
}
