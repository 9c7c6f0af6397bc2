import { describe, expect, it } from 'vitest';
import { accuracy, confusionMatrix, gapClosed } from '../../../src/core/evaluation/metrics';

describe('gapClosed', () => {
	it('is (noise − random) / (real − random)', () => {
		expect(gapClosed(0.5, 0.3, 0.7)).toBeCloseTo(0.5, 12);
		expect(gapClosed(0.3, 0.3, 0.7)).toBe(0);
		expect(gapClosed(0.7, 0.3, 0.7)).toBe(1);
		// A noise encoder worse than random init, or better than real data.
		expect(gapClosed(0.2, 0.3, 0.7)).toBeCloseTo(-0.25, 12);
		expect(gapClosed(0.8, 0.3, 0.7)).toBeCloseTo(1.25, 12);
		expect(gapClosed(38.6, 14.2, 62.6)).toBeCloseTo(24.4 / 48.4, 12);
	});

	it('is null when there is no gap to close or an input is not a number', () => {
		expect(gapClosed(0.5, 0.4, 0.4)).toBeNull();
		expect(gapClosed(0.5, 0.6, 0.4)).toBeNull();
		expect(gapClosed(Number.NaN, 0.3, 0.7)).toBeNull();
		expect(gapClosed(0.5, 0.3, Number.POSITIVE_INFINITY)).toBeNull();
	});
});

describe('confusionMatrix', () => {
	it('counts true class by row and prediction by column', () => {
		const predicted = Int32Array.from([0, 1, 1, 2, 2, 2, 0]);
		const labels = Int32Array.from([0, 1, 2, 2, 2, 0, 0]);
		expect([...confusionMatrix(predicted, labels, 3)]).toEqual([2, 0, 1, 0, 1, 0, 0, 1, 2]);
		expect(accuracy(predicted, labels)).toBeCloseTo(5 / 7, 12);
	});

	it('handles an empty set and rejects mismatched or out-of-range input', () => {
		expect([...confusionMatrix(new Int32Array(0), new Int32Array(0), 2)]).toEqual([0, 0, 0, 0]);
		expect(accuracy(new Int32Array(0), new Int32Array(0))).toBe(0);
		expect(() => confusionMatrix(Int32Array.from([0]), Int32Array.from([0, 1]), 2)).toThrow(
			/1 predictions for 2 labels/
		);
		expect(() => confusionMatrix(Int32Array.from([2]), Int32Array.from([0]), 2)).toThrow(
			/prediction 2/
		);
		expect(() => confusionMatrix(Int32Array.from([0]), Int32Array.from([-1]), 2)).toThrow(
			/label -1/
		);
		expect(() => accuracy(Int32Array.from([0]), new Int32Array(0))).toThrow(RangeError);
	});
});
