/**
 * The statistics of a study: mean and sample standard deviation over repeats, and how well our
 * ranking of sources agrees with the paper's (Spearman's ρ and Kendall's τ-b, each with a
 * permutation p-value). Pure and platform-free; the Monte Carlo test draws from the seeded
 * {@link Random}, so the same data give the same p-value everywhere.
 */
import { Random } from '../generators/random';

/** Mean, sample standard deviation (n − 1) and count of finite values; null figures when empty. */
export interface Summary {
	mean: number | null;
	/** Null for fewer than two values: one repeat says nothing about the spread. */
	sd: number | null;
	n: number;
}

/** Summarises values, ignoring non-finite ones (a diverged run has no accuracy). */
export function summarise(values: readonly number[]): Summary {
	const finite = values.filter((value) => Number.isFinite(value));
	const n = finite.length;
	if (n === 0) return { mean: null, sd: null, n };
	const mean = finite.reduce((sum, value) => sum + value, 0) / n;
	if (n < 2) return { mean, sd: null, n };
	const squares = finite.reduce((sum, value) => sum + (value - mean) ** 2, 0);
	return { mean, sd: Math.sqrt(squares / (n - 1)), n };
}

/** Ranks 1..n with ties given the average of the ranks they span (as scipy's `rankdata`). */
export function averageRanks(values: readonly number[]): number[] {
	const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
	const ranks = new Array<number>(values.length).fill(0);
	let start = 0;
	while (start < order.length) {
		let end = start;
		while (end + 1 < order.length && order[end + 1]?.value === order[start]?.value) end++;
		const rank = (start + end) / 2 + 1;
		for (let k = start; k <= end; k++) ranks[(order[k] as { index: number }).index] = rank;
		start = end + 1;
	}
	return ranks;
}

function pearson(x: readonly number[], y: readonly number[]): number {
	const n = x.length;
	const mx = x.reduce((s, v) => s + v, 0) / n;
	const my = y.reduce((s, v) => s + v, 0) / n;
	let sxy = 0;
	let sxx = 0;
	let syy = 0;
	for (let i = 0; i < n; i++) {
		const dx = (x[i] as number) - mx;
		const dy = (y[i] as number) - my;
		sxy += dx * dy;
		sxx += dx * dx;
		syy += dy * dy;
	}
	return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson's correlation of the average ranks. NaN when either side is constant. */
export function spearman(x: readonly number[], y: readonly number[]): number {
	assertPaired(x, y);
	return pearson(averageRanks(x), averageRanks(y));
}

/** Kendall's τ-b, which corrects for ties on either side (scipy's default). NaN when undefined. */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
	assertPaired(x, y);
	let concordant = 0;
	let discordant = 0;
	let tiedX = 0;
	let tiedY = 0;
	for (let i = 0; i < x.length; i++) {
		for (let j = i + 1; j < x.length; j++) {
			const dx = Math.sign((x[i] as number) - (x[j] as number));
			const dy = Math.sign((y[i] as number) - (y[j] as number));
			if (dx === 0 && dy === 0) continue;
			if (dx === 0) tiedX++;
			else if (dy === 0) tiedY++;
			else if (dx === dy) concordant++;
			else discordant++;
		}
	}
	const denominator = Math.sqrt(
		(concordant + discordant + tiedX) * (concordant + discordant + tiedY)
	);
	return denominator === 0 ? Number.NaN : (concordant - discordant) / denominator;
}

function assertPaired(x: readonly number[], y: readonly number[]): void {
	if (x.length !== y.length) {
		throw new RangeError(`Paired values need equal lengths; got ${x.length} and ${y.length}.`);
	}
}

/** A correlation with its permutation test. */
export interface CorrelationTest {
	/** The statistic; null when undefined (fewer than 3 pairs, or a constant side). */
	value: number | null;
	/** Two-sided permutation p-value; null when the statistic is undefined. */
	p: number | null;
	n: number;
	/** `exact`: every pairing enumerated; `monte-carlo`: `resamples` seeded random pairings. */
	method: 'exact' | 'monte-carlo' | null;
	resamples: number | null;
}

/** Up to this many pairs the test enumerates all n! pairings (8! = 40,320). */
export const exactPermutationLimit = 8;
/** Random pairings drawn beyond {@link exactPermutationLimit}. */
export const monteCarloResamples = 20_000;

/**
 * A two-sided permutation test of a correlation statistic: `y` is re-paired with `x` in every
 * order (small n) or in `resamples` seeded random orders. The p-value follows scipy's
 * `permutation_test`: twice the smaller tail, at most 1; Monte Carlo tails count the observed
 * pairing as one of the resamples, so p is never 0.
 */
export function permutationTest(
	statistic: (x: readonly number[], y: readonly number[]) => number,
	x: readonly number[],
	y: readonly number[],
	options: { seed?: number; resamples?: number } = {}
): CorrelationTest {
	assertPaired(x, y);
	const n = x.length;
	const observed = n < 3 ? Number.NaN : statistic(x, y);
	if (!Number.isFinite(observed)) {
		return { value: null, p: null, n, method: null, resamples: null };
	}
	// scipy's tolerance: statistics within a relative 1e-14 of the observed one count as equal.
	const tolerance = Math.abs(observed) * 1e-14 + 1e-15;
	let atLeast = 0;
	let atMost = 0;
	let total = 0;
	const count = (value: number) => {
		if (value >= observed - tolerance) atLeast++;
		if (value <= observed + tolerance) atMost++;
		total++;
	};
	if (n <= exactPermutationLimit) {
		forEachPermutation([...y], (permuted) => count(statistic(x, permuted)));
		const p = Math.min(1, (2 * Math.min(atLeast, atMost)) / total);
		return { value: observed, p, n, method: 'exact', resamples: null };
	}
	const resamples = options.resamples ?? monteCarloResamples;
	const random = new Random(options.seed ?? 0, n);
	const permuted = [...y];
	for (let r = 0; r < resamples; r++) {
		shuffle(permuted, random);
		count(statistic(x, permuted));
	}
	const p = Math.min(1, (2 * (Math.min(atLeast, atMost) + 1)) / (resamples + 1));
	return { value: observed, p, n, method: 'monte-carlo', resamples };
}

/** Calls `visit` with every ordering of `values` (Heap's algorithm, in place). */
function forEachPermutation(values: number[], visit: (values: readonly number[]) => void): void {
	const c = new Array<number>(values.length).fill(0);
	visit(values);
	let i = 1;
	while (i < values.length) {
		if ((c[i] as number) < i) {
			const j = i % 2 === 0 ? 0 : (c[i] as number);
			[values[j], values[i]] = [values[i] as number, values[j] as number];
			visit(values);
			c[i] = (c[i] as number) + 1;
			i = 1;
		} else {
			c[i] = 0;
			i++;
		}
	}
}

/** Fisher–Yates with the seeded generator. */
function shuffle(values: number[], random: Random): void {
	for (let i = values.length - 1; i > 0; i--) {
		const j = random.int(i + 1);
		[values[i], values[j]] = [values[j] as number, values[i] as number];
	}
}

/** Spearman's ρ and Kendall's τ-b of paired values, each with its permutation test. */
export function rankAgreement(
	x: readonly number[],
	y: readonly number[],
	seed = 0
): { spearman: CorrelationTest; kendall: CorrelationTest } {
	return {
		spearman: permutationTest(spearman, x, y, { seed }),
		kendall: permutationTest(kendallTauB, x, y, { seed })
	};
}
