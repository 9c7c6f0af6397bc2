import { z } from 'zod';

/**
 * The compute backends NoiseLab can train on, best first. The two TensorFlow builds are both
 * the tfjs `tensorflow` backend; they are listed apart because they install and fail apart.
 */
export const backendIds = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;

/** One of {@link backendIds}. */
export type BackendId = (typeof backendIds)[number];

/** What a user can choose in Settings: a backend, or the best one available. */
export const backendPreferences = ['auto', ...backendIds] as const;

/** One of {@link backendPreferences}. */
export type BackendPreference = (typeof backendPreferences)[number];

/** Human-readable names, for the UI and the CLI. */
export const backendLabels: Record<BackendId, string> = {
	'tfjs-node-gpu': 'TensorFlow GPU (CUDA, @tensorflow/tfjs-node-gpu)',
	'tfjs-node': 'TensorFlow CPU (@tensorflow/tfjs-node)',
	wasm: 'WebAssembly (@tensorflow/tfjs-backend-wasm)',
	cpu: 'Plain JavaScript (reference only, very slow)'
};

/** The outcome of trying one backend in a worker process. */
export const backendProbeSchema = z.object({
	id: z.enum(backendIds),
	available: z.boolean(),
	/** Why it is unavailable, or what was found (version, threads, device). */
	detail: z.string(),
	version: z.string().nullable(),
	/** Milliseconds the probe took to load the backend and run a tiny matmul; null if it did not. */
	probeMs: z.number().nullable()
});

/** See {@link backendProbeSchema}. */
export type BackendProbe = z.infer<typeof backendProbeSchema>;

/** Which backend work will run on, and why. */
export const backendSelectionSchema = z.object({
	preference: z.enum(backendPreferences),
	active: z.enum(backendIds).nullable(),
	reason: z.string()
});

/** See {@link backendSelectionSchema}. */
export type BackendSelection = z.infer<typeof backendSelectionSchema>;

/**
 * Chooses the backend to run on from a preference and the probes: the preferred one when it is
 * available, else the best available one, with a reason a user can act on.
 */
export function selectBackend(
	preference: BackendPreference,
	probes: readonly BackendProbe[]
): BackendSelection {
	const byId = new Map(probes.map((probe) => [probe.id, probe]));
	const best = backendIds.find((id) => byId.get(id)?.available === true) ?? null;
	if (preference !== 'auto') {
		const wanted = byId.get(preference);
		if (wanted?.available) {
			return { preference, active: preference, reason: `${preference} was chosen in Settings.` };
		}
		const why = wanted ? wanted.detail : 'it was not probed';
		return {
			preference,
			active: best,
			reason:
				best === null
					? `${preference} was chosen in Settings but is unavailable (${why}), and no other backend works.`
					: `${preference} was chosen in Settings but is unavailable (${why}); using ${best} instead.`
		};
	}
	if (best === null) {
		return { preference, active: null, reason: 'No compute backend could be loaded.' };
	}
	const better = backendIds.slice(0, backendIds.indexOf(best));
	return {
		preference,
		active: best,
		reason:
			better.length === 0
				? `${best} is the best backend available.`
				: `${best} is the best backend available (${better.join(', ')} unavailable).`
	};
}
