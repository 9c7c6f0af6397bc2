import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOptimizer, type TrainOptimizer } from '../../../src/core/training/optimizer';

const start = { a: [1, -2, 0.5], b: [[3], [0]] };
const gradientsPerStep = [
	{ a: [0.5, 0.25, -1], b: [[-0.5], [2]] },
	{ a: [-0.1, 0.4, 0.3], b: [[1], [-1]] },
	{ a: [0.2, 0, -0.6], b: [[0.3], [0.7]] }
];

let variables: Map<string, tf.Variable>;
let optimizer: TrainOptimizer | null = null;

function makeVariables(): Map<string, tf.Variable> {
	return new Map<string, tf.Variable>([
		['a', tf.variable(tf.tensor1d(start.a))],
		['b', tf.variable(tf.tensor2d(start.b))]
	]);
}

function step(opt: TrainOptimizer, index: number, lr: number): void {
	const g = gradientsPerStep[index] ?? gradientsPerStep[0];
	tf.tidy(() => opt.apply({ a: tf.tensor1d(g?.a ?? []), b: tf.tensor2d(g?.b ?? []) }, lr));
}

function values(name: string): number[] {
	return [...(variables.get(name)?.dataSync() ?? [])];
}

/** The updates of torch.optim.SGD / Adam, in float64, on flattened parameters. */
function sgdReference(steps: number, lrs: number[], momentum: number, wd: number): number[] {
	const w = [...start.a, ...start.b.flat()];
	const buffer: number[] = [];
	for (let s = 0; s < steps; s++) {
		const g = [...(gradientsPerStep[s]?.a ?? []), ...(gradientsPerStep[s]?.b.flat() ?? [])];
		for (let i = 0; i < w.length; i++) {
			const d = (g[i] ?? 0) + wd * (w[i] ?? 0);
			buffer[i] = s === 0 || momentum === 0 ? d : momentum * (buffer[i] ?? 0) + d;
			w[i] = (w[i] ?? 0) - (lrs[s] ?? 0) * (buffer[i] ?? 0);
		}
	}
	return w;
}

function adamReference(steps: number, lr: number, wd: number): number[] {
	const w = [...start.a, ...start.b.flat()];
	const m = w.map(() => 0);
	const v = w.map(() => 0);
	for (let s = 1; s <= steps; s++) {
		const g = [...(gradientsPerStep[s - 1]?.a ?? []), ...(gradientsPerStep[s - 1]?.b.flat() ?? [])];
		for (let i = 0; i < w.length; i++) {
			const d = (g[i] ?? 0) + wd * (w[i] ?? 0);
			m[i] = 0.9 * (m[i] ?? 0) + 0.1 * d;
			v[i] = 0.999 * (v[i] ?? 0) + 0.001 * d * d;
			const denominator = Math.sqrt(v[i] ?? 0) / Math.sqrt(1 - 0.999 ** s) + 1e-8;
			w[i] = (w[i] ?? 0) - (lr / (1 - 0.9 ** s)) * ((m[i] ?? 0) / denominator);
		}
	}
	return w;
}

function expectClose(actual: number[], expected: number[]): void {
	expect(actual.length).toBe(expected.length);
	for (const [i, value] of actual.entries())
		expect(value).toBeCloseTo(expected[i] ?? Number.NaN, 6);
}

beforeAll(async () => {
	await tf.setBackend('cpu');
});

afterEach(() => {
	optimizer?.dispose();
	optimizer = null;
	for (const variable of variables.values()) variable.dispose();
});

