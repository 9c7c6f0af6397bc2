/**
 * Data-parallel training on the wasm backend, which runs one thread per process in Node: K
 * replica threads each hold the encoder on a wasm backend of their own and compute the gradient
 * of their shard of the batch; the leader (the thread that owns the run's trainer) sums the
 * gradients, applies the optimiser once and broadcasts the new weights. The split is exact
 * (see `ContrastiveTrainer.shardStep`): batch norm uses the whole batch's statistics per view,
 * and the loss over all pairs is computed from the gathered embeddings, so a step equals one
 * replica's within float rounding.
 *
 * Memory shared by the leader and the replicas (SharedArrayBuffers, no copies through messages):
 * the step's views, the weights, one gradient region per replica (summed into the first by the
 * replicas themselves, each adding one slice) and the collectives' scratch.
 */
import { AppFailure } from '../../core/api/errors';
import type { TrainConfig } from '../../core/training/config';
import type { BatchMoments } from '../../core/training/model';
import type { ContrastiveTrainer, StepMetrics } from '../../core/training/trainer';
import { ThreadPool } from '../threads/pool';
import {
	abortCollective,
	collectiveAbortedMessage,
	createCollectiveMemory,
	type CollectiveMemory
} from '../threads/shared-collective';

/** The setup of one replica thread. */
export interface ReplicaInit {
	config: TrainConfig;
	index: number;
	replicas: number;
	collective: CollectiveMemory;
	/** Float32, the trainable weights in `ContrastiveTrainer.weights` order, set by the leader. */
	weights: SharedArrayBuffer;
	/** Float32, replicas × weights: each replica's gradient; after a step the first holds the sum. */
	gradients: SharedArrayBuffer;
	/** Float32, the step's `2·batch` views: all first views, then all second views. */
	views: SharedArrayBuffer;
}

/** A replica's task: its part of one step. */
export interface ReplicaTask {
	step: number;
}

/** What a replica reports after its part of a step. */
export interface ReplicaReply {
	metrics: Omit<StepMetrics, 'lr'>;
	/** The batch's BN moments (replica 0 only; every replica has the same). */
	moments: Record<string, BatchMoments> | null;
}

/** The slice of `length` gradient floats replica `index` of `replicas` sums. */
export function reductionSlice(
	length: number,
	replicas: number,
	index: number
): [start: number, end: number] {
	return [Math.floor((index * length) / replicas), Math.floor(((index + 1) * length) / replicas)];
}

/**
 * The floats one replica may contribute to a cross-replica sum: the batch's embeddings (placed
 * at their slots, so the sum gathers them) or a batch-norm layer's per-group sums.
 */
export function collectiveCapacity(
	config: TrainConfig,
	embeddingDim: number,
	widest: number
): number {
	return Math.max(2 * config.batch * embeddingDim, 2 * 2 * widest + 1);
}

/** The leader's side: a trainer whose steps run on replica threads. */
export class DataParallelTrainer {
	private readonly weights: Float32Array;
	private readonly views: Float32Array;
	private readonly summed: Float32Array;
	private broken: AppFailure | null = null;

	private constructor(
		private readonly trainer: ContrastiveTrainer,
		private readonly pool: ThreadPool<ReplicaTask, ReplicaReply>,
		private readonly memory: CollectiveMemory,
		shared: { weights: SharedArrayBuffer; gradients: SharedArrayBuffer; views: SharedArrayBuffer },
		private readonly config: TrainConfig
	) {
		this.weights = new Float32Array(shared.weights);
		this.views = new Float32Array(shared.views);
		const total = this.weights.length;
		this.summed = new Float32Array(shared.gradients, 0, total);
		pool.onCrash(() => abortCollective(memory));
	}

