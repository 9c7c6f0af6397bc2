/**
 * The paper's encoder, "SmallAlexNet" (`paper-protocol.md` §3.2), on plain tfjs-core ops, NHWC,
 * plus narrower and lower-resolution presets built by the same code for laptop CPUs.
 *
 * Layout differences from the PyTorch original, which matter only when porting weights: conv
 * kernels are HWIO (`[3, 3, in, out]`), dense kernels are `[in, out]`, and fc6 flattens the
 * NHWC feature map in (h, w, c) order rather than PyTorch's (c, h, w).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderArchitecture, FeatureLayer } from '../encoders/architecture';
import type { Encoder } from '../encoders/encoder';
import { Random } from '../generators/random';
import {
	convLayers,
	encoderLayers,
	parameterCount,
	trainablePlan,
	type EncoderSpec
} from './encoder-spec';

export {
	encoderLayers,
	featureMapSizes,
	modelPresets,
	parameterCount,
	type EncoderLayer,
	type EncoderSpec
} from './encoder-spec';

/** Conv blocks followed by MaxPool 3/2 (blocks 0, 1 and 4 of §3.2). */
const pooledConvBlocks: ReadonlySet<number> = new Set([0, 1, 4]);

/** PyTorch's BatchNorm defaults, which the paper keeps. */
const batchNormEpsilon = 1e-5;
const batchNormMomentum = 0.1;

/** Every weight of the paper's encoder is drawn from N(0, 0.02²). */
const initStd = 0.02;

/** The kernel behind {@link denseMatMul}; it runs the active backend's `BatchMatMul`. */
export const denseMatMulKernelName = 'NoiseLabDenseMatMul';

/** Options of {@link denseMatMul}. */
export interface DenseMatMulOptions {
	/**
	 * `a` has a few rows (an image or a handful being explained, not a training batch): the
	 * gradient of `a` is then `transpose(b @ transpose(dy))`, which transposes only small
	 * tensors instead of the weight `b` (on wasm about 10× faster for one row of fc6; slower for
	 * a training batch, and summed in another order). Default false: the training formula.
	 */
	fewRows?: boolean;
}

/**
 * The gradient of {@link denseMatMul} transposes explicitly (`dy @ transpose(b)`,
 * `transpose(a) @ dy`): tfjs's own MatMul gradient uses the transposeA/transposeB flags, which
 * the wasm backend runs 10–30× slower than a plain product plus a transpose. Each input's
 * gradient is a thunk, and tfjs calls only those of inputs on the path to what is
 * differentiated: Grad-CAM, differentiating with respect to a conv activation, then skips the
 * fc weights' `transpose(a) @ dy`, an fc-sized product and tensor per layer (a `tf.customGrad`
 * computes every input's gradient eagerly).
 */
const denseMatMulGradient: tf.GradConfig = {
	kernelName: denseMatMulKernelName,
	inputsToSave: ['a', 'b'],
	gradFunc: (dy, saved, attrs) => {
		const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D];
		const gradient = dy as tf.Tensor2D;
		return {
			a: () =>
				attrs.fewRows === true
					? tf.transpose(tf.matMul(b, tf.transpose(gradient)))
					: tf.matMul(gradient, tf.transpose(b)),
			b: () => tf.matMul(tf.transpose(a), gradient)
		};
	}
};

/**
 * Registers the forward kernel of {@link denseMatMul} for `backendName` the first time it is
 * used there. It delegates to whatever `BatchMatMul` the backend has at call time, so a kernel
 * pack that replaces `BatchMatMul` (src/main/compute/kernels) is used here as well.
 */
function ensureDenseMatMulKernel(backendName: string): void {
	if (tf.getGradient(denseMatMulKernelName) === undefined) tf.registerGradient(denseMatMulGradient);
	if (tf.getKernel(denseMatMulKernelName, backendName) !== undefined) return;
	tf.registerKernel({
		kernelName: denseMatMulKernelName,
		backendName,
		kernelFunc: ({ inputs, backend }) => {
			const matMul = tf.getKernel(tf.BatchMatMul, backendName);
			if (!matMul) throw new Error(`The ${backendName} backend has no BatchMatMul kernel.`);
			return matMul.kernelFunc({
				inputs,
				backend,
				attrs: { transposeA: false, transposeB: false }
			});
		}
	});
}