describe('SGD (PyTorch semantics)', () => {
	it('applies coupled weight decay and momentum, the first buffer being the gradient', () => {
		variables = makeVariables();
		optimizer = createOptimizer({ optimizer: 'sgd', momentum: 0.9, weightDecay: 0.1 }, variables);
		step(optimizer, 0, 0.5);
		// Step 1 by hand for a[0]: d = 0.5 + 0.1·1 = 0.6, buf = 0.6, w = 1 − 0.5·0.6 = 0.7.
		expect(values('a')[0]).toBeCloseTo(0.7, 6);
		step(optimizer, 1, 0.5);
		step(optimizer, 2, 0.05);
		expectClose([...values('a'), ...values('b')], sgdReference(3, [0.5, 0.5, 0.05], 0.9, 0.1));
	});

	it('without momentum is plain gradient descent on g + wd·w', () => {
		variables = makeVariables();
		optimizer = createOptimizer({ optimizer: 'sgd', momentum: 0, weightDecay: 0.01 }, variables);
		step(optimizer, 0, 0.1);
		step(optimizer, 1, 0.1);
		expectClose([...values('a'), ...values('b')], sgdReference(2, [0.1, 0.1], 0, 0.01));
		expect(Object.keys(tf.tidy(() => optimizer?.state() ?? {}))).toEqual(['optimizer/step']);
	});
});

describe('Adam (PyTorch semantics)', () => {
	it('matches the bias-corrected update with coupled weight decay', () => {
		variables = makeVariables();
		optimizer = createOptimizer({ optimizer: 'adam', momentum: 0.5, weightDecay: 0.05 }, variables);
		step(optimizer, 0, 0.01);
		// Step 1: m̂ = d, v̂ = d², so every weight moves by lr·sign(d) (up to ε).
		expect(values('a')[0]).toBeCloseTo(1 - 0.01, 6);
		step(optimizer, 1, 0.01);
		step(optimizer, 2, 0.01);
		expectClose([...values('a'), ...values('b')], adamReference(3, 0.01, 0.05));
	});
});

describe('optimiser state', () => {
	for (const kind of ['sgd', 'adam'] as const) {
		it(`${kind}: a copy loaded from state() makes the same next update`, () => {
			variables = makeVariables();
			optimizer = createOptimizer({ optimizer: kind, momentum: 0.9, weightDecay: 1e-2 }, variables);
			step(optimizer, 0, 0.1);
			step(optimizer, 1, 0.1);
			const state = optimizer.state();
			const weights = new Map([...variables].map(([name, v]) => [name, tf.clone(v)]));
			step(optimizer, 2, 0.1);
			const expected = [...values('a'), ...values('b')];

			for (const [name, v] of variables) v.assign(weights.get(name) as tf.Tensor);
			const copy = createOptimizer(
				{ optimizer: kind, momentum: 0.9, weightDecay: 1e-2 },
				variables
			);
			copy.load(state);
			tf.dispose([...Object.values(state), ...weights.values()]);
			step(copy, 2, 0.1);
			expect([...values('a'), ...values('b')]).toEqual(expected);
			copy.dispose();
		});
	}

	it('rejects state that is missing, mis-shaped or foreign', () => {
		variables = makeVariables();
		optimizer = createOptimizer({ optimizer: 'sgd', momentum: 0.9, weightDecay: 0 }, variables);
		const opt = optimizer;
		const load = (state: Record<string, number[] | number[][] | number>) =>
			tf.tidy(() =>
				opt.load(Object.fromEntries(Object.entries(state).map(([k, v]) => [k, tf.tensor(v)])))
			);
		expect(() => load({})).toThrow(/no 'optimizer\/step'/);
		expect(() => load({ 'optimizer/step': 2, 'optimizer/momentum/a': [0, 0, 0] })).toThrow(
			/lacks 'optimizer\/momentum\/b'/
		);
		expect(() =>
			load({
				'optimizer/step': 2,
				'optimizer/momentum/a': [0, 0],
				'optimizer/momentum/b': [[0], [0]]
			})
		).toThrow(/'optimizer\/momentum\/a' has shape \[2\], expected \[3\]/);
		expect(() => load({ 'optimizer/step': 0, 'optimizer/adam_m/a': [0, 0, 0] })).toThrow(
			/does not use: optimizer\/adam_m\/a/
		);
	});

	it('leaves no tensor behind across steps', () => {
		variables = makeVariables();
		optimizer = createOptimizer({ optimizer: 'adam', momentum: 0.9, weightDecay: 0.1 }, variables);
		step(optimizer, 0, 0.1);
		const before = tf.memory().numTensors;
		step(optimizer, 1, 0.1);
		step(optimizer, 2, 0.1);
		expect(tf.memory().numTensors).toBe(before);
	});
});
