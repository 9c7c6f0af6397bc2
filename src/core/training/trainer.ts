/**
 * One contrastive training step of the paper (`paper-protocol.md` §3.3–3.4): encode both views,
 * alignment + uniformity loss, gradient, optimiser update, BN running statistics; plus the
 * snapshot/restore a checkpoint needs. Runs on whatever tfjs backend is active.
 */
import * as tf from '@tensorflow/tfjs-core';
import { learningRateAt, type TrainConfig } from './config';
import { alignUniformLoss, type AlignUniformOptions } from './loss';
import {
	modelPresets,
	parameterCount,
	SmallAlexNet,
	type BatchMoments,
	type CrossReplicaSum
} from './model';
import { createOptimizer, type TrainOptimizer } from './optimizer';

/** What one step measured. */
export interface StepMetrics {
	loss: number;
	align: number;
	/** `(L_unif(x) + L_unif(y)) / 2`. */
	uniform: number;
	/** The learning rate the step used. */
	lr: number;
}

/** One replica's part of a data-parallel step: slots `first..first+count-1` of `batch` pairs. */
export interface ReplicaShard {
	batch: number;
	first: number;
	count: number;
}

/** The slots of replica `index` of `replicas`: `batch` split into near-equal consecutive runs. */
export function replicaShard(batch: number, replicas: number, index: number): ReplicaShard {
	if (!Number.isInteger(replicas) || replicas < 1 || replicas > batch) {
		throw new Error(`A batch of ${batch} pairs cannot be split over ${replicas} replicas.`);
	}
	const first = Math.floor((index * batch) / replicas);
	return { batch, first, count: Math.floor(((index + 1) * batch) / replicas) - first };
}

/** What one replica's part of a data-parallel step produced. */
export interface ShardResult {
	/** This shard's part of each weight's gradient, in {@link ContrastiveTrainer.weights} order. */
	gradients: Float32Array[];
	/** The step's loss terms over the whole batch (every replica computes the same). */
	metrics: Omit<StepMetrics, 'lr'>;
	/** The BN moments of the batch's first group, for the leader's running statistics. */
	moments: Record<string, BatchMoments>;
}

/** A weight of the encoder: its stable name and shape, in a fixed order. */
export interface WeightEntry {
	name: string;
	shape: number[];
	size: number;
}

/** A tensor as plain data, the form checkpoints store. */
export interface TensorData {
	shape: number[];
	data: Float32Array;
}

/** An encoder, its optimiser and the run's loss settings. */
export class ContrastiveTrainer {
	/** The encoder being trained. */
	readonly model: SmallAlexNet;
	/** Trainable parameters of the encoder. */
	readonly parameterCount: number;
	/** Side of the square views the encoder takes. */
	readonly inputSize: number;

	private readonly optimizer: TrainOptimizer;
	/** Stable name of each trainable variable, keyed by the variable's tfjs name. */
	private readonly namesByVariable: Map<string, string>;
	private readonly variableList: tf.Variable[];

	private constructor(
		private readonly config: TrainConfig,
		model: SmallAlexNet
	) {
		this.model = model;
		this.parameterCount = parameterCount(model.spec);
		this.inputSize = model.spec.inputSize;
		this.optimizer = createOptimizer(config, model.trainable);
		this.variableList = [...model.trainable.values()];
		this.namesByVariable = new Map([...model.trainable].map(([name, v]) => [v.name, name]));
	}

	/** A trainer for `config`: encoder `modelPresets[config.model]` initialised from `config.seed`. */
	static create(config: TrainConfig): ContrastiveTrainer {
		return new ContrastiveTrainer(
			config,
			SmallAlexNet.create(modelPresets[config.model], config.seed)
		);
	}

