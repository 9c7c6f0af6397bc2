/**
 * Data-parallel training on the wasm backend, which runs one thread per process in Node: K
 * replica threads (a `ReplicaGroup`) each hold the encoder on a wasm backend of their own and
 * compute the gradient of their shard of the batch; the leader (the thread that owns the run's
 * trainer) applies the optimiser once to the summed gradient and hands out the new weights.
 * The split is exact (see `ContrastiveTrainer.shardStep`): batch norm uses the whole batch's
 * statistics per view, and the loss over all pairs is computed from the gathered embeddings,
 * so a step equals one replica's within float rounding.
 */
import { AppFailure } from '../../core/api/errors';
import type { TrainConfig } from '../../core/training/config';
import type { BatchMoments } from '../../core/training/model';
import type { ContrastiveTrainer, StepMetrics } from '../../core/training/trainer';
import { ReplicaGroup, type GroupInit } from '../threads/replica-group';

/** The setup of one replica thread. */
export type ReplicaInit = GroupInit<{ config: TrainConfig }>;

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

/** The leader's side: a trainer whose steps run on replica threads. */
export class DataParallelTrainer {
	private constructor(
		private readonly trainer: ContrastiveTrainer,
		private readonly group: ReplicaGroup<ReplicaTask, ReplicaReply>
	) {}

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
		const spec = trainer.model.spec;
		const group = await ReplicaGroup.start<{ config: TrainConfig }, ReplicaTask, ReplicaReply>({
			file: options.threadFile,
			label: 'training replica',
			replicas,
			sizes: {
				parameters: trainer.parameterCount,
				views: 2 * config.batch * trainer.inputSize * trainer.inputSize * 3,
				// The batch's embeddings, placed at their slots (summing them gathers them), or a
				// batch-norm layer's per-group sums of two quantities.
				collective: Math.max(
					2 * config.batch * spec.embeddingDim,
					2 * 2 * Math.max(spec.fcWidth, ...spec.channels) + 1
				)
			},
			setup: { config }
		});
		const parallel = new DataParallelTrainer(trainer, group);
		parallel.publishWeights();
		return parallel;
	}

	/** Replica threads. */
	get replicas(): number {
		return this.group.replicas;
	}

	/**
	 * One step on `views` (as `ContrastiveTrainer.step` takes them). Rejects with
	 * WORKER_CRASHED when a replica dies, or with the failing replica's error; the trainer is
	 * unusable after a failed step.
	 */
	async step(views: Float32Array, step: number): Promise<StepMetrics> {
		if (views.length !== this.group.views.length) {
			throw new Error(
				`A step needs ${this.group.views.length} floats of views, got ${views.length}.`
			);
		}
		this.group.views.set(views);
		const [first] = (await this.group.step({ step })) as [ReplicaReply];
		let offset = 0;
		const gradients = this.trainer.weights.map((entry) => {
			const gradient = this.group.gradients.subarray(offset, offset + entry.size);
			offset += entry.size;
			return gradient;
		});
		const lr = this.trainer.applyGradients(gradients, first.moments ?? {}, step);
		this.publishWeights();
		return { ...first.metrics, lr };
	}

	/** Copies the leader's weights to the replicas (after a restore, and after every update). */
	publishWeights(): void {
		this.trainer.readWeights(this.group.weights);
	}

	/** Stops the replica threads. */
	async close(): Promise<void> {
		await this.group.close();
	}
}
