/**
 * WebGPU in Node and in Electron's utility processes, through Dawn's N-API bindings (the npm
 * package `webgpu`, whose prebuilt `dawn.node` covers linux, macOS and Windows, so nothing is
 * compiled or downloaded at install).
 *
 * tfjs-backend-webgpu registers its backend only when `navigator.gpu` exists as it loads, and
 * knows nothing of device errors: a buffer over the adapter's binding limit or an exhausted GPU
 * turns into a validation or out-of-memory error event, and the step goes on computing garbage.
 * So this module installs Dawn's globals first, then watches the device tfjs created: its
 * errors and its loss, which the training loop checks after every step.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { AppFailure } from '../../core/api/errors';
import type { GpuAdapter } from '../../core/compute/backends';

const load = createRequire(__filename);

/** The parts of the WebGPU API this module touches (the main process has no WebGPU typings). */
interface GpuAdapterHandle {
	info: {
		vendor: string;
		architecture: string;
		device: string;
		description: string;
		isFallbackAdapter?: boolean;
	};
	limits: Record<string, number>;
	/** Older Dawn builds and the spec before 2024. */
	isFallbackAdapter?: boolean;
}

interface GpuHandle {
	requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterHandle | null>;
}

interface GpuErrorEvent {
	error: { message: string; constructor: { name: string } };
}

/** A WebGPU device as tfjs-backend-webgpu holds it. */
export interface GpuDeviceHandle {
	lost: Promise<{ reason: string; message: string }>;
	destroy(): void;
	addEventListener(type: 'uncapturederror', listener: (event: GpuErrorEvent) => void): void;
}

/** The package name of tfjs's WebGPU backend. */
export const webgpuBackendPackage = '@tensorflow/tfjs-backend-webgpu';

let installed: GpuHandle | null = null;

/**
 * Loads Dawn and publishes it as `navigator.gpu` (once per process). Throws with Dawn's own
 * message when `dawn.node` cannot load: no build for this platform, or a missing system library.
 */
export function installDawn(): GpuHandle {
	if (installed) return installed;
	const dawn = load('webgpu') as {
		create(flags: string[]): GpuHandle;
		globals: Record<string, unknown>;
	};
	// The GPU* constants and classes tfjs refers to (GPUBufferUsage, GPUMapMode, …).
	for (const [name, value] of Object.entries(dawn.globals)) {
		if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, writable: true });
	}
	const gpu = dawn.create([]);
	// Node's own `navigator` has no `gpu`; tfjs-backend-webgpu looks for it when it loads.
	Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });
	installed = gpu;
	return gpu;
}

/**
 * Lets a test process exit: Dawn keeps the event loop alive while a device or `navigator.gpu`
 * is reachable, so this removes the `webgpu` backend (it cannot be used again in this
 * process), destroys its device and drops `navigator.gpu`. Workers never need it: they are
 * stopped.
 */
export function releaseDawn(): void {
	if (!installed) return;
	const backend = tf.findBackend('webgpu') as { device?: GpuDeviceHandle } | null;
	if (backend) {
		tf.removeBackend('webgpu');
		backend.device?.destroy();
	}
	device = null;
	delete (globalThis.navigator as { gpu?: unknown }).gpu;
	installed = null;
}

/** Names of CPU rasterisers, for adapters that do not say `software` themselves. */
const softwareNames = /llvmpipe|lavapipe|swiftshader|microsoft basic render|\bwarp\b/i;

/** The adapter tfjs will get (it asks for the high-performance one), or null when there is none. */
export async function requestAdapter(): Promise<GpuAdapter | null> {
	const adapter = await installDawn().requestAdapter({ powerPreference: 'high-performance' });
	if (!adapter) return null;
	const { info, limits } = adapter;
	const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
	const name = `${info.description} ${info.device}`;
	return {
		vendor: info.vendor,
		architecture: info.architecture,
		device: info.device,
		description: info.description,
		fallback,
		software: fallback || info.architecture === 'software' || softwareNames.test(name),
		limits: {
			maxBufferSize: limits.maxBufferSize ?? 0,
			maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize ?? 0,
			maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize ?? 0,
			maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup ?? 0,
			maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension ?? 0
		}
	};
}

/** Why no adapter was found, with what to do, per platform. */
export function noAdapterAdvice(platform: NodeJS.Platform = process.platform): string {
	if (platform === 'linux') {
		return 'Dawn found no Vulkan device. Install the GPU vendor’s Vulkan driver (Mesa’s mesa-vulkan-drivers ≥ 23 for AMD and Intel, NVIDIA’s driver) and the Vulkan loader (libvulkan1).';
	}
	if (platform === 'win32') {
		return 'Dawn found no Direct3D 12 or Vulkan device. Update the graphics driver.';
	}
	return 'Dawn found no Metal device.';
}

/** What went wrong on the GPU since the last check. */
interface GpuTrouble {
	kind: 'out-of-memory' | 'limit' | 'error';
	message: string;
}

let device: GpuDeviceHandle | null = null;
let troubles: GpuTrouble[] = [];
let lostInfo: { reason: string; message: string } | null = null;
let lostSignal: Promise<never> | null = null;

