/**
 * The linear probe of `paper-protocol.md` §4.1: softmax regression on frozen features, trained
 * with Adam (lr 1e-3, β 0.5/0.999, no weight decay), batch 128, and the learning rate ×0.2 at
 * 60% and 80% of the epochs (the paper: 100 epochs, milestones 60 and 80).
 *
 * The gradient of the cross-entropy is written in closed form, `Xᵀ(softmax(XW + b) − Y) / B`,
 * instead of going through autodiff: it is one product fewer, and tfjs's MatMul gradient uses
 * the transpose flags that the wasm backend runs many times slower than a plain product.
 *
 * Features stay in the caller's arrays; each step copies only its batch's rows into one
 * reused buffer, so a probe on 5,000 × 4,096 features with several augmented views never holds
 * a second copy of them on the backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AppFailure } from '../api/errors';
import { Random } from '../generators/random';

/** The part of an `AbortSignal` the probe reads (core compiles without the DOM library). */
export interface CancelSignal {
	readonly aborted: boolean;
}

/** Options of {@link trainLinearProbe}; the defaults are the paper's. */
export interface ProbeOptions {
	/** Passes over the training set (the paper: 100). */
	epochs: number;
	/** Minibatch size; the last batch of an epoch may be smaller (PyTorch's default). Default 128. */
	batch?: number;
	/** Initial learning rate. Default 1e-3. */
	lr?: number;
	/** Adam's β1, β2. Default [0.5, 0.999]. */
	betas?: [number, number];
	/** Fractions of `epochs` at which the learning rate is multiplied by `decay`. Default [0.6, 0.8]. */
	milestones?: number[];
	/** Learning-rate factor at each milestone. Default 0.2. */
	decay?: number;
	/** Seeds the initial weights and the per-epoch shuffles. */
	seed: number;
	/** Checked before every batch; an aborted signal stops training with a CANCELLED failure. */
	signal?: CancelSignal;
	/** Called after every epoch with its index and mean training loss. */
	onEpoch?: (epoch: number, loss: number) => void;
}

/** A trained probe: `logits = features · weight + bias`. */
export interface LinearProbe {
	dim: number;
	classes: number;
	/** `dim × classes`, row-major (the transpose of PyTorch's `Linear.weight`). */
	weight: Float32Array;
	/** One value per class. */
	bias: Float32Array;
	/** Mean cross-entropy over the training samples of each epoch, as seen during that epoch. */
	lossHistory: number[];
}

/** The paper's probe hyper-parameters, used where {@link ProbeOptions} leaves them out. */
export const paperProbeDefaults = {
	batch: 128,
	lr: 1e-3,
	betas: [0.5, 0.999] as const,
	milestones: [0.6, 0.8] as const,
	decay: 0.2
};

/** Adam's ε, PyTorch's default (tfjs's backend ε, 1e-7 on float32, is not). */
const adamEpsilon = 1e-8;

/**
 * The epochs at which the learning rate decays: each fraction of `epochs`, rounded to the
 * nearest epoch (0.6 and 0.8 of 100 give PyTorch MultiStepLR's milestones 60 and 80).
 */
export function milestoneEpochs(
	epochs: number,
	fractions: readonly number[] = paperProbeDefaults.milestones
): number[] {
	return fractions.map((fraction) => Math.round(fraction * epochs));
}

/**
 * The learning rate of epoch `epoch` (0-based) under MultiStepLR: `lr × decay^m`, where m is the
 * number of milestones at or before `epoch`.
 */
export function probeLearningRate(
	epoch: number,
	epochs: number,
	options: Pick<ProbeOptions, 'lr' | 'milestones' | 'decay'> = {}
): number {
	const lr = options.lr ?? paperProbeDefaults.lr;
	const decay = options.decay ?? paperProbeDefaults.decay;
	const passed = milestoneEpochs(epochs, options.milestones).filter((m) => epoch >= m).length;
	return lr * decay ** passed;
}

/** Throws a RangeError when `labels` does not hold `count` class indices below `classes`. */
function checkLabels(labels: Int32Array, count: number, classes: number): void {
	if (labels.length !== count) {
		throw new RangeError(`expected ${count} labels, one per feature row, got ${labels.length}`);
	}
	for (let i = 0; i < labels.length; i++) {
		const label = labels[i] as number;
		if (label < 0 || label >= classes) {
			throw new RangeError(`label ${label} of sample ${i} is outside [0, ${classes})`);
		}
	}
}

