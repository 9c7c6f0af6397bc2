/**
 * The alignment + uniformity loss of Wang & Isola (2020), as the paper trains with it
 * (`paper-protocol.md` §3.3).
 */
import * as tf from '@tensorflow/tfjs-core';
import { denseMatMul } from './model';

/** Weights and exponents of {@link alignUniformLoss}; the paper uses α = 2, t = 2, 1, 1. */
export interface AlignUniformOptions {
	/** Exponent of the pair distance in the alignment term. */
	alpha: number;
	/** Temperature of the Gaussian potential in the uniformity term. */
	t: number;
	alignWeight: number;
	uniformWeight: number;
}

/** The loss and its two logged terms, as scalars owned by the caller. */
export interface AlignUniformTerms {
	/** `alignWeight·align + uniformWeight·uniform`. */
	loss: tf.Scalar;
	/** `mean_i ‖x_i − y_i‖^α`. */
	align: tf.Scalar;
	/** `(L_unif(x) + L_unif(y)) / 2`. */
	uniform: tf.Scalar;
}

/**
 * `log mean_{i<j} exp(−t‖z_i − z_j‖²)` for unit-norm rows, computed as a log-sum-exp over the
 * strict upper triangle of `−t(2 − 2 z zᵀ)` minus `log(B(B−1)/2)`, so that it stays finite when
 * every `exp` underflows (large t or well-spread points). The `2 − 2a·b` identity avoids the
 * pairwise difference tensor but assumes unit rows, which the encoder guarantees.
 */
export function uniformityLoss(z: tf.Tensor2D, t: number): tf.Scalar {
	const batch = z.shape[0];
	if (batch < 2) throw new Error(`The uniformity loss needs at least 2 embeddings, got ${batch}.`);
	return tf.tidy(() => {
		const mask = new Float32Array(batch * batch).fill(Number.NEGATIVE_INFINITY);
		for (let i = 0; i < batch; i++) mask.fill(0, i * batch + i + 1, (i + 1) * batch);
		const squaredDistances = tf.sub(2, tf.mul(denseMatMul(z, tf.transpose(z)), 2));
		const logits = tf.add(tf.mul(squaredDistances, -t), tf.tensor2d(mask, [batch, batch]));
		return tf.sub(tf.logSumExp(logits), Math.log((batch * (batch - 1)) / 2)) as tf.Scalar;
	});
}

/**
 * The paper's loss on the embeddings of the first views `x` and the second views `y`
 * (`[B, D]`, unit rows, row i of each from the same image):
 * `alignWeight·mean‖x_i − y_i‖^α + uniformWeight·(L_unif(x) + L_unif(y))/2`.
 * The alignment uses the differences directly, which is exact for any vectors.
 */
export function alignUniformLoss(
	x: tf.Tensor2D,
	y: tf.Tensor2D,
	options: AlignUniformOptions
): AlignUniformTerms {
	if (x.shape[0] !== y.shape[0] || x.shape[1] !== y.shape[1]) {
		throw new Error(
			`The two views' embeddings must have the same shape, got [${x.shape.join(', ')}] and [${y.shape.join(', ')}].`
		);
	}
	const align = tf.tidy(() => {
		const squaredDistances = tf.sum(tf.square(tf.sub(x, y)), 1);
		const powered =
			options.alpha === 2 ? squaredDistances : tf.pow(squaredDistances, options.alpha / 2);
		return tf.mean(powered) as tf.Scalar;
	});
	const uniform = tf.tidy(
		() => tf.div(tf.add(uniformityLoss(x, options.t), uniformityLoss(y, options.t)), 2) as tf.Scalar
	);
	const loss = tf.tidy(
		() =>
			tf.add(
				tf.mul(align, options.alignWeight),
				tf.mul(uniform, options.uniformWeight)
			) as tf.Scalar
	);
	return { loss, align, uniform };
}
