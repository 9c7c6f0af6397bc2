/**
 * Data-parallel plumbing over a {@link ThreadPool}: K replica threads that each hold a copy of a
 * model and compute the gradient of their part of a batch, and a leader (the pool's owner) that
 * applies one optimiser step to the sum and hands out the new weights. What a replica computes
 * is the caller's; this module owns the shared memory and the order of events:
 *
 * 1. the leader writes the step's inputs into `views` and runs one task on every replica;
 * 2. each replica reads `weights` and its part of `views`, computes (calling the collectives
 *    as it needs: see `shared-collective.ts`), then {@link GroupMember.shareGradients}: it writes
 *    its gradient into its own region, waits for the others, and adds up one slice of every
 *    region into the first, in replica order (so the sum has the same bits whichever thread is
 *    first);
 * 3. the leader reads the sum from {@link ReplicaGroup.gradients}, updates, writes `weights`.
 *
 * A replica that dies breaks the pool and releases the others from their collectives; a task
 * that fails releases them too. Either way the step rejects with the cause, not with the
 * "another thread stopped" of the replicas it released.
 */
import { AppFailure } from '../../core/api/errors';
import { ThreadPool } from './pool';
import {
	abortCollective,
	collectiveAbortedMessage,
	createCollectiveMemory,
	ThreadCollective,
	type CollectiveMemory
} from './shared-collective';

/** The memory a group shares (SharedArrayBuffers; Float32 unless said otherwise). */
export interface GroupMemory {
	collective: CollectiveMemory;
	/** The model's trainable values, flat, written by the leader before each step. */
	weights: SharedArrayBuffer;
	/** replicas × weights: one gradient per replica; after a step the first region is the sum. */
	gradients: SharedArrayBuffer;
	/** The step's inputs, laid out as the caller likes. */
	views: SharedArrayBuffer;
}

/** What every replica thread's setup receives: its place in the group, and the caller's data. */
export interface GroupInit<Setup> {
	index: number;
	replicas: number;
	memory: GroupMemory;
	setup: Setup;
}

/** The sizes of a group's shared memory, in floats. */
export interface GroupSizes {
	/** Trainable values of the model. */
	parameters: number;
	/** Floats of one step's inputs. */
	views: number;
	/** The most floats one replica contributes to a cross-replica sum. */
	collective: number;
}

/** The leader's side of a group. */
export class ReplicaGroup<Task, Reply> {
	/** The weights the replicas read at the start of each step. */
	readonly weights: Float32Array;
	/** The inputs of the next step. */
	readonly views: Float32Array;
	/** The replicas' summed gradient after a step (a view of the first gradient region). */
	readonly gradients: Float32Array;
	private broken: AppFailure | null = null;

	private constructor(
		private readonly pool: ThreadPool<Task, Reply>,
		private readonly memory: GroupMemory
	) {
		this.weights = new Float32Array(memory.weights);
		this.views = new Float32Array(memory.views);
		this.gradients = new Float32Array(memory.gradients, 0, this.weights.length);
		pool.onCrash(() => abortCollective(memory.collective));
	}

	/** Starts `replicas` threads of `file` (whose entry serves a {@link GroupMember} each). */
	static async start<Setup, Task, Reply>(options: {
		file: string;
		label: string;
		replicas: number;
		sizes: GroupSizes;
		setup: Setup;
	}): Promise<ReplicaGroup<Task, Reply>> {
		const { replicas, sizes } = options;
		const floats = Float32Array.BYTES_PER_ELEMENT;
		const memory: GroupMemory = {
			collective: createCollectiveMemory(replicas, sizes.collective),
			weights: new SharedArrayBuffer(sizes.parameters * floats),
			gradients: new SharedArrayBuffer(replicas * sizes.parameters * floats),
			views: new SharedArrayBuffer(sizes.views * floats)
		};
		const pool = await ThreadPool.start<Task, Reply>({
			file: options.file,
			size: replicas,
			label: options.label,
			init: (index): GroupInit<Setup> => ({ index, replicas, memory, setup: options.setup })
		});
		return new ReplicaGroup(pool, memory);
	}

	/** Replica threads. */
	get replicas(): number {
		return this.pool.size;
	}

	/**
	 * Runs `task` on every replica and resolves with their replies in replica order. Rejects
	 * with WORKER_CRASHED when a replica dies, or with the failing replica's own error; the
	 * group is unusable after a failed step.
	 */
	async step(task: Task): Promise<Reply[]> {
		if (this.broken) throw this.broken;
		const settled = await Promise.allSettled(
			Array.from({ length: this.pool.size }, (_, thread) => this.pool.run(task, { thread }))
		);
		const failed = settled.flatMap((outcome) =>
			outcome.status === 'rejected' ? [outcome.reason as unknown] : []
		);
		if (failed.length > 0) {
			this.broken = firstCause(failed);
			abortCollective(this.memory.collective);
			throw this.broken;
		}
		return settled.map((outcome) => (outcome as PromiseFulfilledResult<Reply>).value);
	}

	/** Stops the replica threads. */
	async close(): Promise<void> {
		await this.pool.close();
	}
}

/** A replica thread's side of a group. */
export class GroupMember {
	/** Sums over the replicas; see `ThreadCollective`. */
	readonly collective: ThreadCollective;
	readonly weights: Float32Array;
	readonly views: Float32Array;
	private readonly gradients: Float32Array;

	constructor(private readonly init: GroupInit<unknown>) {
		this.collective = new ThreadCollective(init.memory.collective, init.index);
		this.weights = new Float32Array(init.memory.weights);
		this.views = new Float32Array(init.memory.views);
		this.gradients = new Float32Array(init.memory.gradients);
	}

	/**
	 * Contributes this replica's gradient (the arrays in the model's weight order) and adds up
	 * its slice of the total; returns once its slice is summed. Every replica calls it once per
	 * step.
	 */
	shareGradients(parts: readonly Float32Array[]): void {
		const { index, replicas } = this.init;
		const parameters = this.weights.length;
		let offset = index * parameters;
		for (const part of parts) {
			this.gradients.set(part, offset);
			offset += part.length;
		}
		if (offset !== (index + 1) * parameters) {
			throw new Error(
				`A gradient of ${offset - index * parameters} floats for ${parameters} weights.`
			);
		}
		this.collective.barrier();
		const start = Math.floor((index * parameters) / replicas);
		const end = Math.floor(((index + 1) * parameters) / replicas);
		const gradients = this.gradients;
		for (let i = start; i < end; i++) {
			let sum = 0;
			for (let r = 0; r < replicas; r++) sum += gradients[r * parameters + i] as number;
			gradients[i] = sum;
		}
	}

	/**
	 * Runs a replica's part of a step; when it throws, releases the other replicas, which may be
	 * waiting for this one in a collective, before rethrowing.
	 */
	guard<T>(part: () => T): T {
		try {
			return part();
		} catch (error) {
			this.collective.abort();
			throw error;
		}
	}
}

/**
 * The error to report for a failed step: a dead replica, else a replica's own failure rather
 * than the stop it caused in the others.
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
