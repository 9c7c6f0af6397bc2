import { createRequire } from 'node:module';
import type * as TfjsCore from '@tensorflow/tfjs-core';

const load = createRequire(__filename);

let ready: Promise<string> | null = null;

/**
 * Makes a tfjs backend active in this process for generators that compute with tfjs (feature
 * visualisation): wasm when it loads, else the plain cpu backend. Idempotent.
 */
export function ensureTfjsBackend(): Promise<string> {
	ready ??= (async () => {
		const tf = load('@tensorflow/tfjs-core') as typeof TfjsCore;
		load('@tensorflow/tfjs-backend-cpu');
		try {
			load('@tensorflow/tfjs-backend-wasm');
			if (await tf.setBackend('wasm')) return 'wasm';
		} catch {
			// Fall through to cpu: the wasm files may be missing from a broken install.
		}
		await tf.setBackend('cpu');
		return 'cpu';
	})();
	return ready;
}
