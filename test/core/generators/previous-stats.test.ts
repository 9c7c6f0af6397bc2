/**
 * Where a generator's new version changed only rounding (same maths, faster sums), its images
 * must keep the statistics the paper cares about: the same samples, drawn by the previous
 * version (previous-stats.json, written by scripts/previous-generator-stats.ts), and by this
 * one, give the same spectrum slope, band-pass kurtosis and channel moments.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/core/generators/registry';
import { imageStatistics, previousStatsCases } from './previous-stats';

interface StoredCase {
	preset: string;
	size: number;
	seed: number;
	index: number;
	version: number;
	slope: number;
	kurtosis: number[];
	means: number[];
	stds: number[];
}

const stored = JSON.parse(
	fs.readFileSync(path.join(import.meta.dirname, 'previous-stats.json'), 'utf8')
) as { baseline: string; cases: StoredCase[] };

describe('statistics against the previous version', () => {
	it('covers the cases the fixture script draws', () => {
		expect(
			stored.cases.map(({ preset, size, seed, index }) => ({ preset, size, seed, index }))
		).toEqual(previousStatsCases);
	});

	for (const before of stored.cases) {
		it(`${before.preset} image ${before.index}: slope, kurtosis and channel moments as version ${before.version} drew them`, async () => {
			const resolved = resolveConfig({ preset: before.preset, size: before.size });
			if (!resolved.ok) throw new Error(resolved.message);
			const { generator, params } = resolved.value;
			expect(generator.version).toBeGreaterThan(before.version);
			const now = imageStatistics(
				await generator.generate(params, before.seed, before.index, before.size)
			);
			expect(Math.abs(now.slope - before.slope)).toBeLessThan(0.01);
			now.kurtosis.forEach((value, level) =>
				expect(Math.abs(value - (before.kurtosis[level] as number))).toBeLessThan(
					0.01 * (before.kurtosis[level] as number)
				)
			);
			// The statistical models' ten rounds of binned histogram matching and their final min-max
			// turn rounding differences into mean shifts of a few hundredths of a grey level.
			const meanTolerance = before.preset.startsWith('stat-') ? 0.1 : 0.05;
			for (let c = 0; c < 3; c++) {
				expect(Math.abs((now.means[c] as number) - (before.means[c] as number))).toBeLessThan(
					meanTolerance
				);
				expect(Math.abs((now.stds[c] as number) - (before.stds[c] as number))).toBeLessThan(0.05);
			}
		});
	}
});