/**
 * `a @ b` for 2-D tensors (`[n, k] @ [k, m]`), with a faster gradient than `tf.matMul`'s on
 * wasm that computes only the gradients asked for (see {@link denseMatMulGradient}).
 */
export function denseMatMul(
	a: tf.Tensor2D,
	b: tf.Tensor2D,
	options: DenseMatMulOptions = {}
): tf.Tensor2D {
	if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
		throw new RangeError(`denseMatMul needs [n, k] @ [k, m]; got [${a.shape}] @ [${b.shape}]`);
	}
	ensureDenseMatMulKernel(tf.getBackend());
	const attrs = { fewRows: options.fewRows ?? false };
	return tf.engine().runKernel(denseMatMulKernelName, { a, b }, attrs) as tf.Tensor2D;
}

/** The layers that have batch norm, in order. */
const batchNormLayers = ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7'] as const;

/** The moments of one BN layer's first group, recorded by a training forward pass. */
interface RecordedMoments {
	mean: tf.Tensor1D;
	/** Unbiased (n − 1) variance, which PyTorch folds into the running variance. */
	variance: tf.Tensor1D;
}

/**
 * Sums a vector element-wise over the replicas of a data-parallel step and returns the total,
 * the same bits on every replica. Every replica makes the same calls in the same order.
 */
export type CrossReplicaSum = (values: Float32Array) => Float32Array;

/** The moments of one BN layer's first group (see {@link SmallAlexNet.takeRecordedMoments}). */
export interface BatchMoments {
	mean: Float32Array;
	/** Unbiased (n − 1) variance. */
	variance: Float32Array;
}

/** Options of {@link SmallAlexNet.forward}. */
export interface ForwardOptions {
	/** Batch statistics (true) or running statistics (false) in batch norm. */
	training: boolean;
	/**
	 * Training only: batch-norm statistics are computed separately over this many equal,
	 * consecutive slices of the batch (2 = per view, the paper's setup). Default 1.
	 */
	groups?: number;
	/** Stop after this block; conv outputs are averaged over H and W. Default 'fc8'. */
	layer?: FeatureLayer;
	/**
	 * Training only: `x` is this replica's shard of a batch split over data-parallel replicas.
	 * Batch norm then sums its per-group statistics (moments, and the sums of its gradient) over
	 * the replicas, so each group is normalised with the statistics of the whole batch, exactly
	 * as one replica holding all of it would (synchronised batch norm). Group g of every shard
	 * must hold that shard's part of the batch's group g.
	 */
	crossReplica?: CrossReplicaSum;
}

/**
 * SmallAlexNet: five conv blocks (3×3, pad 1, no bias, BN, ReLU, max pool 3/2 after blocks
 * 0, 1 and 4), fc6 and fc7 (linear without bias, BN1d, ReLU) and fc8 (linear with bias), whose
 * output is divided by its L2 norm.
 *
 * Batch norm in training mode is a custom-gradient op: reductions over the batch run as a
 * matrix product with a 0/1 group-indicator matrix (tfjs's `sum` over non-innermost axes
 * transposes the whole tensor first, several times slower on wasm), and the backward pass uses
 * the closed-form BN gradient instead of differentiating the moments op by op.
 */
export class SmallAlexNet implements Encoder {
	/** The shape this encoder was built with. */
	readonly spec: EncoderSpec;
	readonly architecture: EncoderArchitecture;
	/** Trainable variables by stable name, e.g. 'conv1/kernel', 'conv1/bn/gamma', 'fc8/bias'. */
	readonly trainable: ReadonlyMap<string, tf.Variable>;
	/** Non-trainable state (BN running mean/var) by name, e.g. 'conv1/bn/running_mean'. */
	readonly buffers: ReadonlyMap<string, tf.Variable>;

