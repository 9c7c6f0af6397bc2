/**
 * One contrastive training step of the paper (`paper-protocol.md` §3.3–3.4): encode both views,
 * alignment + uniformity loss, gradient, optimiser update, BN running statistics; plus the
 * snapshot/restore a checkpoint needs. Runs on whatever tfjs backend is active.
 */
import * as tf from '@tensorflow/tfjs-core';
import { learningRateAt, type TrainConfig } from './config';
import { alignUniformLoss } from './loss';
import { modelPresets, parameterCount, SmallAlexNet } from './model';
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
					const terms = alignUniformLoss(first, second, {
						alpha: this.config.alignAlpha,
						t: this.config.uniformT,
						alignWeight: this.config.alignWeight,
						uniformWeight: this.config.uniformWeight
					});
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
