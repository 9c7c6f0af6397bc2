import { describe, expect, it } from 'vitest';
import { featureStatistics, standardizeInPlace } from '../../../src/core/evaluation/standardize';

describe('feature standardisation', () => {
	it('gives every column mean 0 and std 1 on the data it was fitted on, whatever its scale', () => {
		// Column 0 at the 1e-5 scale of an untrained encoder's fc6, column 1 at ordinary scale.
		const features = new Float32Array([1e-5, 10, 3e-5, 14, 2e-5, 12, 4e-5, 16]);
		const statistics = featureStatistics(features, 2);
		expect(statistics.mean[0]).toBeCloseTo(2.5e-5, 10);
		expect(statistics.mean[1]).toBeCloseTo(13, 5);
		standardizeInPlace(features, 2, statistics);
		for (const column of [0, 1]) {
			const values = [0, 1, 2, 3].map((row) => features[row * 2 + column] as number);
			const mean = values.reduce((a, b) => a + b) / 4;
			const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
			expect(mean).toBeCloseTo(0, 5);
			expect(variance).toBeCloseTo(1, 4);
		}
	});

	it('leaves a constant column centred but unscaled, and applies training statistics to new rows', () => {
		const train = new Float32Array([5, 1, 5, 3]);
		const statistics = featureStatistics(train, 2);
		expect(statistics.std[0]).toBe(1);
		const test = new Float32Array([7, 2]);
		standardizeInPlace(test, 2, statistics);
		expect(Array.from(test)).toEqual([2, 0]);
	});
});
