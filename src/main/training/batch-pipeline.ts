/**
 * Training batches: for each step, the images of that step (see `data-order.ts`) turned into two
 * augmented views each. The work runs on worker threads while the training step runs on the
 * calling thread, a few batches ahead. Every view is drawn with `Random(seed, step, slot, view)`,
 * so a batch is the same bytes whatever the number of threads, and a resumed run reproduces it.
 *
 * Unreadable images are never fatal: a slot whose image fails takes a deterministic substitute,
 * the batch stays full, and the failure is counted and reported for the UI.
 */
import path from 'node:path';
import { AppFailure } from '../../core/api/errors';
import { Random } from '../../core/generators/random';
import { augmentView, type SourceImage } from '../../core/training/augment';
import type { AugmentConfig, TrainSource } from '../../core/training/config';
import { indicesForStep } from '../../core/training/data-order';
import type { PackedImages } from '../../core/evaluation/dataset';
import {
	datasetDataSource,
	folderDataSource,
	loadTrainingSplit,
	openDataSource,
	scanImageFolder,
	type TrainDataSource
} from './data-source';
import { ThreadPool } from '../threads/pool';
import type { ThreadHandlers } from '../threads/serve';

/** One step's data. */
export interface TrainBatch {
	step: number;
	/** `2·batch·S·S·3` floats, NHWC: all first views, then all second views in the same slot order. */
	views: Float32Array;
	/** The image each slot shows: the planned index, or its substitute when that was unreadable. */
	indices: Int32Array;
	/** Slots of this batch whose planned image was unreadable and was substituted. */
	skipped: number;
	/** "path: reason" of images first found unreadable in this batch (a few at most). */
	skippedExamples: string[];
}

/** How to build batches. */
export interface BatchPipelineOptions {
	source: TrainSource;
	augment: AugmentConfig;
	/** Side of each view in pixels (the model's input size). */
	inputSize: number;
	/** Pairs per step. */
	batch: number;
	/** The run's seed: it fixes the data order and every augmentation. */
	seed: number;
	/** Data threads; 0 builds batches inline on the calling thread, on demand. */
	threads: number;
	/** Batches built ahead of the one asked for (threads only); default 2. */
	prefetch?: number;
	/** The built `train-data-thread.cjs`. */
	threadFile: string;
}

/** Candidates tried for one slot (the planned image and its substitutes) before giving up. */
const maxCandidates = 32;
/** Examples of unreadable images kept per batch for the UI. */
const examplesPerBatch = 5;

/** Everything a data thread (or the inline builder) needs to render slots. */
export interface SlotContext {
	source: TrainDataSource;
	augment: AugmentConfig;
	inputSize: number;
	seed: number;
	/** Indices known to be unreadable, with the reason; grows as failures are found. */
	bad: Map<number, string>;
}

/** What rendering a run of consecutive slots produced. */
export interface SlotResult {
	/** `2·n·S·S·3` floats: the n first views, then the n second views. */
	views: Float32Array;
	/** The image each slot used. */
	used: Int32Array;
	/** Slots whose planned image was unreadable. */
	substituted: number;
	/** Images found unreadable while rendering (not those already in `bad`). */
	failures: { index: number; reason: string }[];
}

/**
 * Renders slots `firstSlot..firstSlot+indices.length-1` of step `step`. Shared by the threads
 * and the inline mode, so both give the same bytes.
 */
export async function renderSlots(
	context: SlotContext,
	step: number,
	firstSlot: number,
	indices: Int32Array
): Promise<SlotResult> {
	const n = indices.length;
	const viewLength = context.inputSize * context.inputSize * 3;
	const views = new Float32Array(2 * n * viewLength);
	const used = new Int32Array(n);
	const failures: SlotResult['failures'] = [];
	let substituted = 0;
	for (let k = 0; k < n; k++) {
		const planned = indices[k] as number;
		const { image, index } = await loadWithSubstitutes(context, planned, failures);
		if (index !== planned) substituted++;
		used[k] = index;
		const slot = firstSlot + k;
		for (let view = 0; view < 2; view++) {
			augmentView(
				image,
				new Random(context.seed, step, slot, view),
				context.augment,
				context.inputSize,
				views,
				(view * n + k) * viewLength
			);
		}
	}
	return { views, used, substituted, failures };
}

