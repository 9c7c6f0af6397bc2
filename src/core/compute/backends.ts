import { z } from 'zod';

/**
 * The compute backends NoiseLab can train on, best first when nothing has been measured. The two
 * TensorFlow builds are both the tfjs `tensorflow` backend; they are listed apart because they
 * install and fail apart. `webgpu` is tfjs-backend-webgpu on Dawn (any GPU vendor, no CUDA).
 */
export const backendIds = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;

/** One of {@link backendIds}. */
export type BackendId = (typeof backendIds)[number];

/** What a user can choose in Settings: a backend, or the best one available. */
export const backendPreferences = ['auto', ...backendIds] as const;

/** One of {@link backendPreferences}. */
export type BackendPreference = (typeof backendPreferences)[number];

/** Human-readable names, for the UI and the CLI. */
export const backendLabels: Record<BackendId, string> = {
	'tfjs-node-gpu': 'TensorFlow GPU (CUDA, @tensorflow/tfjs-node-gpu)',
	webgpu: 'WebGPU (any GPU through Dawn: Vulkan, Metal, Direct3D 12)',
	'tfjs-node': 'TensorFlow CPU (@tensorflow/tfjs-node)',
	wasm: 'WebAssembly (@tensorflow/tfjs-backend-wasm)',
	cpu: 'Plain JavaScript (reference only, very slow)'
};

/**
 * The WebGPU adapter a `webgpu` backend runs on, as Dawn reports it (`GPUAdapter.info` and the
 * limits that bound a training batch).
 */
export const gpuAdapterSchema = z.object({
	vendor: z.string(),
	architecture: z.string(),
	device: z.string(),
	description: z.string(),
	/** The adapter calls itself a fallback adapter (`GPUAdapterInfo.isFallbackAdapter`). */
	fallback: z.boolean(),
	/**
	 * A CPU rasteriser (Mesa's lavapipe, SwiftShader, Microsoft's WARP): a fallback adapter or
	 * one whose architecture or name says so. Never chosen automatically: it is slower than wasm.
	 */
	software: z.boolean(),
	limits: z.object({
		/** Bytes: the largest single buffer, so the largest tensor. */
		maxBufferSize: z.number(),
		/** Bytes: the largest buffer a shader can bind, so in practice the largest tensor. */
		maxStorageBufferBindingSize: z.number(),
		maxComputeWorkgroupStorageSize: z.number(),
		maxComputeInvocationsPerWorkgroup: z.number(),
		maxComputeWorkgroupsPerDimension: z.number()
	})
});

/** See {@link gpuAdapterSchema}. */
export type GpuAdapter = z.infer<typeof gpuAdapterSchema>;

/** A one-line description of an adapter, e.g. "llvmpipe: Mesa 25.0.7 (software, mesa)". */
export function describeAdapter(adapter: GpuAdapter): string {
	const name = adapter.description || adapter.device || 'unnamed adapter';
	const kind = adapter.software ? 'software' : adapter.architecture || 'hardware';
	return `${name} (${[kind, adapter.vendor].filter(Boolean).join(', ')})`;
}

/**
 * The adapter's facts for a report: vendor, architecture, whether it is a fallback or software
 * adapter, and the limits that bound a batch, e.g. "vendor mesa · architecture software ·
 * fallback adapter (software) · largest buffer 4096 MiB, largest binding 128 MiB".
 */
export function adapterFacts(adapter: GpuAdapter): string {
	const mebibytes = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
	const kind = adapter.fallback
		? 'fallback adapter (software)'
		: adapter.software
			? 'software adapter'
			: 'hardware adapter';
	return [
		`vendor ${adapter.vendor || 'unknown'}`,
		`architecture ${adapter.architecture || 'unknown'}`,
		kind,
		`largest buffer ${mebibytes(adapter.limits.maxBufferSize)}, largest binding ${mebibytes(adapter.limits.maxStorageBufferBindingSize)}`
	].join(' · ');
}

