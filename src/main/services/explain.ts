/**
 * Explain: Grad-CAM maps, filters, activations and neighbours of runs' encoders, computed in one
 * long-lived explainer worker whose session caches datasets, encoders and maps between requests.
 * Requests run one at a time, in order; the worker stops after a few idle minutes.
 */
import { type FeatureLayer } from '../../core/encoders/architecture';
import { AppFailure } from '../../core/api/errors';
import type { EncoderRecipe } from '../../core/encoders/build';
import type { ApiParsedParams, ApiResult } from '../../core/api/contract';
import type { EncoderRef } from '../../core/api/explain';
import type { BackendPreference } from '../../core/compute/backends';
import type { EventBus } from '../events';
import { resolveEncoders } from '../explain/encoders';
import type { Store } from '../store/database';
import type {
	ExplainerProgress,
	ExplainerRequest,
	ExplainerTasks,
	SessionSettings
} from '../workers/entries/explainer';
import type { WorkerClient, WorkerFactory } from '../workers/host';

/** How long the worker (and its caches) outlive the last request. */
const idleStopMs = 5 * 60_000;
/** A single map, filters or thumbnails must not take longer than this. */
const shortRequestMs = 5 * 60_000;

type LongTask = 'batch' | 'neighbours';

export class ExplainService {
	private worker: WorkerClient<ExplainerTasks> | null = null;
	private idleTimer: NodeJS.Timeout | null = null;
	private queue: Promise<unknown> = Promise.resolve();
	private running: AbortController | null = null;

	constructor(
		private readonly workers: WorkerFactory,
		private readonly store: () => Store,
		private readonly events: EventBus,
		private readonly options: {
			/** Decoded datasets. */
			cacheDir: string;
			/** Feature arrays of neighbour galleries. */
			featureDir: string;
			/** The backend for an encoder: Settings' preference, `auto` measured per model preset. */
			backendFor: (recipe: EncoderRecipe | null) => Promise<BackendPreference>;
		}
	) {}

	compute(params: ApiParsedParams<'explain.compute'>): Promise<ApiResult<'explain.compute'>> {
		return this.request('compute', params, params.encoders, params.dataset, params.layer);
	}

	images(params: ApiParsedParams<'explain.images'>): Promise<ApiResult<'explain.images'>> {
		return this.request('images', params, [], null);
	}

	filters(params: ApiParsedParams<'explain.filters'>): Promise<ApiResult<'explain.filters'>> {
		return this.request('filters', params, params.encoders, null);
	}

	activations(
		params: ApiParsedParams<'explain.activations'>
	): Promise<ApiResult<'explain.activations'>> {
		return this.request('activations', params, params.encoders, params.dataset);
	}

	batch(params: ApiParsedParams<'explain.batch'>): Promise<ApiResult<'explain.batch'>> {
		return this.request('batch', params, params.encoders, params.dataset, params.layer);
	}

	neighbours(
		params: ApiParsedParams<'explain.neighbours'>
	): Promise<ApiResult<'explain.neighbours'>> {
		return this.request('neighbours', params, params.encoders, params.dataset);
	}

	/** Stops the running batch or neighbours request. */
	cancel(): { cancelled: boolean } {
		if (!this.running) return { cancelled: false };
		this.running.abort();
		return { cancelled: true };
	}

	/** Stops the worker (the app is closing). */
	close(): void {
		this.running?.abort();
		this.stopWorker();
	}

	/** Queues one task; encoders are resolved when its turn comes (a run may have moved on). */
	private request<K extends keyof ExplainerTasks & string>(
		task: K,
		params: unknown,
		refs: readonly EncoderRef[],
		dataset: string | null,
		camLayer?: FeatureLayer
	): Promise<ExplainerTasks[K]['output']> {
		const next = this.queue.then(() => this.run(task, params, refs, dataset, camLayer));
		this.queue = next.catch(() => undefined);
		return next;
	}

	private async run<K extends keyof ExplainerTasks & string>(
		task: K,
		params: unknown,
		refs: readonly EncoderRef[],
		dataset: string | null,
		camLayer: FeatureLayer | undefined
	): Promise<ExplainerTasks[K]['output']> {
		const encoders = resolveEncoders(this.store().db, refs, dataset, camLayer);
		const settings: SessionSettings = {
			backend: await this.options.backendFor(encoders[0]?.recipe ?? null),
			cacheDir: this.options.cacheDir,
			featureDir: this.options.featureDir
		};
		const request = { params, encoders, settings } as ExplainerRequest<unknown>;
		const worker = this.ensureWorker();
		const long = task === 'batch' || task === 'neighbours';
		const controller = long ? new AbortController() : null;
		this.running = controller;
		try {
			const result = await worker.run(task, request as never, {
				signal: controller?.signal,
				timeoutMs: long ? undefined : shortRequestMs,
				onProgress: long
					? (progress: ExplainerProgress) =>
							this.events.emit('explain.progress', { task: task as LongTask, ...progress })
					: undefined
			});
			if (!result.ok) throw new AppFailure(result.error.code, result.error.message);
			return result.value as ExplainerTasks[K]['output'];
		} finally {
			if (this.running === controller) this.running = null;
			this.armIdleStop();
		}
	}

	private ensureWorker(): WorkerClient<ExplainerTasks> {
		if (this.idleTimer) clearTimeout(this.idleTimer);
		this.idleTimer = null;
		if (!this.worker?.alive) this.worker = this.workers.start<ExplainerTasks>('explainer');
		return this.worker;
	}

	private armIdleStop(): void {
		if (this.idleTimer) clearTimeout(this.idleTimer);
		this.idleTimer = setTimeout(() => this.stopWorker(), idleStopMs);
		this.idleTimer.unref();
	}

	private stopWorker(): void {
		if (this.idleTimer) clearTimeout(this.idleTimer);
		this.idleTimer = null;
		this.worker?.stop();
		this.worker = null;
	}
}
