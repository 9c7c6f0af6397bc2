import { describe, expect, it } from 'vitest';
import { evaluateParamsSchema } from '../../src/core/api/evaluation';
import {
	describeProbe,
	formatAccuracy,
	formatDuration,
	formatGapClosed
} from '../../src/core/format';

describe('formatDuration', () => {
	it('uses seconds, minutes or hours as the size calls for', () => {
		expect(formatDuration(0.4)).toBe('0 s');
		expect(formatDuration(59.4)).toBe('59 s');
		expect(formatDuration(185)).toBe('3 min 05 s');
		expect(formatDuration(7620)).toBe('2 h 07 min');
	});

	it('says ? for what is not a duration', () => {
		expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('?');
		expect(formatDuration(Number.NaN)).toBe('?');
		expect(formatDuration(-1)).toBe('?');
	});
});

describe('the one formatter of accuracies, gaps closed and probe settings', () => {
	it('writes accuracies with one decimal and gaps closed as whole percentages', () => {
		expect(formatAccuracy(0.8123)).toBe('81.2%');
		expect(formatAccuracy(null)).toBe('—');
		expect(formatGapClosed(0.46)).toBe('46%');
		expect(formatGapClosed(-0.25)).toBe('−25%');
		expect(formatGapClosed(null)).toBe('—');
	});

	it('says how an accuracy was probed', () => {
		const params = evaluateParamsSchema.parse({ runId: 1, dataset: 'x', layer: 'fc6' });
		expect(describeProbe(params)).toBe(
			'linear probe, fc6, 100 epochs, 4 views, standardised, seed 0'
		);
		expect(
			describeProbe({ ...params, protocol: 'knn', standardize: false, maxTrain: 500, seed: 3 })
		).toBe('kNN k = 20, 200, fc6, raw features, at most 500 training images, seed 3');
	});
});