/** The outcome of trying one backend in a worker process. */
export const backendProbeSchema = z.object({
	id: z.enum(backendIds),
	available: z.boolean(),
	/** Why it is unavailable, or what was found (version, threads, device). */
	detail: z.string(),
	version: z.string().nullable(),
	/** Milliseconds the probe took to load the backend and run a tiny matmul; null if it did not. */
	probeMs: z.number().nullable(),
	/** `webgpu` only: the adapter Dawn offered, also when the backend then failed to start. */
	adapter: gpuAdapterSchema.nullable().default(null)
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
 * The backends `auto` may choose from: available ones except the plain cpu backend (a
 * reference) and a software WebGPU adapter (slower than wasm), in {@link backendIds} order.
 */
export function autoCandidates(probes: readonly BackendProbe[]): BackendId[] {
	const byId = new Map(probes.map((probe) => [probe.id, probe]));
	return backendIds.filter((id) => {
		const probe = byId.get(id);
		return probe?.available === true && id !== 'cpu' && probe.adapter?.software !== true;
	});
}

/** Why `auto` passed over an available backend, or null when it did not. */
function passedOver(probe: BackendProbe): string | null {
	if (probe.id === 'webgpu' && probe.adapter?.software) {
		return `webgpu's adapter is software (${probe.adapter.description || probe.adapter.device}), slower than wasm; choose webgpu to use it anyway`;
	}
	return null;
}

/**
 * Chooses the backend to run on from a preference and the probes: the preferred one when it is
 * available, else the best available one, with a reason a user can act on. `auto` takes the
 * first of {@link autoCandidates}; the cpu backend only when nothing else loads.
 */
export function selectBackend(
	preference: BackendPreference,
	probes: readonly BackendProbe[]
): BackendSelection {
	const byId = new Map(probes.map((probe) => [probe.id, probe]));
	const candidates = autoCandidates(probes);
	const best = candidates[0] ?? (byId.get('cpu')?.available === true ? ('cpu' as const) : null);
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
	const unavailable = better.filter((id) => byId.get(id)?.available !== true);
	const notes = better.flatMap((id) => {
		const probe = byId.get(id);
		const note = probe ? passedOver(probe) : null;
		return note ? [note] : [];
	});
	const clauses = [
		...(unavailable.length > 0 ? [`${unavailable.join(', ')} unavailable`] : []),
		...notes
	];
	const measured =
		candidates.length > 1
			? ` Each run measures ${candidates.join(' and ')} on its model once and takes the faster.`
			: '';
	return {
		preference,
		active: best,
		reason:
			(clauses.length === 0
				? `${best} is the best backend available.`
				: `${best} is the best backend available (${clauses.join('; ')}).`) + measured
	};
}

/** Images per second of one backend on one model, measured by a few training steps. */
export interface BackendSpeed {
	backend: BackendId;
	imagesPerSecond: number;
}

/**
 * `auto`'s choice among measured candidates: the fastest, with a reason that gives the figures
 * side by side. Candidates without a figure (their measurement failed) are passed over.
 */
export function chooseFastest(
	model: string,
	speeds: readonly BackendSpeed[]
): { backend: BackendId; reason: string } | null {
	const ranked = [...speeds]
		.filter((speed) => Number.isFinite(speed.imagesPerSecond) && speed.imagesPerSecond > 0)
		.sort((a, b) => b.imagesPerSecond - a.imagesPerSecond);
	const [fastest, ...others] = ranked;
	if (!fastest) return null;
	const figure = (speed: BackendSpeed) =>
		`${speed.backend} ${speed.imagesPerSecond.toPrecision(3)} img/s`;
	return {
		backend: fastest.backend,
		reason:
			others.length === 0
				? `${fastest.backend} is the only backend that could be measured on ${model} (${figure(fastest)}).`
				: `${fastest.backend} measured fastest on ${model}: ${[fastest, ...others].map(figure).join(', ')}.`
	};
}