	private readonly recorded = new Map<string, RecordedMoments>();
	/**
	 * The cross-replica sum of the forward pass being built, if any. The BN ops capture it when
	 * they are created, so their gradients (run later, by the caller's gradient call) use it too.
	 */
	private crossReplica: CrossReplicaSum | undefined;
	/** 0/1 group-indicator matrices `[groups, rows]`, reused across steps; owned here. */
	private readonly indicators = new Map<string, tf.Tensor2D>();

	private constructor(
		spec: EncoderSpec,
		trainable: Map<string, tf.Variable>,
		buffers: Map<string, tf.Variable>
	) {
		this.spec = spec;
		this.architecture = { kind: 'smallalexnet', ...spec, channels: [...spec.channels] };
		this.trainable = trainable;
		this.buffers = buffers;
	}

	/**
	 * Builds an encoder with the paper's initialisation: weights ~ N(0, 0.02²) drawn from
	 * {@link Random} (so every backend starts from identical weights), BN γ = 1, β = 0, biases
	 * 0, running mean 0 and running variance 1.
	 */
	static create(spec: EncoderSpec, seed: number): SmallAlexNet {
		const trainable = new Map<string, tf.Variable>();
		for (const [index, entry] of trainablePlan(spec).entries()) {
			const size = entry.shape.reduce((a, b) => a * b, 1);
			const values = new Float32Array(size);
			if (entry.init === 'ones') values.fill(1);
			if (entry.init === 'normal') {
				const random = new Random(seed, index);
				for (let i = 0; i < size; i++) values[i] = random.normal() * initStd;
			}
			// Unnamed: tfjs registers variable names globally, and several encoders may coexist.
			// The variable shares the initial tensor's data; disposing the tensor lets the first
			// update free the initial weights.
			trainable.set(
				entry.name,
				tf.tidy(() => tf.variable(tf.tensor(values, entry.shape), true))
			);
		}
		const buffers = new Map<string, tf.Variable>();
		for (const layer of batchNormLayers) {
			const width = trainable.get(`${layer}/bn/gamma`)?.size ?? 0;
			buffers.set(
				`${layer}/bn/running_mean`,
				tf.tidy(() => tf.variable(tf.zeros([width]), false))
			);
			buffers.set(
				`${layer}/bn/running_var`,
				tf.tidy(() => tf.variable(tf.ones([width]), false))
			);
		}
		return new SmallAlexNet(spec, trainable, buffers);
	}

	/**
	 * Runs the encoder on `x` (`[N, inputSize, inputSize, 3]`) and returns `[N, features]`: the
	 * unit-norm embedding for 'fc8', otherwise the block's output (conv maps averaged over H, W).
	 *
	 * A training pass records the batch moments of each BN layer's first group; call
	 * {@link commitRunningStatistics} after the gradient step to fold them into the running
	 * statistics. Keeping that update out of the forward pass keeps it off the gradient tape.
	 */
	get inputSize(): number {
		return this.spec.inputSize;
	}

	get embeddingDim(): number {
		return this.spec.embeddingDim;
	}

	forward(x: tf.Tensor4D, options: ForwardOptions): tf.Tensor2D {
		const stopAt = this.layerIndex(options.layer ?? 'fc8');
		const groups = options.training ? (options.groups ?? 1) : 1;
		const [batch, height, width, depth] = x.shape;
		if (height !== this.spec.inputSize || width !== this.spec.inputSize || depth !== 3) {
			throw new Error(
				`The encoder expects [N, ${this.spec.inputSize}, ${this.spec.inputSize}, 3] images, got [${x.shape.join(', ')}].`
			);
		}
		if (!Number.isInteger(groups) || groups < 1 || batch % groups !== 0) {
			throw new Error(
				`Batch-norm groups must divide the batch: ${groups} groups for ${batch} images.`
			);
		}
		this.crossReplica = options.training ? options.crossReplica : undefined;
		try {
			return tf.tidy(
				() => this.runBlocks(x, 0, stopAt, options.training, groups, false) as tf.Tensor2D
			);
		} finally {
			this.crossReplica = undefined;
		}
	}

