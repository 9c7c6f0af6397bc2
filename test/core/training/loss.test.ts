import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { alignUniformLoss, uniformityLoss } from '../../../src/core/training/loss';
import { registerAllGradients } from '../../../src/main/compute/kernels/register-gradients';

type Rows = number[][];

function unitRows(angles: number[][]): Rows {
	// Points on S² from (azimuth, elevation) pairs.
	return angles.map(([phi = 0, theta = 0]) => [
		Math.cos(theta) * Math.cos(phi),
		Math.cos(theta) * Math.sin(phi),
		Math.sin(theta)
	]);
}

function squaredDistance(a: number[], b: number[]): number {
	return a.reduce((sum, value, i) => sum + (value - (b[i] ?? 0)) ** 2, 0);
}

/** Wang & Isola's definitions, in float64. */
function reference(x: Rows, y: Rows, alpha: number, t: number) {
	const align =
		x.reduce((sum, row, i) => sum + squaredDistance(row, y[i] ?? []) ** (alpha / 2), 0) / x.length;
	const uniformity = (z: Rows) => {
		let total = 0;
		let pairs = 0;
		for (let i = 0; i < z.length; i++) {
			for (let j = i + 1; j < z.length; j++) {
				total += Math.exp(-t * squaredDistance(z[i] ?? [], z[j] ?? []));
				pairs++;
			}
		}
		return Math.log(total / pairs);
	};
	return { align, uniform: (uniformity(x) + uniformity(y)) / 2 };
}

function evaluate(x: Rows, y: Rows, options: Parameters<typeof alignUniformLoss>[2]) {
	return tf.tidy(() => {
		const terms = alignUniformLoss(tf.tensor2d(x), tf.tensor2d(y), options);
		return {
			loss: terms.loss.dataSync()[0] ?? Number.NaN,
			align: terms.align.dataSync()[0] ?? Number.NaN,
			uniform: terms.uniform.dataSync()[0] ?? Number.NaN
		};
	});
}

const x = unitRows([
	[0, 0],
	[0.3, 0.2],
	[2, -0.5],
	[-1.2, 1.1]
]);
const y = unitRows([
	[0.1, 0.05],
	[0.2, 0.4],
	[2.5, -0.4],
	[-1.0, 0.9]
]);

beforeAll(async () => {
	registerAllGradients();
	await tf.setBackend('cpu');
});

describe('alignUniformLoss', () => {
	it('equals the definitions computed in float64 (α = 2, t = 2, the paper)', () => {
		const expected = reference(x, y, 2, 2);
		const actual = evaluate(x, y, { alpha: 2, t: 2, alignWeight: 1, uniformWeight: 1 });
		expect(actual.align).toBeCloseTo(expected.align, 5);
		expect(actual.uniform).toBeCloseTo(expected.uniform, 5);
		expect(actual.loss).toBeCloseTo(expected.align + expected.uniform, 5);
	});

	it('honours α, t and the two weights', () => {
		const expected = reference(x, y, 1, 3.5);
		const actual = evaluate(x, y, { alpha: 1, t: 3.5, alignWeight: 0.25, uniformWeight: 2 });
		expect(actual.align).toBeCloseTo(expected.align, 5);
		expect(actual.uniform).toBeCloseTo(expected.uniform, 5);
		expect(actual.loss).toBeCloseTo(0.25 * expected.align + 2 * expected.uniform, 5);
	});

	it('stays finite and exact where every exp underflows in float32', () => {
		// Three points 120° apart: every squared distance is 3, so L_unif = -3t exactly.
		const triangle = unitRows([
			[0, 0],
			[(2 * Math.PI) / 3, 0],
			[(4 * Math.PI) / 3, 0]
		]);
		const t = 200;
		expect(Math.fround(Math.exp(-t * 3))).toBe(0);
		const actual = evaluate(triangle, triangle, { alpha: 2, t, alignWeight: 1, uniformWeight: 1 });
		expect(actual.uniform).toBeCloseTo(-600, 2);
		expect(actual.align).toBe(0);

		const gradient = tf.tidy(() =>
			tf
				.grad((z: tf.Tensor) => uniformityLoss(z as tf.Tensor2D, t))(tf.tensor2d(triangle))
				.dataSync()
		);
		expect([...gradient].every(Number.isFinite)).toBe(true);
		// By symmetry, each point is pushed away from the other two: along its own direction.
		expect((gradient[0] ?? 0) * 1 + (gradient[1] ?? 0) * 0).toBeLessThan(0);
	});

	it('refuses mismatched views and a batch without pairs', () => {
		expect(() =>
			evaluate(x, y.slice(0, 3), { alpha: 2, t: 2, alignWeight: 1, uniformWeight: 1 })
		).toThrow(/same shape/);
		expect(() => tf.tidy(() => uniformityLoss(tf.tensor2d([[1, 0]]), 2))).toThrow(/at least 2/);
	});

	it('leaves no tensor behind', () => {
		const before = tf.memory().numTensors;
		evaluate(x, y, { alpha: 2, t: 2, alignWeight: 1, uniformWeight: 1 });
		expect(tf.memory().numTensors).toBe(before);
	});
});
