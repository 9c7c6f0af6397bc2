import { describe, expect, it } from 'vitest';
import {
	diagnoseImages,
	kurtosis,
	symmetricEigenvalues3
} from '../../src/core/diagnostics/diagnostics';
import { whiteNoise } from '../../src/core/generators/controls';
import { Fft2d } from '../../src/core/generators/fft2d';
import { createImage, planesToImage, type RgbImage } from '../../src/core/generators/image';
import { Random } from '../../src/core/generators/random';

/** A grey image whose amplitude spectrum falls as 1/f^amplitudeSlope, with random phase. */
function powerLawImage(size: number, amplitudeSlope: number, seed: number): RgbImage {
	const random = new Random(seed);
	const re = new Float64Array(size * size);
	const im = new Float64Array(size * size);
	for (let v = 0; v < size; v++) {
		for (let u = 0; u < size; u++) {
			const fy = v <= size / 2 ? v : v - size;
			const fx = u <= size / 2 ? u : u - size;
			const f = Math.hypot(fx, fy);
			const amplitude = f === 0 ? 0 : f ** -amplitudeSlope;
			const phase = random.range(0, 2 * Math.PI);
			re[v * size + u] = amplitude * Math.cos(phase);
			im[v * size + u] = amplitude * Math.sin(phase);
		}
	}
	new Fft2d(size).inverse(re, im);
	return planesToImage([re, re, re], size);
}

describe('dataset diagnostics', () => {
	it('measures the power-spectrum slope of 1/f^a images as about 2a', () => {
		for (const a of [0.5, 1, 1.5]) {
			const images = [1, 2, 3, 4].map((seed) => powerLawImage(64, a, seed));
			const { spectrum } = diagnoseImages(images);
			expect(Math.abs(spectrum.slopeMean - 2 * a), `a=${a}: ${spectrum.slopeMean}`).toBeLessThan(
				0.3
			);
		}
	});

	it('finds white noise flat, Gaussian-like and diverse', async () => {
		const images = await Promise.all(
			[0, 1, 2, 3, 4, 5].map((index) => whiteNoise.generate({}, 1, index, 64))
		);
		const report = diagnoseImages(images);
		expect(Math.abs(report.spectrum.slopeMean)).toBeLessThan(0.3);
		for (const value of report.sparsity.kurtosis) expect(Math.abs(value - 3)).toBeLessThan(0.6);
		expect(report.diversity.duplicateRate).toBe(0);
		expect(report.diversity.meanDistance).toBeGreaterThan(0.01);
		const total = report.colour.histograms[0].reduce((a, b) => a + b, 0);
		expect(total).toBeCloseTo(1, 6);
		expect(report.colour.effectiveColours).toBeGreaterThan(1000);
	});

	it('finds identical images to be duplicates with one colour', () => {
		const flat = createImage(32);
		flat.data.fill(100);
		const report = diagnoseImages([flat, flat, flat]);
		expect(report.diversity).toEqual({ meanDistance: 0, duplicateRate: 1, pairs: 3 });
		expect(report.colour.effectiveColours).toBeCloseTo(1, 6);
		expect(report.colour.pcaSpread[0]).toBeCloseTo(0, 9);
	});

	it('computes kurtosis and 3×3 eigenvalues correctly', () => {
		expect(kurtosis([1, -1, 1, -1])).toBeCloseTo(1, 9);
		expect(kurtosis([0, 0, 0, 0, 0, 0, 0, 10])).toBeCloseTo(6 + 1 / 7, 6);
		const values = symmetricEigenvalues3([2, 1, 0, 1, 2, 0, 0, 0, 5]);
		expect(values[0]).toBeCloseTo(5, 9);
		expect(values[1]).toBeCloseTo(3, 9);
		expect(values[2]).toBeCloseTo(1, 9);
	});
});