	/**
	 * The 4-D output (`[N, H, W, C]`, after ReLU and the block's pool, if any) of the conv block
	 * `layer` for images `x`: the activation map Grad-CAM weighs. Eval-mode batch norm unless
	 * `options.training`.
	 */
	convActivation(
		x: tf.Tensor4D,
		layer: FeatureLayer,
		options: Omit<ForwardOptions, 'layer'>
	): tf.Tensor4D {
		const stopAt = this.convIndex(layer);
		this.checkInput(x);
		const groups = options.training ? (options.groups ?? 1) : 1;
		return tf.tidy(
			() => this.runBlocks(x, 0, stopAt, options.training, groups, true) as tf.Tensor4D
		);
	}

	/**
	 * The rest of {@link forward} from the output of conv block `fromLayer` (as returned by
	 * {@link convActivation}) up to `options.layer`: `forwardFrom(convActivation(x, l), l, o)`
	 * equals `forward(x, o)` for any `options.layer` at or after `l`. Differentiable in
	 * `activation`, which is what Grad-CAM needs.
	 */
	forwardFrom(
		activation: tf.Tensor4D,
		fromLayer: FeatureLayer,
		options: ForwardOptions
	): tf.Tensor2D {
		const fromIndex = this.convIndex(fromLayer);
		const stopAt = this.layerIndex(options.layer ?? 'fc8');
		if (stopAt < fromIndex) {
			throw new Error(`Cannot run from ${fromLayer} to the earlier block ${options.layer}.`);
		}
		const groups = options.training ? (options.groups ?? 1) : 1;
		return tf.tidy(() => {
			if (stopAt === fromIndex) return tf.mean(activation, [1, 2]) as tf.Tensor2D;
			return this.runBlocks(
				activation,
				fromIndex + 1,
				stopAt,
				options.training,
				groups,
				false
			) as tf.Tensor2D;
		});
	}

	/** The fc8 output before its L2 normalisation, from the map of conv block `fromLayer`. */
	rawEmbeddingFrom(activation: tf.Tensor4D, fromLayer: FeatureLayer): tf.Tensor2D {
		return tf.tidy(() => {
			const hidden = this.forwardFrom(activation, fromLayer, { training: false, layer: 'fc7' });
			return tf.add(
				denseMatMul(hidden, this.weight('fc8/kernel') as tf.Tensor2D, { fewRows: true }),
				this.weight('fc8/bias')
			) as tf.Tensor2D;
		});
	}

	firstLayerKernel(): tf.Tensor4D {
		return tf.clone(this.weight('conv1/kernel')) as tf.Tensor4D;
	}

	channelsAt(layer: FeatureLayer): number {
		return this.spec.channels[this.convIndex(layer)] as number;
	}

	weightCount(): number {
		return parameterCount(this.spec);
	}

	private layerIndex(layer: FeatureLayer): number {
		const index = (encoderLayers as readonly string[]).indexOf(layer);
		if (index < 0) {
			throw new Error(
				`SmallAlexNet has no layer ${layer}; its layers are ${encoderLayers.join(', ')}.`
			);
		}
		return index;
	}

	/** The index of a conv block; throws for fc layers, whose outputs have no spatial map. */
	private convIndex(layer: FeatureLayer): number {
		const index = (convLayers as readonly string[]).indexOf(layer);
		if (index < 0) throw new Error(`${layer} is not a conv block; it has no spatial map.`);
		return index;
	}

	private checkInput(x: tf.Tensor4D): void {
		const [, height, width, depth] = x.shape;
		if (height !== this.spec.inputSize || width !== this.spec.inputSize || depth !== 3) {
			throw new Error(
				`The encoder expects [N, ${this.spec.inputSize}, ${this.spec.inputSize}, 3] images, got [${x.shape.join(', ')}].`
			);
		}
	}

