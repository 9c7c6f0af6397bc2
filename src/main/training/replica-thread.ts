/**
 * The replica threads of data-parallel training (`data-parallel.ts`): each holds the encoder on
 * a wasm backend of its own and computes its shard's part of each step's gradient. The entry
 * `workers/entries/train-replica.ts` serves these handlers.
 */
import { AppFailure } from '../../core/api/errors';
import { ContrastiveTrainer, replicaShard } from '../../core/training/trainer';
import { activateBackend } from '../compute/activate-backend';
import { GroupMember } from '../threads/replica-group';
import type { ThreadHandlers } from '../threads/serve';
import type { ReplicaInit, ReplicaReply, ReplicaTask } from './data-parallel';

/** A replica thread's state. */
export interface Replica {
	init: ReplicaInit;
	trainer: ContrastiveTrainer;
	member: GroupMember;
}

/** The handlers of a replica thread. */
export const replicaThread: ThreadHandlers<ReplicaInit, Replica, ReplicaTask, ReplicaReply> = {
	setup: async (init) => {
		const backend = await activateBackend('wasm');
		if (backend.id !== 'wasm') {
			throw new AppFailure(
				'BACKEND_UNAVAILABLE',
				`Replicas train on wasm, which is unavailable: ${backend.reason}`
			);
		}
		return {
			init,
			trainer: ContrastiveTrainer.create(init.setup.config),
			member: new GroupMember(init)
		};
	},
	run: (replica) => replica.member.guard(() => shardStep(replica))
};

function shardStep({ init, trainer, member }: Replica): ReplicaReply {
	const { batch } = init.setup.config;
	const shard = replicaShard(batch, init.replicas, init.index);
	trainer.writeWeights(member.weights);
	// This shard's first views, then its second views (the batch holds all first views first).
	const viewFloats = trainer.inputSize * trainer.inputSize * 3;
	const views = new Float32Array(2 * shard.count * viewFloats);
	const end = shard.first + shard.count;
	views.set(member.views.subarray(shard.first * viewFloats, end * viewFloats));
	views.set(
		member.views.subarray((batch + shard.first) * viewFloats, (batch + end) * viewFloats),
		shard.count * viewFloats
	);
	const result = trainer.shardStep(views, shard, (values) => member.collective.sum(values));
	member.shareGradients(result.gradients);
	return { metrics: result.metrics, moments: init.index === 0 ? result.moments : null };
}