	/**
	 * One optimiser step on `views`: `2·batch` images of `inputSize² · 3` floats (NHWC), all
	 * first views then all second views, already augmented and normalised. The learning rate is
	 * `learningRateAt(step, config)`. Leaves no tensor behind.
	 */
	async step(views: Float32Array, step: number): Promise<StepMetrics> {
		const { batch, bnPerView } = this.config;
		const size = this.inputSize;
		const expected = 2 * batch * size * size * 3;
		if (views.length !== expected) {
			throw new Error(
				`A step needs 2·${batch} views of ${size}×${size}×3 floats (${expected}), got ${views.length}.`
			);
		}
		const lr = learningRateAt(step, this.config);
		const kept: tf.Tensor[] = [];
		let metrics: tf.Tensor1D;
		try {
			metrics = tf.tidy(() => {
				const input = tf.tensor4d(views, [2 * batch, size, size, 3]);
				const { value, grads } = tf.variableGrads(() => {
					const embeddings = this.model.forward(input, {
						training: true,
						groups: bnPerView ? 2 : 1
					});
					const [first, second] = tf.split(embeddings, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
					const terms = alignUniformLoss(first, second, this.lossOptions());
					// Outlive the gradient scope, which keeps only the loss.
					kept.push(tf.keep(terms.align), tf.keep(terms.uniform));
					return terms.loss;
				}, this.variableList);
				const gradients: Record<string, tf.Tensor> = {};
				for (const [variableName, gradient] of Object.entries(grads)) {
					const name = this.namesByVariable.get(variableName);
					if (name !== undefined) gradients[name] = gradient;
				}
				this.optimizer.apply(gradients, lr);
				this.model.commitRunningStatistics();
				return tf.stack([value, ...kept]) as tf.Tensor1D;
			});
		} finally {
			for (const tensor of kept) tensor.dispose();
		}
		const [loss, align, uniform] = await metrics.data();
		metrics.dispose();
		return {
			loss: loss ?? Number.NaN,
			align: align ?? Number.NaN,
			uniform: uniform ?? Number.NaN,
			lr
		};
	}

	/** The trainable weights in a fixed order: gradients and broadcasts of weights use it. */
	get weights(): WeightEntry[] {
		return [...this.model.trainable].map(([name, variable]) => ({
			name,
			shape: [...variable.shape],
			size: variable.size
		}));
	}

	/**
	 * One replica's part of a data-parallel step (the leader applies the summed gradients with
	 * {@link applyGradients}). `views` holds the shard's first views, then its second views.
	 * Batch norm uses the statistics of the whole batch through `sum` (see `ForwardOptions`), and
	 * the loss, whose uniformity term spans every pair of the batch, is split so that the
	 * gradients add up to exactly those of one replica holding the whole batch:
	 * 1. the shard's embeddings go, at their slots, into a batch-sized array that is zero
	 *    elsewhere, and summing that over the replicas gathers the batch's embeddings;
	 * 2. each replica computes the loss over the whole batch and its gradient with respect to
	 *    every embedding (cheap: B × B dot products) and keeps its shard's rows, g;
	 * 3. back-propagating `Σ e·g` (g held constant) from its own embeddings e gives each
	 *    replica its shard's part of every weight's gradient.
	 * Every replica makes the same `sum` calls in the same order.
	 */
	shardStep(views: Float32Array, shard: ReplicaShard, sum: CrossReplicaSum): ShardResult {
		const { bnPerView } = this.config;
		const size = this.inputSize;
		const expected = 2 * shard.count * size * size * 3;
		if (views.length !== expected) {
			throw new Error(
				`A shard of ${shard.count} pairs needs 2·${shard.count} views of ${size}×${size}×3 floats (${expected}), got ${views.length}.`
			);
		}
		const dim = this.model.spec.embeddingDim;
		const terms = { loss: Number.NaN, align: Number.NaN, uniform: Number.NaN };
		const gradients: Float32Array[] = [];
		tf.tidy(() => {
			const input = tf.tensor4d(views, [2 * shard.count, size, size, 3]);
			const { grads } = tf.variableGrads(() => {
				const local = this.model.forward(input, {
					training: true,
					groups: bnPerView ? 2 : 1,
					crossReplica: sum
				});
				const rows = shard.count * dim;
				const localValues = local.dataSync();
				const placed = new Float32Array(2 * shard.batch * dim);
				placed.set(localValues.subarray(0, rows), shard.first * dim);
				placed.set(localValues.subarray(rows), (shard.batch + shard.first) * dim);
				const all = tf.tensor2d(sum(placed), [2 * shard.batch, dim]);
				const { value, grad } = tf.valueAndGrad((embeddings: tf.Tensor) => {
					const [first, second] = tf.split(embeddings, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
					const loss = alignUniformLoss(first, second, this.lossOptions());
					terms.align = loss.align.dataSync()[0] ?? Number.NaN;
					terms.uniform = loss.uniform.dataSync()[0] ?? Number.NaN;
					return loss.loss;
				})(all);
				terms.loss = value.dataSync()[0] ?? Number.NaN;
				const everyGradient = grad.dataSync();
				const own = new Float32Array(2 * rows);
				own.set(everyGradient.subarray(shard.first * dim, shard.first * dim + rows));
				own.set(
					everyGradient.subarray(
						(shard.batch + shard.first) * dim,
						(shard.batch + shard.first) * dim + rows
					),
					rows
				);
				return tf.sum(tf.mul(local, tf.tensor2d(own, [2 * shard.count, dim]))) as tf.Scalar;
			}, this.variableList);
			for (const variable of this.variableList) {
				const gradient = grads[variable.name];
				if (!gradient) throw new Error(`No gradient came back for ${variable.name}.`);
				gradients.push(gradient.dataSync() as Float32Array);
			}
		});
		return { gradients, metrics: terms, moments: this.model.takeRecordedMoments() };
	}

	/**
	 * The leader's half of a data-parallel step: the optimiser update from the replicas' summed
	 * gradients (in {@link weights} order), at the learning rate of `step`, and the running
	 * statistics from the batch's moments. What {@link step} does after its gradient.
	 */
	applyGradients(
		gradients: readonly Float32Array[],
		moments: Readonly<Record<string, BatchMoments>>,
		step: number
	): number {
		const lr = learningRateAt(step, this.config);
		const entries = this.weights;
		if (gradients.length !== entries.length) {
			throw new Error(`Expected ${entries.length} gradients, got ${gradients.length}.`);
		}
		tf.tidy(() => {
			const byName: Record<string, tf.Tensor> = {};
			for (const [i, entry] of entries.entries()) {
				byName[entry.name] = tf.tensor(gradients[i] as Float32Array, entry.shape, 'float32');
			}
			this.optimizer.apply(byName, lr);
		});
		this.model.commitRunningStatistics(moments);
		return lr;
	}

	/** Copies the trainable weights, in {@link weights} order, into `target` (one flat array). */
	readWeights(target: Float32Array): void {
		let offset = 0;
		for (const variable of this.variableList) {
			target.set(variable.dataSync(), offset);
			offset += variable.size;
		}
	}

	/** Sets the trainable weights from one flat array in {@link weights} order. */
	writeWeights(source: Float32Array): void {
		let offset = 0;
		for (const variable of this.variableList) {
			const values = source.slice(offset, offset + variable.size);
			tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
			offset += variable.size;
		}
	}

	/** Weights, BN buffers and optimiser state as plain arrays, for a checkpoint. */
	async snapshot(): Promise<Record<string, TensorData>> {
		const state = this.optimizer.state();
		try {
			const entries: [string, tf.Tensor][] = [
				...this.model.trainable,
				...this.model.buffers,
				...Object.entries(state)
			];
			const result: Record<string, TensorData> = {};
			for (const [name, tensor] of entries) {
				const data = await tensor.data<'float32'>();
				result[name] = { shape: [...tensor.shape], data: new Float32Array(data) };
			}
			return result;
		} finally {
			for (const tensor of Object.values(state)) tensor.dispose();
		}
	}

	/**
	 * Puts back what {@link snapshot} returned (exactly: the next step is bit-identical on the
	 * same backend). Checks every entry before changing anything; throws on missing, mis-shaped
	 * or unknown entries, naming them.
	 */
	restore(tensors: Record<string, TensorData>): void {
		const modelEntries = [...this.model.trainable, ...this.model.buffers];
		const modelNames = new Set(modelEntries.map(([name]) => name));
		for (const [name, variable] of modelEntries) {
			const entry = tensors[name];
			if (!entry)
				throw new Error(`The checkpoint lacks '${name}'; was it written by another model preset?`);
			checkEntry(name, entry, variable.shape);
		}
		const optimizerState: Record<string, tf.Tensor> = {};
		try {
			for (const [name, entry] of Object.entries(tensors)) {
				if (modelNames.has(name)) continue;
				if (!name.startsWith('optimizer/')) {
					throw new Error(
						`The checkpoint holds '${name}', which this ${this.config.model} encoder does not have.`
					);
				}
				checkEntry(name, entry, entry.shape);
				optimizerState[name] = tf.tensor(entry.data, entry.shape, 'float32');
			}
			this.optimizer.load(optimizerState);
		} finally {
			for (const tensor of Object.values(optimizerState)) tensor.dispose();
		}
		for (const [name, variable] of modelEntries) {
			const entry = tensors[name] as TensorData;
			tf.tidy(() => variable.assign(tf.tensor(entry.data, entry.shape, 'float32')));
		}
	}

	private lossOptions(): AlignUniformOptions {
		return {
			alpha: this.config.alignAlpha,
			t: this.config.uniformT,
			alignWeight: this.config.alignWeight,
			uniformWeight: this.config.uniformWeight
		};
	}

	/** Frees the encoder and the optimiser state. */
	dispose(): void {
		this.optimizer.dispose();
		this.model.dispose();
	}
}

function checkEntry(name: string, entry: TensorData, shape: readonly number[]): void {
	const size = shape.reduce((a, b) => a * b, 1);
	if (!tf.util.arraysEqual(entry.shape, [...shape]) || entry.data.length !== size) {
		throw new Error(
			`The checkpoint's '${name}' has shape [${entry.shape.join(', ')}] (${entry.data.length} values), expected [${shape.join(', ')}].`
		);
	}
}