	/**
	 * Blocks `startAt..stopAt` on `input` (the images when `startAt` is 0, else the output of
	 * block `startAt − 1`). A conv block at `stopAt` returns its 4-D map when `keepSpatial`,
	 * otherwise its mean over H and W.
	 */
	private runBlocks(
		input: tf.Tensor4D,
		startAt: number,
		stopAt: number,
		training: boolean,
		groups: number,
		keepSpatial: boolean
	): tf.Tensor {
		const batch = input.shape[0];
		let features: tf.Tensor4D = input;
		for (const [index, layer] of convLayers.entries()) {
			if (index < startAt) continue;
			const convolved = tf.conv2d(
				features,
				this.weight(`${layer}/kernel`) as tf.Tensor4D,
				1,
				'same'
			);
			features = tf.relu(this.batchNorm(layer, convolved, training, groups));
			if (pooledConvBlocks.has(index)) features = tf.maxPool(features, 3, 2, 'valid');
			if (index === stopAt) return keepSpatial ? features : tf.mean(features, [1, 2]);
		}
		let hidden = tf.reshape(features, [batch, -1]) as tf.Tensor2D;
		for (const [offset, layer] of (['fc6', 'fc7'] as const).entries()) {
			// Only Grad-CAM differentiates eval mode, one image at a time; training keeps its formula.
			const projected = denseMatMul(hidden, this.weight(`${layer}/kernel`) as tf.Tensor2D, {
				fewRows: !training
			});
			hidden = tf.relu(this.batchNorm(layer, projected, training, groups)) as tf.Tensor2D;
			if (5 + offset === stopAt) return hidden;
		}
		const embedding = tf.add(
			denseMatMul(hidden, this.weight('fc8/kernel') as tf.Tensor2D, { fewRows: !training }),
			this.weight('fc8/bias')
		);
		// x/‖x‖ without an epsilon, as the paper's encoder.
		return tf.mul(embedding, tf.rsqrt(tf.sum(tf.square(embedding), 1, true)));
	}

	/**
	 * Folds the moments recorded by the latest training forward pass into the BN running
	 * statistics (PyTorch: `running = 0.9·running + 0.1·batch`, unbiased batch variance) and
	 * drops them. Only the first group's moments are used: under `nn.DataParallel` (the paper's
	 * two GPUs) each replica updates its own copy of the buffers and only device 0's copy, which
	 * saw the first views, survives. Does nothing when nothing was recorded.
	 *
	 * `moments` (from {@link takeRecordedMoments} of a replica) replace the recorded ones: the
	 * leader of a data-parallel step keeps the running statistics of the replicas' passes.
	 */
	commitRunningStatistics(moments?: Readonly<Record<string, BatchMoments>>): void {
		if (moments) {
			this.discardRecordedMoments();
			for (const [layer, { mean, variance }] of Object.entries(moments)) {
				this.recorded.set(layer, {
					mean: tf.tensor1d(mean),
					variance: tf.tensor1d(variance)
				});
			}
		}
		tf.tidy(() => {
			for (const [layer, moments] of this.recorded) {
				const runningMean = this.buffers.get(`${layer}/bn/running_mean`);
				const runningVar = this.buffers.get(`${layer}/bn/running_var`);
				if (!runningMean || !runningVar) continue;
				runningMean.assign(
					tf.add(
						tf.mul(runningMean, 1 - batchNormMomentum),
						tf.mul(moments.mean, batchNormMomentum)
					)
				);
				runningVar.assign(
					tf.add(
						tf.mul(runningVar, 1 - batchNormMomentum),
						tf.mul(moments.variance, batchNormMomentum)
					)
				);
			}
		});
		this.discardRecordedMoments();
	}

	/**
	 * The moments the latest training pass recorded, as plain arrays, and forgets them (a
	 * replica's step hands them to the leader instead of committing them).
	 */
	takeRecordedMoments(): Record<string, BatchMoments> {
		const moments: Record<string, BatchMoments> = {};
		for (const [layer, recorded] of this.recorded) {
			moments[layer] = {
				mean: recorded.mean.dataSync() as Float32Array,
				variance: recorded.variance.dataSync() as Float32Array
			};
		}
		this.discardRecordedMoments();
		return moments;
	}