/**
 * The substitutes of `index`: `index + k·stride (mod count)` for a prime stride that does not
 * divide `count`, so small datasets are walked through completely. The sequence does not depend
 * on what is already known to be bad, which only saves re-reading, so every thread picks the
 * same substitute.
 */
export function substituteCandidate(index: number, k: number, count: number): number {
	const stride = [7919, 7907, 7901].find((prime) => count % prime !== 0) ?? 1;
	return (index + ((k * stride) % count)) % count;
}

async function loadWithSubstitutes(
	context: SlotContext,
	planned: number,
	failures: SlotResult['failures']
): Promise<{ image: SourceImage; index: number }> {
	const { source, bad } = context;
	const candidates = Math.min(source.count, maxCandidates);
	for (let k = 0; k < candidates; k++) {
		const index = substituteCandidate(planned, k, source.count);
		if (bad.has(index)) continue;
		try {
			return { image: await source.load(index), index };
		} catch (error) {
			const reason = error instanceof Error ? error.message : String(error);
			bad.set(index, reason);
			failures.push({ index, reason });
		}
	}
	const examples = [...bad.values()].slice(0, 3).join('; ');
	throw new AppFailure(
		'IO_ERROR',
		`None of ${candidates} images tried for image ${planned} of ${source.label} could be read ` +
			`(${bad.size} unreadable so far, e.g. ${examples}). Check the data source.`
	);
}

/** The setup of a data thread. */
export interface DataThreadInit {
	source: TrainSource;
	/** A folder source's scanned file list, so every thread agrees on the indices. */
	files: string[] | null;
	/** A dataset source's training split, in shared memory: loaded once for every thread. */
	images: PackedImages | null;
	augment: AugmentConfig;
	inputSize: number;
	seed: number;
}

/** A task of a data thread: consecutive slots of one step. */
export interface DataThreadTask {
	step: number;
	firstSlot: number;
	indices: Int32Array;
	/** Unreadable images found since this thread's previous task. */
	newlyBad: [number, string][];
}

/** Opens the source for a data thread from its init message. */
export async function openThreadSource(request: DataThreadInit): Promise<TrainDataSource> {
	if (request.source.kind === 'folder' && request.files) {
		return folderDataSource(request.source.path, request.files, request.source.maxSide);
	}
	if (request.source.kind === 'dataset' && request.images) {
		return datasetDataSource(request.source, request.images);
	}
	return openDataSource(request.source);
}

interface Chunk {
	batch: PendingBatch;
	firstSlot: number;
	indices: Int32Array;
}

/** A step's batch once its chunks are in, with every unreadable image its slots ran into. */
interface AssembledBatch {
	batch: TrainBatch;
	failures: SlotResult['failures'];
}

interface PendingBatch {
	step: number;
	planned: Int32Array;
	results: (SlotResult | null)[];
	chunks: Chunk[];
	remaining: number;
	/** A caller is waiting for it: never dropped as stale. */
	awaited: boolean;
	promise: Promise<AssembledBatch>;
	resolve: (batch: AssembledBatch) => void;
	reject: (error: Error) => void;
}

interface DataThread {
	busy: Chunk | null;
	/** How much of the pipeline's bad list this thread has been sent. */
	badSent: number;
}

/** Builds training batches, ahead of time on worker threads. */
export class BatchPipeline {
	private readonly pending = new Map<number, PendingBatch>();
	private readonly queue: Chunk[] = [];
	private readonly bad = new Map<number, string>();
	/** Bad indices in the order found, to send each thread only what it has not seen. */
	private readonly badOrder: [number, string][] = [];
	private readonly reported = new Set<number>();
	private broken: AppFailure | null = null;
	private closed = false;
	private pool: ThreadPool<DataThreadTask, SlotResult> | null = null;
	private readonly threads: DataThread[] = [];

