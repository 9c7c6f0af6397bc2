/**
 * The one place a worker process or thread makes a tfjs backend active: training, evaluation,
 * Explain and the feature-visualisation generator all come here, so they run on the same
 * backend with the same kernels.
 */
import {
	backendIds,
	backendPreferences,
	describeAdapter,
	type BackendId,
	type BackendPreference,
	type GpuAdapter
} from '../../core/compute/backends';
import * as tf from '@tensorflow/tfjs-core';
import { AppFailure } from '../../core/api/errors';
import { registerAllGradients } from './kernels/register-gradients';
import { registerWasmKernelPack } from './kernels';
import { registerWebGpuKernelPack } from './kernels/webgpu';
import { probeBackends } from './probe-backends';
import { watchWebGpuDevice } from './webgpu';

/** The backend a worker runs on, and why. */
export interface ActiveBackend {
	id: BackendId;
	reason: string;
	/** The WebGPU adapter, on `webgpu`. */
	adapter: GpuAdapter | null;
}

/**
 * Backends that load in a worker thread as well as in a process: the feature-visualisation
 * generator runs in export and data threads, where the native TensorFlow builds are not offered.
 */
export const threadBackends: readonly BackendId[] = ['webgpu', 'wasm', 'cpu'];

let active: { preference: BackendPreference; result: ActiveBackend } | null = null;

/**
 * Makes a backend active in this process: the preferred one when it loads, else the best that
 * does (in {@link backendIds} order), and installs what tfjs needs to train on it (gradients;
 * the project's kernel pack on wasm and webgpu; the GPU watch on webgpu). The plain cpu backend
 * and a software WebGPU adapter stand in only when chosen. `allowed` narrows the candidates.
 * Idempotent: a second call with the same preference returns the first answer.
 */
export async function activateBackend(
	preference: BackendPreference,
	options: { allowed?: readonly BackendId[] } = {}
): Promise<ActiveBackend> {
	if (active?.preference === preference && tf.getBackend() === active.result.id)
		return active.result;
	const allowed = options.allowed ?? backendIds;
	const order: BackendId[] =
		preference === 'auto'
			? [...backendIds]
			: [preference, ...backendIds.filter((id) => id !== preference)];
	// The plain cpu backend is a reference: it never stands in for a missing one silently.
	const candidates = order.filter(
		(id) => allowed.includes(id) && (id !== 'cpu' || preference === 'cpu')
	);
	const refused: string[] = [];
	const details: string[] = [];
	for (const id of candidates) {
		const [probe] = await probeBackends([id]);
		if (!probe?.available) {
			// The first clause ("not installed", "failed to load") is enough here; doctor has the rest.
			details.push(`${id}: ${probe?.detail ?? 'not probed'}`);
			refused.push(`${id} ${(probe?.detail ?? 'not probed').split(/[:;(]/)[0]?.trim() ?? ''}`);
			continue;
		}
		if (id === 'webgpu' && probe.adapter?.software && preference !== 'webgpu') {
			refused.push(`webgpu is a software adapter, ${describeAdapter(probe.adapter)}`);
			continue;
		}
		registerAllGradients();
		if (id === 'wasm') registerWasmKernelPack();
		if (id === 'webgpu') {
			registerWebGpuKernelPack();
			watchWebGpuDevice();
		}
		const on = probe.adapter ? ` on ${describeAdapter(probe.adapter)}` : '';
		const reason =
			id === preference
				? `${id} was chosen${on}.`
				: preference === 'auto'
					? refused.length === 0
						? `${id} is the best available backend${on}.`
						: `${id} is the best available backend${on} (${refused.join('; ')}).`
					: `${preference} is unavailable (${refused[0] ?? 'unknown'}); using ${id}${on}.`;
		const result: ActiveBackend = { id, reason, adapter: probe.adapter };
		active = { preference, result };
		return result;
	}
	throw new AppFailure(
		'BACKEND_UNAVAILABLE',
		`No compute backend could be loaded: ${details.join('; ') || 'none was allowed'}.`
	);
}

/**
 * The environment variable that carries the backend preference to generator processes and
 * threads: the app sets it from Settings before it starts workers, and the trainer from its
 * run's backend before it starts data threads, which inherit it.
 */
export const backendVariable = 'NOISELAB_BACKEND';

/**
 * Activates the backend for the feature-visualisation generator: the preference in
 * {@link backendVariable} (default auto) among {@link threadBackends}.
 */
export function activateGeneratorBackend(): Promise<ActiveBackend> {
	const named = process.env[backendVariable];
	const preference = (backendPreferences as readonly string[]).includes(named ?? '')
		? (named as BackendPreference)
		: 'auto';
	return activateBackend(preference, { allowed: threadBackends });
}
