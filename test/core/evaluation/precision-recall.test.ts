import { describe, expect, it } from 'vitest';
import {
	improvedPrecisionRecall,
	kNearestSquaredRadii,
	manifoldCoverage
} from '../../../src/core/evaluation/precision-recall';

/** Rows as one flat Float32Array. */
function flat(points: number[][]): Float32Array {
	return Float32Array.from(points.flat());
}

/** The LCG of scripts/reference/precision_recall.py: 23-bit outputs, exact in float32. */
function* lcg(seed: number): Generator<number> {
	let state = BigInt(seed);
	for (;;) {
		state = (state * 1103515245n + 12345n) % 2n ** 31n;
		yield Number(state >> 8n) / 2 ** 23;
	}
}

function uniformPoints(seed: number, count: number, dim: number, offset = 0): Float32Array {
	const draw = lcg(seed);
	const values = new Float32Array(count * dim);
	for (let i = 0; i < values.length; i++) values[i] = offset + (draw.next().value as number);
	return values;
}

function clusters(
	seed: number,
	centres: number[],
	perCluster: number,
	dim: number,
	spread: number
): Float32Array {
	const draw = lcg(seed);
	const values: number[] = [];
	for (const centre of centres) {
		for (let i = 0; i < perCluster * dim; i++) {
			values.push(centre + spread * ((draw.next().value as number) - 0.5));
		}
	}
	return Float32Array.from(values);
}

describe('improved precision and recall on sets with known answers', () => {
	const blob = flat([
		[0, 0],
		[1, 0],
		[0, 1],
		[1, 1],
		[0.5, 0.5],
		[0.2, 0.7]
	]);

	it('gives 1 and 1 for identical sets', async () => {
		const result = await improvedPrecisionRecall(blob, blob.slice(), 2);
		expect(result).toEqual({ precision: 1, recall: 1, k: 3, realCount: 6, generatedCount: 6 });
	});

	it('gives 1 and 1 for identical sets with duplicate points (zero radii)', async () => {
		const duplicated = flat([
			[2, 2],
			[2, 2],
			[2, 2],
			[2, 2],
			[5, 5]
		]);
		expect(await improvedPrecisionRecall(duplicated, duplicated, 2)).toMatchObject({
			precision: 1,
			recall: 1
		});
	});

	it('gives 0 and 0 for disjoint sets far apart', async () => {
		const far = blob.map((value) => value + 100);
		expect(await improvedPrecisionRecall(blob, far, 2)).toMatchObject({ precision: 0, recall: 0 });
	});

	it('gives high precision and low recall when the generated set covers part of the real one', async () => {
		// Real: two well-separated clusters; generated: a dense sample of the first only.
		const real = clusters(11, [0, 10], 30, 3, 1);
		const generated = clusters(12, [0], 30, 3, 1);
		const { precision, recall } = await improvedPrecisionRecall(real, generated, 3);
		expect(precision).toBeGreaterThan(0.8);
		expect(recall).toBeLessThanOrEqual(0.5);
		expect(recall).toBeGreaterThan(0.2);
	});

	it('swaps precision and recall when the sets swap roles', async () => {
		const a = uniformPoints(1, 40, 3);
		const b = uniformPoints(2, 30, 3, 0.3);
		const ab = await improvedPrecisionRecall(a, b, 3);
		const ba = await improvedPrecisionRecall(b, a, 3);
		expect(ab.precision).toBe(ba.recall);
		expect(ab.recall).toBe(ba.precision);
	});

	it('counts a point exactly on a ball’s boundary as inside (distance ≤ radius)', async () => {
		// Real points on a line at 0, 1, 2, 3: with k = 1 every radius is 1.
		const real = flat([[0], [1], [2], [3]]);
		expect(Array.from(await kNearestSquaredRadii(real, 1, 1))).toEqual([1, 1, 1, 1]);
		expect(
			await manifoldCoverage(flat([[4], [4.5]]), real, new Float64Array([1, 1, 1, 1]), 1)
		).toBe(0.5);
	});
});

describe('improved precision and recall against the numpy reference', () => {
	// Counts printed by scripts/reference/precision_recall.py (numpy 1.24, float64).
	const cubes = { real: uniformPoints(1, 120, 4), generated: uniformPoints(2, 90, 4, 0.5) };
	const cases = [
		{ name: 'overlapping cubes, k=3', ...cubes, k: 3, precision: 17 / 90, recall: 31 / 120 },
		{ name: 'overlapping cubes, k=1', ...cubes, k: 1, precision: 5 / 90, recall: 16 / 120 },
		{ name: 'overlapping cubes, k=5', ...cubes, k: 5, precision: 24 / 90, recall: 36 / 120 },
		{
			name: 'two of three clusters, k=3',
			real: clusters(3, [0, 4, 8], 40, 16, 1),
			generated: clusters(4, [0, 4], 50, 16, 1),
			k: 3,
			precision: 86 / 100,
			recall: 71 / 120
		}
	];
	for (const { name, real, generated, k, precision, recall } of cases) {
		it(name, async () => {
			const dim = name.startsWith('two') ? 16 : 4;
			const result = await improvedPrecisionRecall(real, generated, dim, { k });
			expect(result.precision).toBe(precision);
			expect(result.recall).toBe(recall);
		});
	}
});

describe('improved precision and recall: inputs and progress', () => {
	it('refuses sets with no more points than k, naming both', async () => {
		const three = flat([[0], [1], [2]]);
		await expect(improvedPrecisionRecall(three, flat([[0], [1], [2], [3]]), 1)).rejects.toThrow(
			/k = 3 need more than 3 points; got 3/
		);
	});

	it('refuses rows that do not divide the features', async () => {
		await expect(
			improvedPrecisionRecall(new Float32Array(7), new Float32Array(8), 2)
		).rejects.toThrow(/7 values is not a whole number of 2-d rows/);
	});

	it('reports progress up to the total and stops when cancelled', async () => {
		const points = uniformPoints(5, 300, 2);
		const reported: [number, number][] = [];
		await improvedPrecisionRecall(points, points, 2, {
			onProgress: (done, total) => void reported.push([done, total])
		});
		expect(reported.at(-1)).toEqual([1200, 1200]);
		expect(reported.every(([, total]) => total === 1200)).toBe(true);
		const signal = { aborted: true };
		await expect(improvedPrecisionRecall(points, points, 2, { signal })).rejects.toThrow(
			/cancelled/
		);
	});
});
