/**
 * A replica thread of the benchmark's data-parallel reference net (`bench/wasm-training.ts`,
 * which serves it when it runs as a worker thread): the app's replica machinery
 * (`ReplicaGroup`, wasm with the kernel pack), on the reference net.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { replicaShard } from '../src/core/training/trainer';
import { registerWasmKernelPack } from '../src/main/compute/kernels';
import { registerAllGradients } from '../src/main/compute/kernels/register-gradients';
import { GroupMember, type GroupInit } from '../src/main/threads/replica-group';
import { serveThread } from '../src/main/threads/serve';
import { buildNetwork, referenceInputSize, shardLoss, type Network } from './reference-network';

interface State {
	init: GroupInit<{ batch: number }>;
	network: Network;
	member: GroupMember;
}

/** The setup of a reference-net replica. */
export type ReferenceReplicaInit = GroupInit<{ batch: number }>;

/** Serves this thread as a replica of the reference net. */
export function serveReferenceReplica(): void {
	serveThread<ReferenceReplicaInit, State, { step: number }, { loss: number }>({
		setup: async (init) => {
			registerAllGradients();
			registerWasmKernelPack();
			if (!(await tf.setBackend('wasm'))) throw new Error('The wasm backend did not start.');
			return { init, network: buildNetwork(), member: new GroupMember(init) };
		},
		run: ({ init, network, member }) =>
			member.guard(() => {
				let offset = 0;
				for (const variable of network.variables) {
					const values = member.weights.slice(offset, offset + variable.size);
					tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
					offset += variable.size;
				}
				const { batch } = init.setup;
				const shard = replicaShard(batch, init.replicas, init.index);
				const imageFloats = referenceInputSize * referenceInputSize * 3;
				const gradients: Float32Array[] = [];
				let loss = 0;
				tf.tidy(() => {
					const images = tf.tensor4d(
						member.views.slice(
							shard.first * imageFloats,
							(shard.first + shard.count) * imageFloats
						),
						[shard.count, referenceInputSize, referenceInputSize, 3]
					);
					const { value, grads } = tf.variableGrads(
						() => shardLoss(network, images, batch),
						network.variables
					);
					loss = value.dataSync()[0] ?? Number.NaN;
					for (const variable of network.variables) {
						gradients.push((grads[variable.name] as tf.Tensor).dataSync() as Float32Array);
					}
				});
				member.shareGradients(gradients);
				return { loss };
			})
	});
}
