import { describe, expect, it } from 'vitest';
import {
	averageRanks,
	exactPermutationLimit,
	kendallTauB,
	permutationTest,
	rankAgreement,
	spearman,
	summarise
} from '../../../src/core/studies/statistics';

/**
 * Reference values from scipy 1.17.1 (Debian), computed with
 *   stats.spearmanr(x, y).statistic, stats.kendalltau(x, y).statistic (τ-b), and
 *   stats.permutation_test((x,), lambda a: stat(a, y), permutation_type='pairings',
 *                          n_resamples=np.inf, alternative='two-sided').pvalue
 * (exact enumeration of all n! pairings), and pasted here as constants.
 */
const scipyCases = [
	{
		name: 'ties on one side (n = 4)',
		x: [1, 2, 3, 4],
		y: [1, 1, 2, 3],
		spearman: 0.9486832980505139,
		spearmanP: 0.16666666666666666,
		kendall: 0.9128709291752769,
		kendallP: 0.16666666666666666
	},
	{
		name: 'a study against the paper (n = 6)',
		x: [0.747, 0.68, 0.756, 0.772, 0.774, 0.701],
		y: [21.1, 5.0, 30.6, 35.2, 38.9, 33.4],
		spearman: 0.8285714285714287,
		spearmanP: 0.058333333333333334,
		kendall: 0.7333333333333333,
		kendallP: 0.05555555555555555
	},
	{
		name: 'ties in our means (n = 7)',
		x: [0.7, 0.72, 0.72, 0.75, 0.71, 0.69, 0.8],
		y: [21.1, 5.0, 30.6, 35.2, 38.9, 33.4, 43.4],
		spearman: 0.396412483586046,
		spearmanP: 0.38333333333333336,
		kendall: 0.29277002188455997,
		kendallP: 0.4626984126984127
	},
	{
		name: 'weak agreement (n = 8, the exact limit)',
		x: [3.1, 1.2, 5.5, 4.4, 2.0, 6.7, 7.1, 0.5],
		y: [2, 1, 6, 3, 5, 4, 8, 7],
		spearman: 0.30952380952380953,
		spearmanP: 0.4618055555555556,
		kendall: 0.2857142857142857,
		kendallP: 0.39875992063492066
	}
];

describe('summaries over repeats', () => {
	it('gives the mean, the sample sd (n − 1) and n, ignoring non-finite values', () => {
		// Hand-worked: mean 0.7, deviations ±0.02 and 0 → variance 0.0008/2 → sd 0.02.
		const summary = summarise([0.68, 0.7, 0.72, Number.NaN]);
		expect(summary.n).toBe(3);
		expect(summary.mean).toBeCloseTo(0.7, 12);
		expect(summary.sd).toBeCloseTo(0.02, 12);
	});

	it('has no spread for one value and nothing for none', () => {
		expect(summarise([0.5])).toEqual({ mean: 0.5, sd: null, n: 1 });
		expect(summarise([])).toEqual({ mean: null, sd: null, n: 0 });
	});
});

describe('rank correlations', () => {
	it('ranks ties by the average of the ranks they span', () => {
		expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
	});

	it('matches hand-worked values', () => {
		// Ranks of y = [1.5, 1.5, 3, 4]: Σdxdy = 4.5, Σdx² = 5, Σdy² = 4.5 → ρ = 3/√10.
		expect(spearman([1, 2, 3, 4], [1, 1, 2, 3])).toBeCloseTo(3 / Math.sqrt(10), 12);
		// Five concordant pairs, one tied in y: τ-b = 5 / √(5 · 6).
		expect(kendallTauB([1, 2, 3, 4], [1, 1, 2, 3])).toBeCloseTo(5 / Math.sqrt(30), 12);
		expect(spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
		expect(kendallTauB([1, 2, 3], [1, 2, 3])).toBe(1);
	});

	it('is undefined when one side is constant', () => {
		expect(spearman([1, 2, 3], [4, 4, 4])).toBeNaN();
		expect(kendallTauB([1, 2, 3], [4, 4, 4])).toBeNaN();
		expect(permutationTest(spearman, [1, 2, 3], [4, 4, 4])).toMatchObject({ value: null, p: null });
	});

	it.each(scipyCases)('matches scipy: $name', (testCase) => {
		const { spearman: rho, kendall: tau } = rankAgreement(testCase.x, testCase.y);
		expect(rho.method).toBe('exact');
		expect(rho.n).toBe(testCase.x.length);
		expect(rho.value).toBeCloseTo(testCase.spearman, 12);
		expect(rho.p).toBeCloseTo(testCase.spearmanP, 12);
		expect(tau.value).toBeCloseTo(testCase.kendall, 12);
		expect(tau.p).toBeCloseTo(testCase.kendallP, 12);
	});

	it('matches scipy’s statistics on the paper template’s 14 sources', () => {
		const x = [
			0.68, 0.747, 0.771, 0.773, 0.774, 0.78, 0.756, 0.76, 0.765, 0.77, 0.75, 0.779, 0.782, 0.785
		];
		const y = [5.0, 21.1, 35.2, 37.4, 38.9, 40.9, 30.6, 31.4, 36.7, 39.9, 33.4, 42.1, 42.0, 43.4];
		expect(spearman(x, y)).toBeCloseTo(0.9384615384615385, 12);
		expect(kendallTauB(x, y)).toBeCloseTo(0.8241758241758242, 12);
	});

	it('gives the exact p of a perfect ranking by hand: 2 of n! pairings are as extreme', () => {
		// n = 4: only the identity reaches ρ = 1, so each tail holds 1/24 and p = 2/24.
		const test = permutationTest(spearman, [1, 2, 3, 4], [10, 20, 30, 40]);
		expect(test.p).toBeCloseTo(1 / 12, 12);
		expect(test.method).toBe('exact');
	});

	it('draws seeded Monte Carlo pairings beyond the exact limit, close to the exact p', () => {
		const x = [3.1, 1.2, 5.5, 4.4, 2.0, 6.7, 7.1, 0.5, 8.2];
		const y = [2, 1, 6, 3, 5, 4, 8, 7, 9];
		expect(x.length).toBeGreaterThan(exactPermutationLimit);
		const first = permutationTest(spearman, x, y, { seed: 7 });
		const again = permutationTest(spearman, x, y, { seed: 7 });
		expect(first.method).toBe('monte-carlo');
		expect(first.resamples).toBe(20_000);
		expect(again.p).toBe(first.p);
		// scipy, exact over all 9! pairings: 0.16180004409171075.
		expect(first.p).toBeGreaterThan(0.16180004409171075 - 0.015);
		expect(first.p).toBeLessThan(0.16180004409171075 + 0.015);
		expect(first.value).toBeCloseTo(spearman(x, y), 12);
	});
});
