import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denseMatMul } from '../../../src/core/training/model';
import { registerWasmKernelPack } from '../../../src/main/compute/kernels';
import { registerAllGradients } from '../../../src/main/compute/kernels/register-gradients';

beforeAll(() => {
	registerAllGradients();
	registerWasmKernelPack();
});

afterAll(async () => {
	await tf.setBackend('cpu');
});

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
	return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] ?? Number.NaN);
}

/** A loss whose gradient differs per element, so a wrong transpose shows. */
const loss = (product: tf.Tensor) => tf.sum(tf.sin(product)) as tf.Scalar;

describe.each(['cpu', 'wasm'])('denseMatMul on %s', (backend) => {
	beforeAll(async () => {
		expect(await tf.setBackend(backend)).toBe(true);
	});

	it.each([1, 3, 12])(
		'%i rows: the value is tf.matMul’s and both gradient forms are the product’s',
		(rows) => {
			const before = tf.memory().numTensors;
			tf.tidy(() => {
				const a = tf.randomNormal([rows, 20], 0, 1, 'float32', 1) as tf.Tensor2D;
				const b = tf.randomNormal([20, 7], 0, 1, 'float32', 2) as tf.Tensor2D;
				expect(maxDifference(denseMatMul(a, b), tf.matMul(a, b))).toBe(0);
				const gradientsOf = (product: (p: tf.Tensor2D, q: tf.Tensor2D) => tf.Tensor) =>
					tf.grads((p: tf.Tensor, q: tf.Tensor) =>
						loss(product(p as tf.Tensor2D, q as tf.Tensor2D))
					)([a, b]) as [tf.Tensor2D, tf.Tensor2D];
				const [trainingA, trainingB] = gradientsOf((p, q) => denseMatMul(p, q));
				const [fewRowsA, fewRowsB] = gradientsOf((p, q) => denseMatMul(p, q, { fewRows: true }));
				// The training form is exactly the explicit-transpose gradient denseMatMul always had.
				const dy = tf.cos(tf.matMul(a, b)) as tf.Tensor2D;
				expect(maxDifference(trainingA, tf.matMul(dy, tf.transpose(b)))).toBe(0);
				expect(maxDifference(trainingB, tf.matMul(tf.transpose(a), dy))).toBe(0);
				// The few-rows form sums in another order: equal up to rounding.
				expect(maxDifference(fewRowsA, trainingA)).toBeLessThan(1e-5);
				expect(maxDifference(fewRowsB, trainingB)).toBe(0);
				// And both are the gradient of the product, by tfjs's own MatMul gradient.
				const [referenceA, referenceB] = gradientsOf((p, q) => tf.matMul(p, q));
				expect(maxDifference(trainingA, referenceA)).toBeLessThan(1e-5);
				expect(maxDifference(trainingB, referenceB)).toBeLessThan(1e-5);
			});
			expect(tf.memory().numTensors).toBe(before);
		}
	);

	it('computes the weight gradient only when it is asked for', async () => {
		const a = tf.randomNormal([1, 48], 0, 1, 'float32', 3) as tf.Tensor2D;
		const weight = tf.variable(tf.randomNormal([48, 40], 0, 1, 'float32', 4));
		const outputShapes = async (run: () => tf.Tensor[]) => {
			const profile = await tf.profile(() => {
				const tensors = run();
				tf.dispose(tensors);
				return [];
			});
			return profile.kernels.flatMap((kernel) =>
				kernel.outputShapes.map((shape) => `${kernel.name} ${shape}`)
			);
		};
		for (const fewRows of [false, true]) {
			const product = (p: tf.Tensor) =>
				loss(denseMatMul(p as tf.Tensor2D, weight as tf.Tensor as tf.Tensor2D, { fewRows }));
			const onlyInput = await outputShapes(() => [tf.grad(product)(a)]);
			const both = await outputShapes(() => {
				const { grads } = tf.variableGrads(() => product(a), [weight]);
				return Object.values(grads);
			});
			// The weight gradient is the one product of the weight's shape [48, 40].
			expect(onlyInput).not.toContain('BatchMatMul 48,40');
			expect(both).toContain('BatchMatMul 48,40');
		}
		tf.dispose([a, weight]);
	});

	it('rejects operands whose inner sizes differ', () => {
		const a = tf.zeros([2, 3]) as tf.Tensor2D;
		const b = tf.zeros([4, 2]) as tf.Tensor2D;
		expect(() => denseMatMul(a, b)).toThrow(/\[2,3\] @ \[4,2\]/);
		tf.dispose([a, b]);
	});
});