	private constructor(
		private readonly options: Required<BatchPipelineOptions>,
		private readonly source: TrainDataSource
	) {}

	/** Opens the source (failing early on a bad config or folder) and starts the threads. */
	static async open(options: BatchPipelineOptions): Promise<BatchPipeline> {
		for (const [name, value, minimum] of [
			['inputSize', options.inputSize, 1],
			['batch', options.batch, 1],
			['threads', options.threads, 0],
			['prefetch', options.prefetch ?? 0, 0]
		] as const) {
			if (!Number.isInteger(value) || value < minimum) {
				throw new AppFailure(
					'INVALID_REQUEST',
					`${name} must be a whole number of at least ${minimum}; got ${value}.`
				);
			}
		}
		const full = { ...options, prefetch: options.prefetch ?? 2 };
		let files: string[] | null = null;
		let images: PackedImages | null = null;
		let source: TrainDataSource;
		if (options.source.kind === 'folder') {
			// The absolute path travels to the threads, which may not share the working directory.
			const folder = path.resolve(options.source.path);
			full.source = { ...options.source, path: folder };
			files = await scanImageFolder(folder);
			source = folderDataSource(folder, files, options.source.maxSide);
		} else if (options.source.kind === 'dataset') {
			images = await loadTrainingSplit(options.source);
			source = datasetDataSource(options.source, images);
		} else {
			source = await openDataSource(options.source);
		}
		const pipeline = new BatchPipeline(full, source);
		if (options.threads > 0) {
			await pipeline.startThreads(files, images);
		}
		return pipeline;
	}

	/** Images in the dataset. */
	get count(): number {
		return this.source.count;
	}

	/** The source's label, for the UI. */
	get label(): string {
		return this.source.label;
	}

	/** Data threads that have started and not exited yet (0 after {@link close}). */
	get liveThreads(): number {
		return this.pool?.live ?? 0;
	}

	/** Distinct images found unreadable so far. */
	get unreadable(): number {
		return this.bad.size;
	}

	/**
	 * The batch for `step`; prefetches the next ones in the threads while the caller trains.
	 * Steps are asked in increasing order (a resumed run starts at any step). Rejects with
	 * WORKER_CRASHED when a thread dies, and with the failure of the batch when no readable image
	 * could be found for a slot.
	 */
	async next(step: number): Promise<TrainBatch> {
		if (this.closed) throw new AppFailure('CANCELLED', 'The batch pipeline is closed.');
		if (this.broken) throw this.broken;
		if (!Number.isSafeInteger(step) || step < 0) {
			throw new AppFailure('INVALID_REQUEST', `step must be a whole number ≥ 0; got ${step}.`);
		}
		if (this.threads.length === 0) return this.buildInline(step);
		for (const [pendingStep, batch] of this.pending) {
			if (pendingStep < step && !batch.awaited) this.drop(batch);
		}
		for (let ahead = step; ahead <= step + this.options.prefetch; ahead++) this.schedule(ahead);
		const batch = this.pending.get(step) as PendingBatch;
		batch.awaited = true;
		try {
			return this.deliver(await batch.promise);
		} finally {
			this.pending.delete(step);
		}
	}

