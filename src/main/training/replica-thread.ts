/**
 * The replica threads of data-parallel training (`data-parallel.ts`): each holds the encoder on
 * a wasm backend of its own and computes its shard's part of each step's gradient. The entry
 * `workers/entries/train-replica.ts` serves these handlers.
 */
import { AppFailure } from '../../core/api/errors';
import { ContrastiveTrainer, replicaShard } from '../../core/training/trainer';
import { activateTrainingBackend } from '../compute/training-backend';
import type { ThreadHandlers } from '../threads/serve';
import { ThreadCollective } from '../threads/shared-collective';
import {
	reductionSlice,
	type ReplicaInit,
	type ReplicaReply,
	type ReplicaTask
} from './data-parallel';

/** A replica thread's state. */
export interface Replica {
	init: ReplicaInit;
	trainer: ContrastiveTrainer;
	collective: ThreadCollective;
	weights: Float32Array;
	gradients: Float32Array;
	views: Float32Array;
}

/** The handlers of a replica thread. */
export const replicaThread: ThreadHandlers<ReplicaInit, Replica, ReplicaTask, ReplicaReply> = {
	setup: async (init) => {
		const backend = await activateTrainingBackend('wasm');
		if (backend.id !== 'wasm') {
			throw new AppFailure(
				'BACKEND_UNAVAILABLE',
				`Replicas train on wasm, which is unavailable: ${backend.reason}`
			);
		}
		return {
			init,
			trainer: ContrastiveTrainer.create(init.config),
			collective: new ThreadCollective(init.collective, init.index),
			weights: new Float32Array(init.weights),
			gradients: new Float32Array(init.gradients),
			views: new Float32Array(init.views)
		};
	},
	run: (replica) => {
		try {
			return shardStep(replica);
		} catch (error) {
			// The others may be waiting for this replica in a collective: release them.
			replica.collective.abort();
			throw error;
		}
	}
};

function shardStep(replica: Replica): ReplicaReply {
	const { init, trainer, collective } = replica;
	const { batch } = init.config;
	const shard = replicaShard(batch, init.replicas, init.index);
	trainer.writeWeights(replica.weights);
	const viewFloats = trainer.inputSize * trainer.inputSize * 3;
	const views = new Float32Array(2 * shard.count * viewFloats);
	const end = shard.first + shard.count;
	views.set(replica.views.subarray(shard.first * viewFloats, end * viewFloats));
	views.set(
		replica.views.subarray((batch + shard.first) * viewFloats, (batch + end) * viewFloats),
		shard.count * viewFloats
	);
	const result = trainer.shardStep(views, shard, (values) => collective.sum(values));
	const parameters = replica.weights.length;
	let offset = init.index * parameters;
	for (const gradient of result.gradients) {
		replica.gradients.set(gradient, offset);
		offset += gradient.length;
	}
	collective.barrier();
	// Each replica sums its slice of every replica's gradient into the first region, in replica
	// order, so the total has the same bits whatever thread finishes first.
	const [start, stop] = reductionSlice(parameters, init.replicas, init.index);
	const gradients = replica.gradients;
	for (let i = start; i < stop; i++) {
		let sum = 0;
		for (let r = 0; r < init.replicas; r++) sum += gradients[r * parameters + i] as number;
		gradients[i] = sum;
	}
	return { metrics: result.metrics, moments: init.index === 0 ? result.moments : null };
}