function classify(event: GpuErrorEvent): GpuTrouble {
	const message = event.error.message.split('\n')[0] ?? event.error.message;
	if (event.error.constructor.name === 'GPUOutOfMemoryError' || /out of memory/i.test(message)) {
		return { kind: 'out-of-memory', message };
	}
	if (
		/larger than the maximum|exceeds the max|maxBufferSize|maxStorageBufferBindingSize/i.test(
			message
		)
	) {
		return { kind: 'limit', message };
	}
	return { kind: 'error', message };
}

/** The parts of tfjs's WebGPU backend that {@link watchWebGpuDevice} instruments. */
interface WebGpuBackendInternals {
	device?: GpuDeviceHandle;
	readSync(dataId: object): unknown;
	tensorMap: { get(dataId: object): { values: unknown; dtype: string } | undefined };
}

/**
 * Starts watching the device of the active `webgpu` backend: error events are collected for
 * {@link assertGpuHealthy}, and its loss settles {@link unlessDeviceLost}. Also makes a
 * synchronous read of GPU data (`dataSync`, `arraySync`) fail with a message that says what to
 * do: tfjs implements it with a browser's OffscreenCanvas, which Node lacks. Call after
 * `tf.setBackend('webgpu')`; idempotent per device.
 */
export function watchWebGpuDevice(): void {
	const backend = tf.findBackend('webgpu') as unknown as WebGpuBackendInternals | null;
	const current = backend?.device ?? null;
	if (!backend || !current || current === device) return;
	device = current;
	const readSync = backend.readSync.bind(backend);
	backend.readSync = (dataId) => {
		const data = backend.tensorMap.get(dataId);
		if (data && data.values == null && data.dtype !== 'complex64' && data.dtype !== 'string') {
			throw new Error(
				'A synchronous read (dataSync, arraySync) of a tensor on the GPU: the webgpu backend cannot read synchronously in Node. Read it with `await tensor.data()`.'
			);
		}
		return readSync(dataId);
	};
	troubles = [];
	lostInfo = null;
	current.addEventListener('uncapturederror', (event) => {
		// A failed step raises many; the first few say everything.
		if (troubles.length < 20) troubles.push(classify(event));
	});
	lostSignal = current.lost.then((info) => {
		lostInfo = info;
		throw deviceLostFailure(info);
	});
	// Observed by whoever races it; a loss nobody waits for must not crash the process.
	lostSignal.catch(() => undefined);
}

function deviceLostFailure(info: { reason: string; message: string }): AppFailure {
	const why = info.message ? `${info.reason}: ${info.message}` : info.reason;
	return new AppFailure(
		'GPU_DEVICE_LOST',
		`The GPU device was lost (${why}). The driver may have reset or the GPU was removed.`
	);
}

/** The device being watched, for tests that lose it on purpose. */
export function watchedWebGpuDevice(): GpuDeviceHandle | null {
	return device;
}

/**
 * Resolves with `work`, unless the watched device is lost first: then rejects with
 * GPU_DEVICE_LOST (a read-back from a lost device may otherwise never settle).
 */
export function unlessDeviceLost<T>(work: Promise<T>): Promise<T> {
	if (!lostSignal || tf.getBackend() !== 'webgpu') return work;
	// When the device wins the race, `work` is abandoned: its later rejection (tfjs's read-back
	// aborts) must not surface as an unhandled rejection, which would end the process.
	work.catch(() => undefined);
	if (lostInfo) return Promise.reject(deviceLostFailure(lostInfo));
	return Promise.race([work, lostSignal]);
}

/** The GPU errors since the last call (none on other backends), emptying the list. */
export function takeGpuTrouble(): GpuTrouble[] {
	const taken = troubles;
	troubles = [];
	return taken;
}

/** A GPU that ran out of memory, or a tensor over the adapter's buffer limits. */
export class GpuMemoryFailure extends AppFailure {
	constructor(message: string) {
		super('OUT_OF_MEMORY', message);
	}
}

/**
 * Throws when the watched device was lost or reported errors since the last check: a lost
 * device as GPU_DEVICE_LOST; exhausted memory, or a buffer over the adapter's limits, as a
 * {@link GpuMemoryFailure} (OUT_OF_MEMORY); anything else as INTERNAL. `what` names the work,
 * e.g. "a training step of tiny at batch 64". Does nothing on other backends.
 */
export function assertGpuHealthy(what: string): void {
	if (tf.getBackend() !== 'webgpu') return;
	if (lostInfo) throw deviceLostFailure(lostInfo);
	const found = takeGpuTrouble();
	const first = found.find((trouble) => trouble.kind !== 'error') ?? found[0];
	if (!first) return;
	if (first.kind === 'error') {
		throw new AppFailure('INTERNAL', `The GPU reported an error during ${what}: ${first.message}`);
	}
	throw new GpuMemoryFailure(
		first.kind === 'out-of-memory'
			? `Out of GPU memory during ${what} (${first.message}).`
			: `${capitalise(what)} needs a GPU buffer larger than this adapter allows (${first.message}).`
	);
}

/**
 * `work` on the selected backend, checked: it fails as {@link unlessDeviceLost} and
 * {@link assertGpuHealthy} say when the GPU was lost or reported errors meanwhile. `what` names
 * the work for the message. On other backends it is `work` itself.
 */
export async function gpuChecked<T>(what: string, work: Promise<T>): Promise<T> {
	const value = await unlessDeviceLost(work);
	assertGpuHealthy(what);
	return value;
}

function capitalise(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}