/** The number of rows of an `N × dim` feature array; throws when it is not a whole number. */
export function rowCount(features: Float32Array, dim: number, what = 'features'): number {
	if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be ≥ 1, got ${dim}`);
	if (features.length % dim !== 0) {
		throw new RangeError(`${what} hold ${features.length} values, not a multiple of dim ${dim}`);
	}
	return features.length / dim;
}

/**
 * PyTorch's `Linear(dim, classes)` initialisation: weight and bias uniform in ±1/√dim (the
 * weight's kaiming_uniform with a = √5 reduces to that bound).
 */
function initialParameters(dim: number, classes: number, random: Random) {
	const bound = 1 / Math.sqrt(dim);
	// Drawn in PyTorch's [classes, dim] order, then stored transposed, so that one seed gives the
	// same weights whichever layout a port uses.
	const weight = new Float32Array(dim * classes);
	for (let c = 0; c < classes; c++) {
		for (let d = 0; d < dim; d++) weight[d * classes + c] = random.range(-bound, bound);
	}
	const bias = new Float32Array(classes);
	for (let c = 0; c < classes; c++) bias[c] = random.range(-bound, bound);
	return { weight, bias };
}

/** `torch.optim.Adam` without weight decay, on one variable. */
class AdamSlot {
	private readonly m: tf.Variable;
	private readonly v: tf.Variable;

	constructor(readonly variable: tf.Variable) {
		this.m = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
		this.v = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
	}

	/** One update; `step` counts from 1. Call inside `tf.tidy`. */
	update(gradient: tf.Tensor, lr: number, betas: readonly [number, number], step: number): void {
		const [beta1, beta2] = betas;
		this.m.assign(tf.add(tf.mul(this.m, beta1), tf.mul(gradient, 1 - beta1)));
		this.v.assign(tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(gradient), 1 - beta2)));
		const denominator = tf.add(tf.div(tf.sqrt(this.v), Math.sqrt(1 - beta2 ** step)), adamEpsilon);
		const stepSize = lr / (1 - beta1 ** step);
		this.variable.assign(tf.sub(this.variable, tf.mul(tf.div(this.m, denominator), stepSize)));
	}

	dispose(): void {
		this.m.dispose();
		this.v.dispose();
	}
}

/**
 * Trains a linear probe. `trainViews[k]` holds the `N × dim` features of the k-th augmented view
 * of every training image (the paper's crop augmentation: epoch e uses view e mod K); with one
 * view it is plain training on fixed features. Samples are reshuffled every epoch from `seed`.
 * Runs on the active tfjs backend and frees every tensor it makes.
 */
export async function trainLinearProbe(
	trainViews: Float32Array[],
	labels: Int32Array,
	dim: number,
	classes: number,
	options: ProbeOptions
): Promise<LinearProbe> {
	if (trainViews.length === 0) throw new RangeError('the probe needs at least one view');
	const count = rowCount(trainViews[0] as Float32Array, dim, 'view 0');
	trainViews.forEach((view, k) => {
		if (view.length !== count * dim) {
			throw new RangeError(`view ${k} holds ${view.length} values, view 0 ${count * dim}`);
		}
	});
	if (count === 0) throw new RangeError('the probe needs at least one training sample');
	if (!Number.isInteger(classes) || classes < 2) {
		throw new RangeError(`a probe needs at least 2 classes, got ${classes}`);
	}
	checkLabels(labels, count, classes);
	const { epochs } = options;
	if (!Number.isInteger(epochs) || epochs < 1) {
		throw new RangeError(`epochs must be a whole number ≥ 1, got ${epochs}`);
	}
	const batch = options.batch ?? paperProbeDefaults.batch;
	if (!Number.isInteger(batch) || batch < 1) {
		throw new RangeError(`batch must be a whole number ≥ 1, got ${batch}`);
	}
	const betas = options.betas ?? paperProbeDefaults.betas;

	const initial = initialParameters(dim, classes, new Random(options.seed, 1));
	const shuffleRandom = new Random(options.seed, 2);
	// Inside tidy scopes: tf.variable leaves its initial tensor registered otherwise.
	const weight = tf.tidy(() => tf.variable(tf.tensor2d(initial.weight, [dim, classes]), true));
	const bias = tf.tidy(() => tf.variable(tf.tensor1d(initial.bias), true));
	const weightAdam = new AdamSlot(weight);
	const biasAdam = new AdamSlot(bias);
	const lossSum = tf.tidy(() => tf.variable(tf.scalar(0), false));

	const order = Array.from({ length: count }, (_, i) => i);
	const batchFeatures = new Float32Array(Math.min(batch, count) * dim);
	const batchTargets = new Float32Array(Math.min(batch, count) * classes);
	const lossHistory: number[] = [];
	let step = 0;
	try {
		for (let epoch = 0; epoch < epochs; epoch++) {
			const view = trainViews[epoch % trainViews.length] as Float32Array;
			const lr = probeLearningRate(epoch, epochs, options);
			shuffleRandom.shuffle(order);
			tf.tidy(() => lossSum.assign(tf.scalar(0)));
			for (let start = 0; start < count; start += batch) {
				if (options.signal?.aborted) {
					throw new AppFailure(
						'CANCELLED',
						`The linear probe was cancelled in epoch ${epoch + 1}.`
					);
				}
				const rows = Math.min(batch, count - start);
				batchTargets.fill(0);
				for (let r = 0; r < rows; r++) {
					const sample = order[start + r] as number;
					batchFeatures.set(view.subarray(sample * dim, (sample + 1) * dim), r * dim);
					batchTargets[r * classes + (labels[sample] as number)] = 1;
				}
				step++;
				tf.tidy(() => {
					// The buffers are reused: the backend may keep a reference to them, which is safe
					// because every tensor made from them is freed at the end of this scope.
					const x = tf.tensor2d(batchFeatures.subarray(0, rows * dim), [rows, dim]);
					const targets = tf.tensor2d(batchTargets.subarray(0, rows * classes), [rows, classes]);
					const logProbabilities = tf.logSoftmax(tf.add(tf.matMul(x, weight), bias));
					lossSum.assign(tf.sub(lossSum, tf.sum(tf.mul(targets, logProbabilities))));
					const logitGradient = tf.div(tf.sub(tf.exp(logProbabilities), targets), rows);
					// (Gᵀ X)ᵀ rather than Xᵀ G: transposing the B × classes gradient and the
					// classes × dim product is several times cheaper on wasm than transposing X.
					const weightGradient = tf.transpose(tf.matMul(tf.transpose(logitGradient), x));
					weightAdam.update(weightGradient, lr, betas, step);
					biasAdam.update(tf.sum(logitGradient, 0), lr, betas, step);
				});
			}
			const loss = ((await lossSum.data())[0] as number) / count;
			lossHistory.push(loss);
			options.onEpoch?.(epoch, loss);
			// Lets a worker handle messages (progress, cancellation) between epochs.
			await tf.nextFrame();
		}
		return {
			dim,
			classes,
			weight: (await weight.data()) as Float32Array,
			bias: (await bias.data()) as Float32Array,
			lossHistory
		};
	} finally {
		weightAdam.dispose();
		biasAdam.dispose();
		weight.dispose();
		bias.dispose();
		lossSum.dispose();
	}
}

/** Rows per forward pass in {@link predictProbe}, to bound the backend memory of big sets. */
const predictChunkRows = 1024;

/**
 * The probe's logits (`N × classes`) on `N × dim` features, and each row's arg-max (the lowest
 * class index wins a tie).
 */
export async function predictProbe(
	probe: LinearProbe,
	features: Float32Array
): Promise<{ logits: Float32Array; predicted: Int32Array }> {
	const { dim, classes } = probe;
	const count = rowCount(features, dim);
	const logits = new Float32Array(count * classes);
	const weight = tf.tensor2d(probe.weight, [dim, classes]);
	const bias = tf.tensor1d(probe.bias);
	try {
		for (let start = 0; start < count; start += predictChunkRows) {
			const rows = Math.min(predictChunkRows, count - start);
			const chunk = tf.tidy(() => {
				const x = tf.tensor2d(features.subarray(start * dim, (start + rows) * dim), [rows, dim]);
				return tf.add(tf.matMul(x, weight), bias);
			});
			// Read asynchronously: a GPU backend cannot read synchronously in Node.
			logits.set((await chunk.data()) as Float32Array, start * classes);
			chunk.dispose();
		}
	} finally {
		weight.dispose();
		bias.dispose();
	}
	return { logits, predicted: argMaxRows(logits, classes) };
}

/** The index of each row's largest value; the lowest index wins a tie. */
export function argMaxRows(scores: Float32Array, classes: number): Int32Array {
	const count = scores.length / classes;
	const predicted = new Int32Array(count);
	for (let i = 0; i < count; i++) {
		let best = 0;
		let bestScore = scores[i * classes] as number;
		for (let c = 1; c < classes; c++) {
			const score = scores[i * classes + c] as number;
			if (score > bestScore) {
				best = c;
				bestScore = score;
			}
		}
		predicted[i] = best;
	}
	return predicted;
}

/**
 * The fraction of rows whose label is among the `k` highest of its `classes` scores. Ties rank
 * the lower class index first, as {@link argMaxRows} does, so top-1 equals plain accuracy. An
 * empty set scores 0.
 */
export function topKAccuracy(
	logits: Float32Array,
	labels: Int32Array,
	classes: number,
	k: number
): number {
	const count = rowCount(logits, classes, 'logits');
	if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
	checkLabels(labels, count, classes);
	if (count === 0) return 0;
	let correct = 0;
	for (let i = 0; i < count; i++) {
		const row = i * classes;
		const label = labels[i] as number;
		const target = logits[row + label] as number;
		if (Number.isNaN(target)) continue;
		let rank = 0;
		for (let c = 0; c < classes && rank < k; c++) {
			const score = logits[row + c] as number;
			if (score > target || (score === target && c < label)) rank++;
		}
		if (rank < k) correct++;
	}
	return correct / count;
}