	/** Frees every tensor this encoder owns. */
	dispose(): void {
		this.discardRecordedMoments();
		for (const indicator of this.indicators.values()) indicator.dispose();
		this.indicators.clear();
		for (const variable of this.trainable.values()) variable.dispose();
		for (const variable of this.buffers.values()) variable.dispose();
	}

	private discardRecordedMoments(): void {
		for (const moments of this.recorded.values()) {
			moments.mean.dispose();
			moments.variance.dispose();
		}
		this.recorded.clear();
	}

	private weight(name: string): tf.Variable {
		const variable = this.trainable.get(name);
		if (!variable) throw new Error(`The encoder has no weight '${name}'.`);
		return variable;
	}

	private buffer(name: string): tf.Variable {
		const variable = this.buffers.get(name);
		if (!variable) throw new Error(`The encoder has no buffer '${name}'.`);
		return variable;
	}

	/** Batch norm over every axis but the last, of a 4-D (BN2d) or 2-D (BN1d) tensor. */
	private batchNorm<T extends tf.Tensor>(
		layer: string,
		x: T,
		training: boolean,
		groups: number
	): T {
		const gamma = this.weight(`${layer}/bn/gamma`);
		const beta = this.weight(`${layer}/bn/beta`);
		if (!training) {
			const scale = tf.mul(
				gamma,
				tf.rsqrt(tf.add(this.buffer(`${layer}/bn/running_var`), batchNormEpsilon))
			);
			const shift = tf.sub(beta, tf.mul(this.buffer(`${layer}/bn/running_mean`), scale));
			return tf.add(tf.mul(x, scale), shift);
		}
		const channels = x.shape[x.rank - 1] as number;
		const rows = x.size / channels;
		const groupRows = rows / groups;
		if (this.crossReplica) {
			const normalised = this.syncedBatchNorm(
				layer,
				groups,
				this.indicator(groups, rows),
				this.crossReplica
			)(tf.reshape(x, [rows, channels]), gamma, beta);
			return tf.reshape(normalised, x.shape) as T;
		}
		if (groupRows < 2) {
			throw new Error(
				`Batch norm in training mode needs more than one value per channel and group (layer ${layer}: ${groupRows}); use a larger batch.`
			);
		}
		const normalised = this.trainingBatchNorm(layer, groups, this.indicator(groups, rows))(
			tf.reshape(x, [rows, channels]),
			gamma,
			beta
		);
		return tf.reshape(normalised, x.shape) as T;
	}

	/** A `[groups, rows]` matrix with ones where row r belongs to group g, cached. */
	private indicator(groups: number, rows: number): tf.Tensor2D {
		const key = `${groups}x${rows}`;
		let indicator = this.indicators.get(key);
		if (!indicator) {
			const values = new Float32Array(groups * rows);
			const groupRows = rows / groups;
			for (let g = 0; g < groups; g++)
				values.fill(1, g * rows + g * groupRows, g * rows + (g + 1) * groupRows);
			indicator = tf.keep(tf.tensor2d(values, [groups, rows]));
			this.indicators.set(key, indicator);
		}
		return indicator;
	}