	/** Stops the threads; pending batches are abandoned. */
	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		this.queue.length = 0;
		for (const batch of this.pending.values()) {
			batch.reject(new AppFailure('CANCELLED', 'The batch pipeline was closed.'));
		}
		this.pending.clear();
		await this.pool?.close();
	}

	private async buildInline(step: number): Promise<TrainBatch> {
		const planned = this.planned(step);
		const context: SlotContext = {
			source: this.source,
			augment: this.options.augment,
			inputSize: this.options.inputSize,
			seed: this.options.seed,
			bad: this.bad
		};
		const result = await renderSlots(context, step, 0, planned);
		return this.deliver(this.finish(step, [{ firstSlot: 0, result }]));
	}

	private planned(step: number): Int32Array {
		return indicesForStep(step, this.options.batch, this.source.count, this.options.seed);
	}

	private async startThreads(files: string[] | null, images: PackedImages | null): Promise<void> {
		const { options } = this;
		const init: DataThreadInit = {
			source: options.source,
			files,
			images,
			augment: options.augment,
			inputSize: options.inputSize,
			seed: options.seed
		};
		this.pool = await ThreadPool.start<DataThreadTask, SlotResult>({
			file: options.threadFile,
			size: options.threads,
			label: 'training data thread',
			init: () => init
		});
		this.pool.onCrash((failure) => this.crash(failure));
		for (let index = 0; index < options.threads; index++) {
			this.threads.push({ busy: null, badSent: 0 });
		}
	}

	private schedule(step: number): void {
		if (this.pending.has(step)) return;
		const planned = this.planned(step);
		let resolve!: (batch: AssembledBatch) => void;
		let reject!: (error: Error) => void;
		const promise = new Promise<AssembledBatch>((res, rej) => {
			resolve = res;
			reject = rej;
		});
		// Prefetched batches may fail before anyone awaits them; next() still sees the rejection.
		promise.catch(() => undefined);
		// Twice as many chunks as threads, so a slow chunk (a large photo) does not stall a thread.
		const chunkCount = Math.min(planned.length, this.threads.length * 2);
		const batch: PendingBatch = {
			step,
			planned,
			results: new Array<SlotResult | null>(chunkCount).fill(null),
			chunks: [],
			remaining: chunkCount,
			awaited: false,
			promise,
			resolve,
			reject
		};
		for (let c = 0; c < chunkCount; c++) {
			const firstSlot = Math.floor((c * planned.length) / chunkCount);
			const end = Math.floor(((c + 1) * planned.length) / chunkCount);
			const chunk: Chunk = {
				batch,
				firstSlot,
				indices: planned.slice(firstSlot, end)
			};
			batch.chunks.push(chunk);
			this.queue.push(chunk);
		}
		this.pending.set(step, batch);
		this.dispatch();
	}

	private drop(batch: PendingBatch): void {
		this.pending.delete(batch.step);
		for (let i = this.queue.length - 1; i >= 0; i--) {
			if (this.queue[i]?.batch === batch) this.queue.splice(i, 1);
		}
		batch.reject(new AppFailure('CANCELLED', `Step ${batch.step} was skipped.`));
	}

	private dispatch(): void {
		const pool = this.pool;
		if (!pool) return;
		for (const [index, thread] of this.threads.entries()) {
			if (thread.busy) continue;
			const chunk = this.queue.shift();
			if (!chunk) return;
			thread.busy = chunk;
			const newlyBad = this.badOrder.slice(thread.badSent);
			thread.badSent = this.badOrder.length;
			const task: DataThreadTask = {
				step: chunk.batch.step,
				firstSlot: chunk.firstSlot,
				indices: chunk.indices,
				newlyBad
			};
			pool.run(task, { thread: index }).then(
				(result) => this.onResult(thread, chunk, result),
				(error: unknown) => this.onFailure(thread, chunk, error)
			);
		}
	}

	private onResult(thread: DataThread, chunk: Chunk, result: SlotResult): void {
		thread.busy = null;
		const { batch } = chunk;
		for (const { index, reason } of result.failures) this.markBad(index, reason);
		if (this.pending.get(batch.step) === batch) {
			batch.results[batch.chunks.indexOf(chunk)] = result;
			batch.remaining--;
			if (batch.remaining === 0) {
				batch.resolve(
					this.finish(
						batch.step,
						batch.chunks.map((c, i) => ({
							firstSlot: c.firstSlot,
							result: batch.results[i] as SlotResult
						}))
					)
				);
			}
		}
		this.dispatch();
	}

	/** A chunk's own failure (no readable image for a slot) fails its batch only. */
	private onFailure(thread: DataThread, chunk: Chunk, error: unknown): void {
		thread.busy = null;
		// A dead thread or a closed pipeline: crash() and close() have settled every batch.
		if (this.broken || this.closed || this.pool?.failure) return;
		const { batch } = chunk;
		if (this.pending.get(batch.step) === batch) {
			this.pending.delete(batch.step);
			for (let i = this.queue.length - 1; i >= 0; i--) {
				if (this.queue[i]?.batch === batch) this.queue.splice(i, 1);
			}
			batch.reject(
				error instanceof AppFailure
					? error
					: new AppFailure('INTERNAL', `A training data thread failed: ${String(error)}`)
			);
		}
		this.dispatch();
	}

	private markBad(index: number, reason: string): void {
		if (this.bad.has(index)) return;
		this.bad.set(index, reason);
		this.badOrder.push([index, reason]);
	}

	/** Assembles the chunks of a step into one batch. */
	private finish(step: number, parts: { firstSlot: number; result: SlotResult }[]): AssembledBatch {
		const { batch, inputSize } = this.options;
		const viewLength = inputSize * inputSize * 3;
		let views: Float32Array;
		const only = parts.length === 1 ? parts[0] : undefined;
		if (only) {
			// One chunk already has the batch's layout: hand its transferred buffer over as it is.
			views = only.result.views;
		} else {
			views = new Float32Array(2 * batch * viewLength);
			for (const { firstSlot, result } of parts) {
				const half = result.views.length / 2;
				views.set(result.views.subarray(0, half), firstSlot * viewLength);
				views.set(result.views.subarray(half), (batch + firstSlot) * viewLength);
			}
		}
		const indices = new Int32Array(batch);
		let skipped = 0;
		const failures: SlotResult['failures'] = [];
		for (const { firstSlot, result } of parts) {
			indices.set(result.used, firstSlot);
			skipped += result.substituted;
			for (const failure of result.failures) {
				this.markBad(failure.index, failure.reason);
				failures.push(failure);
			}
		}
		return { batch: { step, views, indices, skipped, skippedExamples: [] }, failures };
	}

	/**
	 * Hands a batch to the caller with the images first found unreadable in it. Runs in step
	 * order (batches may complete out of order), so an image is reported with the first step
	 * that skipped it.
	 */
	private deliver({ batch, failures }: AssembledBatch): TrainBatch {
		for (const { index, reason } of failures) {
			if (this.reported.has(index)) continue;
			this.reported.add(index);
			if (batch.skippedExamples.length < examplesPerBatch) batch.skippedExamples.push(reason);
		}
		return batch;
	}

	private crash(failure: AppFailure): void {
		if (this.closed || this.broken) return;
		this.broken = failure;
		this.queue.length = 0;
		for (const batch of this.pending.values()) batch.reject(failure);
		this.pending.clear();
	}
}

/** The handlers of a data thread (`workers/entries/train-data-thread.ts` serves them). */
export const dataThread: ThreadHandlers<DataThreadInit, SlotContext, DataThreadTask, SlotResult> = {
	setup: (init) => threadContext(init),
	run: (context, task) => {
		for (const [index, reason] of task.newlyBad) context.bad.set(index, reason);
		return renderSlots(context, task.step, task.firstSlot, task.indices);
	},
	transfer: (result) => [result.views.buffer as ArrayBuffer, result.used.buffer as ArrayBuffer]
};

/** Builds the context a data thread renders with, from its init message. */
export async function threadContext(request: DataThreadInit): Promise<SlotContext> {
	return {
		source: await openThreadSource(request),
		augment: request.augment,
		inputSize: request.inputSize,
		seed: request.seed,
		bad: new Map()
	};
}
