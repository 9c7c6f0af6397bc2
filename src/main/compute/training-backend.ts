import { backendIds, type BackendId, type BackendPreference } from '../../core/compute/backends';
import { registerAllGradients } from './kernels/register-gradients';
import { registerWasmKernelPack } from './kernels';
import { probeBackends } from './probe-backends';
import { AppFailure } from '../../core/api/errors';

/** The backend a training or evaluation worker runs on, and why. */
export interface ActiveBackend {
	id: BackendId;
	reason: string;
}

/**
 * Makes a backend active in this worker process for training: the preferred one when it loads,
 * else the best that does (TensorFlow GPU, TensorFlow CPU, wasm, cpu), and installs what tfjs
 * needs to train on it (gradients; on wasm, the project's kernel pack).
 */
export async function activateTrainingBackend(
	preference: BackendPreference
): Promise<ActiveBackend> {
	const order: BackendId[] =
		preference === 'auto'
			? [...backendIds]
			: [preference, ...backendIds.filter((id) => id !== preference)];
	// The plain cpu backend is a reference: it never stands in for a missing one silently.
	const candidates = preference === 'cpu' ? order : order.filter((id) => id !== 'cpu');
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
		registerAllGradients();
		if (id === 'wasm') registerWasmKernelPack();
		const reason =
			id === preference
				? `${id} was chosen.`
				: preference === 'auto'
					? refused.length === 0
						? `${id} is the best available backend.`
						: `${id} is the best available backend (${refused.join('; ')}).`
					: `${preference} is unavailable (${refused[0] ?? 'unknown'}); using ${id}.`;
		return { id, reason };
	}
	throw new AppFailure(
		'BACKEND_UNAVAILABLE',
		`No compute backend could be loaded for training: ${details.join('; ')}.`
	);
}
