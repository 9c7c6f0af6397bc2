import { describe, expect, it } from 'vitest';
import { epochAt, epochPermutation, indicesForStep } from '../../../src/core/training/data-order';

/** The data stream of the first `steps` steps, concatenated. */
function stream(steps: number, batch: number, count: number, seed: number): number[] {
	const out: number[] = [];
	for (let step = 0; step < steps; step++) out.push(...indicesForStep(step, batch, count, seed));
	return out;
}

describe('data order', () => {
	it('visits every image exactly once per epoch', () => {
		const count = 1000;
		const order = stream(40, 50, count, 3);
		for (let epoch = 0; epoch < 2; epoch++) {
			const visited = order.slice(epoch * count, (epoch + 1) * count).sort((a, b) => a - b);
			expect(visited).toEqual(Array.from({ length: count }, (_, i) => i));
		}
	});

	it('shuffles: epochs differ from each other, from the identity and between seeds', () => {
		const count = 500;
		const first = Array.from(epochPermutation(0, count, 1));
		const second = Array.from(epochPermutation(1, count, 1));
		const otherSeed = Array.from(epochPermutation(0, count, 2));
		const agreeing = (a: number[], b: number[]) => a.filter((value, i) => value === b[i]).length;
		// A random permutation fixes about one point of another; a few dozen would mean no shuffle.
		expect(agreeing(first, second)).toBeLessThan(10);
		expect(agreeing(first, otherSeed)).toBeLessThan(10);
		expect(
			agreeing(
				first,
				Array.from({ length: count }, (_, i) => i)
			)
		).toBeLessThan(10);
	});

	it('spans epoch boundaries: a batch takes the end of one epoch and the start of the next', () => {
		const count = 10;
		const batch = 4;
		const epoch0 = Array.from(epochPermutation(0, count, 9));
		const epoch1 = Array.from(epochPermutation(1, count, 9));
		const epoch2 = Array.from(epochPermutation(2, count, 9));
		// Positions 8..11 and 28..31.
		expect(Array.from(indicesForStep(2, batch, count, 9))).toEqual([
			...epoch0.slice(8),
			...epoch1.slice(0, 2)
		]);
		expect(Array.from(indicesForStep(7, batch, count, 9))).toEqual([
			...epoch2.slice(8),
			...epochPermutation(3, count, 9).slice(0, 2)
		]);
	});

	it('handles a batch larger than the dataset by running through several epochs', () => {
		const indices = Array.from(indicesForStep(1, 7, 3, 5));
		// Positions 7..13: epoch 2 from offset 1, epoch 3 whole, the start of epoch 4.
		expect(indices).toEqual([
			...Array.from(epochPermutation(2, 3, 5)).slice(1),
			...epochPermutation(3, 3, 5),
			...Array.from(epochPermutation(4, 3, 5)).slice(0, 2)
		]);
		expect([...indices.slice(2, 5)].sort()).toEqual([0, 1, 2]);
	});

	it('is a pure function: a resumed run sees the same batch, regardless of what was asked before', () => {
		const direct = Array.from(indicesForStep(12345, 128, 105_000, 7));
		// Fill the permutation cache with other datasets and epochs first.
		indicesForStep(3, 128, 105_000, 8);
		indicesForStep(9000, 128, 105_000, 7);
		indicesForStep(0, 16, 50, 7);
		expect(Array.from(indicesForStep(12345, 128, 105_000, 7))).toEqual(direct);
		expect(direct.every((i) => Number.isInteger(i) && i >= 0 && i < 105_000)).toBe(true);
		// The caller owns the array: writing into it does not change later answers.
		const owned = indicesForStep(5, 8, 20, 1);
		const copy = Array.from(owned);
		owned.fill(-1);
		expect(Array.from(indicesForStep(5, 8, 20, 1))).toEqual(copy);
	});

	it('counts fractional epochs and refuses nonsense arguments', () => {
		expect(epochAt(0, 128, 105_000)).toBe(0);
		expect(epochAt(820, 128, 105_000)).toBeCloseTo(0.99962, 5);
		expect(epochAt(1000, 100, 1000)).toBe(100);
		expect(() => indicesForStep(-1, 4, 10, 0)).toThrow(/step/);
		expect(() => indicesForStep(0, 0, 10, 0)).toThrow(/batch/);
		expect(() => indicesForStep(0, 4, 0, 0)).toThrow(/count/);
	});
});