	/**
	 * Starts `replicas` threads for `trainer` (the leader's encoder and optimiser, already
	 * restored from a checkpoint if the run resumes) and hands them its weights.
	 */
	static async start(options: {
		trainer: ContrastiveTrainer;
		config: TrainConfig;
		replicas: number;
		threadFile: string;
	}): Promise<DataParallelTrainer> {
		const { trainer, config, replicas } = options;
		if (!Number.isInteger(replicas) || replicas < 2 || replicas > config.batch) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Data-parallel training needs 2 to ${config.batch} replicas (one pair each at least); got ${replicas}.`
			);
		}
		const parameters = trainer.weights.reduce((sum, entry) => sum + entry.size, 0);
		const spec = trainer.model.spec;
		const memory = createCollectiveMemory(
			replicas,
			collectiveCapacity(config, spec.embeddingDim, Math.max(spec.fcWidth, ...spec.channels))
		);
		const floats = Float32Array.BYTES_PER_ELEMENT;
		const shared = {
			weights: new SharedArrayBuffer(parameters * floats),
			gradients: new SharedArrayBuffer(replicas * parameters * floats),
			views: new SharedArrayBuffer(
				2 * config.batch * trainer.inputSize * trainer.inputSize * 3 * floats
			)
		};
		const pool = await ThreadPool.start<ReplicaTask, ReplicaReply>({
			file: options.threadFile,
			size: replicas,
			label: 'training replica',
			init: (index): ReplicaInit => ({
				config,
				index,
				replicas,
				collective: memory,
				...shared
			})
		});
		const parallel = new DataParallelTrainer(trainer, pool, memory, shared, config);
		parallel.publishWeights();
		return parallel;
	}

	/** Replica threads. */
	get replicas(): number {
		return this.pool.size;
	}

	/**
	 * One step on `views` (as `ContrastiveTrainer.step` takes them). Rejects with
	 * WORKER_CRASHED when a replica dies, or with the failing replica's error; the trainer is
	 * unusable after a failed step.
	 */
	async step(views: Float32Array, step: number): Promise<StepMetrics> {
		if (this.broken) throw this.broken;
		if (views.length !== this.views.length) {
			throw new Error(
				`A step needs ${this.views.length} floats of views (2·${this.config.batch} images), got ${views.length}.`
			);
		}
		this.views.set(views);
		const settled = await Promise.allSettled(
			Array.from({ length: this.pool.size }, (_, thread) => this.pool.run({ step }, { thread }))
		);
		const failed = settled.flatMap((outcome) =>
			outcome.status === 'rejected' ? [outcome.reason as unknown] : []
		);
		if (failed.length > 0) {
			this.broken = firstCause(failed);
			abortCollective(this.memory);
			throw this.broken;
		}
		const replies = settled.map(
			(outcome) => (outcome as PromiseFulfilledResult<ReplicaReply>).value
		);
		const first = replies[0] as ReplicaReply;
		let offset = 0;
		const gradients = this.trainer.weights.map((entry) => {
			const gradient = this.summed.subarray(offset, offset + entry.size);
			offset += entry.size;
			return gradient;
		});
		const lr = this.trainer.applyGradients(gradients, first.moments ?? {}, step);
		this.publishWeights();
		return { ...first.metrics, lr };
	}

	/** Copies the leader's weights to the replicas (after a restore, and after every update). */
	publishWeights(): void {
		this.trainer.readWeights(this.weights);
	}

	/** Stops the replica threads. */
	async close(): Promise<void> {
		await this.pool.close();
	}
}

/**
 * The error to report for a failed step: a replica's own failure rather than the
 * "another thread failed" of the replicas it stopped.
 */
function firstCause(errors: unknown[]): AppFailure {
	const failures = errors.map((error) =>
		error instanceof AppFailure ? error : new AppFailure('INTERNAL', String(error))
	);
	return (
		failures.find((failure) => failure.code === 'WORKER_CRASHED') ??
		failures.find((failure) => !failure.message.includes(collectiveAbortedMessage)) ??
		(failures[0] as AppFailure)
	);
}
