/**
 * The explainer worker: Grad-CAM, filters, activations and neighbours for the Explain area. It
 * lives across requests (the service stops it when idle), so its session keeps the datasets,
 * encoders and maps of the last requests; a crash in tfjs never takes the app down.
 */
import type {
	ExplainActivationsParams,
	ExplainBatchParams,
	ExplainBatchResult,
	ExplainNeighboursParams,
	ExplainParams,
	ExplainResult
} from '../../../core/api/explain';
import type { ApiParsedParams, ApiResult } from '../../../core/api/contract';
import type { BackendPreference } from '../../../core/compute/backends';
import type { TaskSpec } from '../../../core/workers/protocol';
import { ExplainSession, type SessionRequest } from '../../explain/explain-session';
import { gpuChecked } from '../../compute/webgpu';
import { installWasmStyleganConvolutions } from '../../compute/kernels/wasm-stylegan-conv';
import { installCacheFromEnvironment } from '../../generation/disk-cache';
import { serveWorker } from '../runtime';

/** Where the session reads and caches; a change starts a new session. */
export interface SessionSettings {
	backend: BackendPreference;
	cacheDir: string | null;
	featureDir: string | null;
}

/** A request as the service sends it. */
export type ExplainerRequest<P> = SessionRequest<P> & { settings: SessionSettings };

/** Progress of a long request. */
export interface ExplainerProgress {
	done: number;
	total: number;
	message: string;
}

/** The explainer worker's tasks. */
export type ExplainerTasks = {
	compute: TaskSpec<ExplainerRequest<ExplainParams>, ExplainResult, never>;
	batch: TaskSpec<ExplainerRequest<ExplainBatchParams>, ExplainBatchResult, ExplainerProgress>;
	images: TaskSpec<
		ExplainerRequest<ApiParsedParams<'explain.images'>>,
		ApiResult<'explain.images'>,
		never
	>;
	filters: TaskSpec<ExplainerRequest<unknown>, ApiResult<'explain.filters'>, never>;
	activations: TaskSpec<
		ExplainerRequest<ExplainActivationsParams>,
		ApiResult<'explain.activations'>,
		never
	>;
	neighbours: TaskSpec<
		ExplainerRequest<ExplainNeighboursParams>,
		ApiResult<'explain.neighbours'>,
		ExplainerProgress
	>;
};

let session: { key: string; value: ExplainSession } | null = null;

/** The session for these settings (a new one when they changed). */
function sessionFor(settings: SessionSettings): ExplainSession {
	const key = JSON.stringify(settings);
	if (session?.key !== key) {
		session?.value.dispose();
		session = { key, value: new ExplainSession(settings) };
	}
	return session.value;
}

installCacheFromEnvironment();
installWasmStyleganConvolutions();

serveWorker<ExplainerTasks>({
	compute: (request) => gpuChecked('a Grad-CAM map', sessionFor(request.settings).compute(request)),
	batch: (request, { signal, progress }) =>
		gpuChecked(
			'a batch of Grad-CAM maps',
			sessionFor(request.settings).batch(request, {
				signal,
				onProgress: (done, total, message) => progress({ done, total, message })
			})
		),
	images: (request) => sessionFor(request.settings).images(request.params),
	filters: (request) => gpuChecked('the filters', sessionFor(request.settings).filters(request)),
	activations: (request) =>
		gpuChecked('an activation map', sessionFor(request.settings).activations(request)),
	neighbours: (request, { signal, progress }) =>
		gpuChecked(
			'the neighbour search',
			sessionFor(request.settings).neighbours(request, {
				signal,
				onProgress: (done, total, message) => progress({ done, total, message })
			})
		)
});