	/**
	 * The training-mode BN op on `[rows, channels]` for one layer: per-group batch moments
	 * (biased variance in the normalisation, as PyTorch), and the closed-form gradient
	 *   dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy
	 * per group, written as dx = a·dy + b·x + c with per-group, per-channel a, b, c so that it
	 * costs three broadcast products and sums, and two indicator products.
	 */
	private trainingBatchNorm(
		layer: string,
		groups: number,
		indicator: tf.Tensor2D
	): (x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor2D {
		const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
			const [x, gamma, beta, save] = args as [
				tf.Tensor2D,
				tf.Tensor1D,
				tf.Tensor1D,
				tf.GradSaveFunc
			];
			const [rows, channels] = x.shape;
			const groupRows = rows / groups;
			const grouped = tf.reshape(x, [groups, groupRows, channels]);
			const mean = tf.div(tf.matMul(indicator, x), groupRows) as tf.Tensor2D;
			const centredSquares = tf.squaredDifference(grouped, tf.reshape(mean, [groups, 1, channels]));
			const variance = tf.div(
				tf.matMul(indicator, tf.reshape(centredSquares, [rows, channels])),
				groupRows
			) as tf.Tensor2D;
			const rstd = tf.rsqrt(tf.add(variance, batchNormEpsilon));
			const scale = tf.mul(gamma, rstd);
			const shift = tf.sub(beta, tf.mul(mean, scale));
			const value = tf.reshape(
				tf.add(
					tf.mul(grouped, tf.reshape(scale, [groups, 1, channels])),
					tf.reshape(shift, [groups, 1, channels])
				),
				[rows, channels]
			);
			this.record(layer, mean, variance, groupRows);
			save([x, mean, rstd, gamma]);
			return {
				value,
				gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
					const [input, savedMean, savedRstd, savedGamma] = saved as [
						tf.Tensor2D,
						tf.Tensor2D,
						tf.Tensor2D,
						tf.Tensor1D
					];
					const dy2d = dy as tf.Tensor2D;
					const sumDy = tf.matMul(indicator, dy2d);
					const sumDyX = tf.matMul(indicator, tf.mul(dy2d, input));
					// Σ dy·x̂ = rstd·(Σ dy·x − mean·Σ dy)
					const sumDyXhat = tf.mul(savedRstd, tf.sub(sumDyX, tf.mul(savedMean, sumDy)));
					const a = tf.mul(savedGamma, savedRstd);
					const b = tf.div(tf.mul(tf.neg(a), tf.mul(savedRstd, sumDyXhat)), groupRows);
					const c = tf.sub(tf.div(tf.mul(tf.neg(a), sumDy), groupRows), tf.mul(b, savedMean));
					const perGroup = (t: tf.Tensor) => tf.reshape(t, [groups, 1, channels]);
					const dx = tf.add(
						tf.add(
							tf.mul(tf.reshape(dy2d, [groups, groupRows, channels]), perGroup(a)),
							tf.mul(tf.reshape(input, [groups, groupRows, channels]), perGroup(b))
						),
						perGroup(c)
					);
					return [tf.reshape(dx, [rows, channels]), tf.sum(sumDyXhat, 0), tf.sum(sumDy, 0)];
				}
			};
		});
		return (x, gamma, beta) => op(x, gamma, beta) as tf.Tensor2D;
	}

	/**
	 * {@link trainingBatchNorm} on one replica's shard with the statistics of the whole batch:
	 * the per-group sums of x, of the centred squares and, going back, of dy and dy·x are summed
	 * over the replicas (three exchanges per layer and step), with the shards' row counts.
	 * The same formulas, so the result equals one replica's within float rounding.
	 */
	private syncedBatchNorm(
		layer: string,
		groups: number,
		indicator: tf.Tensor2D,
		crossReplica: CrossReplicaSum
	): (x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor2D {
		/** Σ over the replicas of `[groups, channels]` sums, and of the appended row count. */
		const sumOverReplicas = (local: tf.Tensor2D, rowCount: number) => {
			const values = new Float32Array(local.size + 1);
			values.set(local.dataSync());
			values[local.size] = rowCount;
			const total = crossReplica(values);
			return {
				sums: tf.tensor2d(total.subarray(0, local.size), local.shape),
				rows: total[local.size] as number
			};
		};
		const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
			const [x, gamma, beta, save] = args as [
				tf.Tensor2D,
				tf.Tensor1D,
				tf.Tensor1D,
				tf.GradSaveFunc
			];
			const [rows, channels] = x.shape;
			const localGroupRows = rows / groups;
			const grouped = tf.reshape(x, [groups, localGroupRows, channels]);
			const totals = sumOverReplicas(tf.matMul(indicator, x), localGroupRows);
			const groupRows = totals.rows;
			if (groupRows < 2) {
				throw new Error(
					`Batch norm in training mode needs more than one value per channel and group (layer ${layer}: ${groupRows}); use a larger batch.`
				);
			}
			const mean = tf.div(totals.sums, groupRows) as tf.Tensor2D;
			const centredSquares = tf.squaredDifference(grouped, tf.reshape(mean, [groups, 1, channels]));
			const variance = tf.div(
				sumOverReplicas(
					tf.matMul(indicator, tf.reshape(centredSquares, [rows, channels])),
					localGroupRows
				).sums,
				groupRows
			) as tf.Tensor2D;
			const rstd = tf.rsqrt(tf.add(variance, batchNormEpsilon));
			const scale = tf.mul(gamma, rstd);
			const shift = tf.sub(beta, tf.mul(mean, scale));
			const value = tf.reshape(
				tf.add(
					tf.mul(grouped, tf.reshape(scale, [groups, 1, channels])),
					tf.reshape(shift, [groups, 1, channels])
				),
				[rows, channels]
			);
			this.record(layer, mean, variance, groupRows);
			save([x, mean, rstd, gamma]);
			return {
				value,
				gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
					const [input, savedMean, savedRstd, savedGamma] = saved as [
						tf.Tensor2D,
						tf.Tensor2D,
						tf.Tensor2D,
						tf.Tensor1D
					];
					const dy2d = dy as tf.Tensor2D;
					const localDy = tf.matMul(indicator, dy2d) as tf.Tensor2D;
					const localDyX = tf.matMul(indicator, tf.mul(dy2d, input)) as tf.Tensor2D;
					// One exchange for both sums: [Σdy; Σdy·x] per group.
					const both = sumOverReplicas(tf.concat2d([localDy, localDyX], 0), localGroupRows).sums;
					const [sumDy, sumDyX] = tf.split(both, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
					const sumDyXhat = tf.mul(savedRstd, tf.sub(sumDyX, tf.mul(savedMean, sumDy)));
					const a = tf.mul(savedGamma, savedRstd);
					const b = tf.div(tf.mul(tf.neg(a), tf.mul(savedRstd, sumDyXhat)), groupRows);
					const c = tf.sub(tf.div(tf.mul(tf.neg(a), sumDy), groupRows), tf.mul(b, savedMean));
					const perGroup = (t: tf.Tensor) => tf.reshape(t, [groups, 1, channels]);
					const dx = tf.add(
						tf.add(
							tf.mul(tf.reshape(dy2d, [groups, localGroupRows, channels]), perGroup(a)),
							tf.mul(tf.reshape(input, [groups, localGroupRows, channels]), perGroup(b))
						),
						perGroup(c)
					);
					// γ and β are shared: each replica returns its shard's part of their gradient
					// (the leader sums the replicas' gradients), not the batch's total.
					const localDyXhat = tf.mul(savedRstd, tf.sub(localDyX, tf.mul(savedMean, localDy)));
					return [tf.reshape(dx, [rows, channels]), tf.sum(localDyXhat, 0), tf.sum(localDy, 0)];
				}
			};
		});
		return (x, gamma, beta) => op(x, gamma, beta) as tf.Tensor2D;
	}

	/** Keeps the first group's moments of a layer for {@link commitRunningStatistics}. */
	private record(layer: string, mean: tf.Tensor2D, variance: tf.Tensor2D, groupRows: number): void {
		const channels = mean.shape[1];
		const previous = this.recorded.get(layer);
		previous?.mean.dispose();
		previous?.variance.dispose();
		this.recorded.set(layer, {
			mean: tf.keep(tf.reshape(tf.slice(mean, [0, 0], [1, channels]), [channels])),
			variance: tf.keep(
				tf.reshape(tf.mul(tf.slice(variance, [0, 0], [1, channels]), groupRows / (groupRows - 1)), [
					channels
				])
			)
		});
	}
}
