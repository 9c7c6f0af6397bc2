import { describe, expect, it } from 'vitest';
import { Fft2d } from '../../../src/core/generators/fft2d';
import { defaultParams } from '../../../src/core/generators/params';
import { Random } from '../../../src/core/generators/random';
import {
	correlate,
	generateStatistical,
	HistogramTarget,
	principalAxes,
	pyramidFor,
	pyramidScalesFor,
	sampleColourModel,
	sampleStatisticalModel,
	startingPlanes,
	statistical,
	statisticalParams,
	statisticalPresets,
	statisticalTexture,
	SteerablePyramid,
	synthesizeStatisticalPlanes,
	type StatisticalParams
} from '../../../src/core/generators/statistical';
import { imposeBandMarginal } from '../../../src/core/generators/statistical/wavelet-marginal';

function presetParams(name: string, overrides: Partial<StatisticalParams> = {}): StatisticalParams {
	const preset = statisticalPresets.find((candidate) => candidate.name === name);
	if (!preset) throw new Error(`no preset ${name}`);
	return {
		...defaultParams(statisticalParams),
		...preset.params,
		...overrides
	} as StatisticalParams;
}

function sampleMoments(values: Float64Array): { mean: number; std: number } {
	let sum = 0;
	for (const value of values) sum += value;
	const mean = sum / values.length;
	let squares = 0;
	for (const value of values) squares += (value - mean) ** 2;
	return { mean, std: Math.sqrt(squares / (values.length - 1)) };
}

/** The plain MATLAB loop, one channel at a time, converting domains at every step, no shortcuts. */
function referencePlanes(params: StatisticalParams, seed: number, index: number, size: number) {
	const model = sampleStatisticalModel(params, seed, index, size);
	const n = model.synthesisSize;
	const fft = new Fft2d(n);
	const planes = startingPlanes(seed, index, n);
	const pyramid = model.wavelets ? new SteerablePyramid(n, model.scales) : null;
	planes.forEach((plane, channel) => {
		for (let iteration = 0; iteration < params.iterations; iteration++) {
			if (model.spectrum) {
				const { mean, std } = sampleMoments(plane);
				const re = plane.map((value) => value - mean);
				const im = new Float64Array(n * n);
				fft.forward(re, im);
				for (let i = 0; i < re.length; i++) {
					const phase = Math.atan2(im[i] as number, re[i] as number);
					const amplitude = model.spectrum.amplitude[i] as number;
					re[i] = amplitude * Math.cos(phase);
					im[i] = amplitude * Math.sin(phase);
				}
				fft.inverse(re, im);
				const moments = sampleMoments(re);
				for (let i = 0; i < re.length; i++) {
					plane[i] = (((re[i] as number) - moments.mean) / moments.std) * std + mean;
				}
			}
			if (pyramid && model.wavelets) {
				const marginals = model.wavelets[channel] ?? [];
				const re = Float64Array.from(plane);
				const im = new Float64Array(n * n);
				fft.forward(re, im);
				pyramid.process(re, im, (bandRe, _bandIm, bandSize, band) =>
					imposeBandMarginal(bandRe, bandSize * bandSize, marginals[band] as never)
				);
				fft.inverse(re, im);
				plane.set(re);
			}
			if (params.imposeColour && model.colour) {
				(model.colour.histograms[channel] as HistogramTarget).match(plane, plane.length);
			}
		}
	});
	if (params.correlateChannels && model.colour) {
		correlate(planes, model.colour.basis, model.colour.mean);
	}
	return planes;
}

function maxRelativeDifference(a: Float64Array[], b: Float64Array[]): number {
	let difference = 0;
	let scale = 0;
	a.forEach((plane, c) => {
		const other = b[c] as Float64Array;
		for (let i = 0; i < plane.length; i++) {
			difference = Math.max(difference, Math.abs((plane[i] as number) - (other[i] as number)));
			scale = Math.max(scale, Math.abs(plane[i] as number));
		}
	});
	return difference / scale;
}

/** Mean of the three channels of an image, as floats. */
function luminance(data: Uint8Array, size: number): Float64Array {
	const plane = new Float64Array(size * size);
	for (let i = 0; i < plane.length; i++) {
		plane[i] =
			((data[3 * i] as number) + (data[3 * i + 1] as number) + (data[3 * i + 2] as number)) / 3;
	}
	return plane;
}

/** |DFT| of a plane, unshifted. */
function amplitudeSpectrum(plane: Float64Array, size: number): Float64Array {
	const re = Float64Array.from(plane);
	const im = new Float64Array(size * size);
	new Fft2d(size).forward(re, im);
	return re.map((value, i) => Math.hypot(value, im[i] as number));
}

function frequencyOf(k: number, size: number): number {
	return k < size / 2 ? k : k - size;
}

/** Least-squares slope of −log(amplitude) against log(frequency). */
function fitSlope(points: Array<[number, number]>): number {
	const xs = points.map(([f]) => Math.log(f));
	const ys = points.map(([, a]) => -Math.log(a));
	const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
	const my = ys.reduce((s, y) => s + y, 0) / ys.length;
	let sxy = 0;
	let sxx = 0;
	xs.forEach((x, i) => {
		sxy += (x - mx) * ((ys[i] as number) - my);
		sxx += (x - mx) ** 2;
	});
	return sxy / sxx;
}

/** Slope of the radially averaged amplitude over integer radii low…high. */
function radialSlope(amplitude: Float64Array, size: number, low: number, high: number): number {
	const sums = new Float64Array(high + 1);
	const counts = new Float64Array(high + 1);
	for (let row = 0; row < size; row++) {
		for (let col = 0; col < size; col++) {
			const radius = Math.round(Math.hypot(frequencyOf(row, size), frequencyOf(col, size)));
			if (radius < low || radius > high) continue;
			sums[radius] = (sums[radius] as number) + (amplitude[row * size + col] as number);
			counts[radius] = (counts[radius] as number) + 1;
		}
	}
	const points: Array<[number, number]> = [];
	for (let r = low; r <= high; r++) points.push([r, (sums[r] as number) / (counts[r] as number)]);
	return fitSlope(points);
}

/** Slope along one frequency axis (±f on it, f = low…high). */
function axisSlope(
	amplitude: Float64Array,
	size: number,
	axis: 'x' | 'y',
	low: number,
	high: number
): number {
	const points: Array<[number, number]> = [];
	for (let f = low; f <= high; f++) {
		const at = (k: number) => (axis === 'x' ? k : k * size);
		const mean = ((amplitude[at(f)] as number) + (amplitude[at(size - f)] as number)) / 2;
		points.push([f, mean]);
	}
	return fitSlope(points);
}

function kurtosis(values: Float64Array): number {
	const { mean, std } = sampleMoments(values);
	let fourth = 0;
	for (const value of values) fourth += ((value - mean) / std) ** 4;
	return fourth / values.length;
}

describe('real-input FFT', () => {
	it('gives a real plane the full spectrum the complex forward transform gives it', () => {
		for (const size of [2, 4, 16, 128]) {
			const random = new Random(size, 1);
			const image = Float64Array.from({ length: size * size }, () => 256 * random.uniform());
			const fft = new Fft2d(size);
			const full = { re: image.slice(), im: new Float64Array(size * size) };
			fft.forward(full.re, full.im);
			const re = image.slice();
			const im = new Float64Array(size * size).fill(Number.NaN); // ignored on the way in
			fft.forwardReal(re, im);
			const scale = 256 * size * size;
			for (let i = 0; i < image.length; i++) {
				expect(Math.abs((re[i] as number) - (full.re[i] as number))).toBeLessThan(1e-13 * scale);
				expect(Math.abs((im[i] as number) - (full.im[i] as number))).toBeLessThan(1e-13 * scale);
			}
			fft.inverseReal(re, im);
			for (let i = 0; i < image.length; i++) expect(re[i]).toBeCloseTo(image[i] as number, 9);
		}
	});
});

describe('steerable pyramid', () => {
	it('reconstructs an image to float precision when nothing is imposed', () => {
		for (const [size, scales] of [
			[64, 2],
			[64, 4],
			[128, 3]
		] as const) {
			const random = new Random(3, size, scales);
			const image = Float64Array.from({ length: size * size }, () => random.normal() * 40 + 100);
			const re = Float64Array.from(image);
			const im = new Float64Array(size * size);
			const fft = new Fft2d(size);
			fft.forward(re, im);
			const visited: number[] = [];
			new SteerablePyramid(size, scales).process(re, im, (_re, _im, bandSize, band) => {
				visited.push(band);
				expect(bandSize).toBe(band === 0 ? size : size >> Math.floor((band - 1) / 4));
			});
			fft.inverse(re, im);
			expect(visited).toEqual(Array.from({ length: 1 + 4 * scales }, (_, b) => b));
			expect(maxRelativeDifference([re], [image])).toBeLessThan(1e-9);
			expect(Math.max(...im.map(Math.abs))).toBeLessThan(1e-9 * 200);
		}
	});

	it('splits energy into real, tight-frame bands (Parseval over the bands and the residual)', () => {
		const size = 64;
		const random = new Random(9);
		const image = Float64Array.from({ length: size * size }, () => random.normal());
		const re = Float64Array.from(image);
		const im = new Float64Array(size * size);
		new Fft2d(size).forward(re, im);
		let bandEnergy = 0;
		let imaginaryEnergy = 0;
		new SteerablePyramid(size, 2).process(re, im, (bandRe, bandIm, bandSize) => {
			// A band cropped to half the frequencies has 1/4 of the samples, each with 4× the energy.
			const weight = (bandSize / size) ** 2;
			for (let i = 0; i < bandSize * bandSize; i++) {
				bandEnergy += weight * (bandRe[i] as number) ** 2;
				imaginaryEnergy += (bandIm[i] as number) ** 2;
			}
		});
		const total = image.reduce((sum, value) => sum + value * value, 0);
		// White noise: the low-pass residual holds about its share of the spectrum (ρ < 1/8).
		expect(bandEnergy / total).toBeGreaterThan(0.9);
		expect(bandEnergy / total).toBeLessThan(1);
		expect(imaginaryEnergy).toBeLessThan(1e-20 * total);
	});
	it('gives one real image the same bands and reconstruction with two bands per transform', () => {
		const size = 64;
		const random = new Random(21);
		const image = Float64Array.from({ length: size * size }, () => random.laplace() * 30);
		const pyramid = new SteerablePyramid(size, 3);
		const fft = new Fft2d(size);
		// A non-linear, band-dependent change, as imposing marginals is.
		const change = (values: Float64Array, count: number, band: number) => {
			for (let i = 0; i < count; i++) values[i] = Math.cbrt(values[i] as number) * (band + 1);
		};
		const pairBands = new Map<number, Float64Array>();
		const pairRe = Float64Array.from(image);
		const pairIm = new Float64Array(size * size);
		fft.forward(pairRe, pairIm);
		pyramid.process(pairRe, pairIm, (bandRe, _bandIm, bandSize, band) => {
			pairBands.set(band, bandRe.slice(0, bandSize * bandSize));
			change(bandRe, bandSize * bandSize, band);
		});
		const realBands = new Map<number, Float64Array>();
		const realRe = Float64Array.from(image);
		const realIm = new Float64Array(size * size);
		fft.forward(realRe, realIm);
		pyramid.processReal(realRe, realIm, (values, bandSize, band) => {
			realBands.set(band, values.slice(0, bandSize * bandSize));
			change(values, bandSize * bandSize, band);
		});
		expect([...realBands.keys()].sort((a, b) => a - b)).toEqual([...pairBands.keys()]);
		for (const [band, values] of pairBands) {
			expect(maxRelativeDifference([realBands.get(band) as Float64Array], [values])).toBeLessThan(
				1e-9
			);
		}
		expect(maxRelativeDifference([realRe, realIm], [pairRe, pairIm])).toBeLessThan(1e-9);
		fft.inverse(realRe, realIm);
		fft.inverse(pairRe, pairIm);
		expect(maxRelativeDifference([realRe], [pairRe])).toBeLessThan(1e-9);
		// The changed bands are real, so the reconstruction stays real.
		expect(Math.max(...realIm.map(Math.abs))).toBeLessThan(
			1e-9 * Math.max(...realRe.map(Math.abs))
		);
	});
});

describe('histogram matching', () => {
	it('reproduces the target histogram (MATLAB histoMatch)', () => {
		const random = new Random(5);
		const count = 20000;
		// A skewed, bimodal target.
		const targetValues = Float64Array.from({ length: count }, () =>
			random.uniform() < 0.3 ? random.normal() * 5 + 40 : random.laplace() * 10 - 20
		);
		const target = HistogramTarget.fromValues(targetValues, count, 256);
		const source = Float64Array.from({ length: count }, () => random.uniform() * 1000);
		target.match(source, count);
		// Empirical CDF of the result at the target's bin edges against the target CDF.
		const sorted = Float64Array.from(source).sort();
		let worst = 0;
		let j = 0;
		target.edges.forEach((edge, k) => {
			while (j < count && (sorted[j] as number) <= edge) j++;
			worst = Math.max(worst, Math.abs(j / count - (target.cdf[k] as number)));
		});
		expect(worst).toBeLessThan(0.01);
	});

	it('makes the decorrelated output channels follow the colour model histograms', () => {
		const params = presetParams('stat-spectrum_color', { correlateChannels: false });
		const size = 64;
		const planes = synthesizeStatisticalPlanes(params, 11, 4, size);
		const model = sampleStatisticalModel(params, 11, 4, size);
		planes.forEach((plane, c) => {
			const target = model.colour?.histograms[c] as HistogramTarget;
			const sorted = Float64Array.from(plane).sort();
			let worst = 0;
			let j = 0;
			target.edges.forEach((edge, k) => {
				while (j < sorted.length && (sorted[j] as number) <= edge) j++;
				worst = Math.max(worst, Math.abs(j / sorted.length - (target.cdf[k] as number)));
			});
			expect(worst).toBeLessThan(0.02);
		});
	});
});

describe('colour model', () => {
	it('finds an orthonormal PCA basis that decorrelates the reference colours', () => {
		const basis = principalAxes(Float64Array.of(4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 1));
		for (let a = 0; a < 3; a++) {
			for (let b = 0; b < 3; b++) {
				let dot = 0;
				for (let c = 0; c < 3; c++)
					dot += (basis[c * 3 + a] as number) * (basis[c * 3 + b] as number);
				expect(dot).toBeCloseTo(a === b ? 1 : 0, 12);
			}
		}
		const model = sampleColourModel(new Random(2, 7), 64);
		expect(model.colourCount).toBeGreaterThanOrEqual(3);
		expect(model.colourCount).toBeLessThanOrEqual(22);
		expect(model.blurSize).toBeGreaterThanOrEqual(1);
		expect(model.blurSize).toBeLessThanOrEqual(10);
		expect(model.histograms).toHaveLength(3);
		// The first axis carries the most variance: its histogram spans the widest range.
		const spans = model.histograms.map(
			(h) => (h.edges[h.edges.length - 1] as number) - (h.edges[0] as number)
		);
		expect(spans[0]).toBeGreaterThanOrEqual(spans[1] as number);
	});
});

describe('statistical generator', () => {
	it('uses the paper’s pyramid scales by resolution', () => {
		expect(pyramidScalesFor('auto', 128)).toBe(3);
		expect(pyramidScalesFor('auto', 256)).toBe(4);
		expect(pyramidScalesFor('auto', 32)).toBe(1);
		expect(pyramidScalesFor('auto', 512)).toBe(5);
		expect(pyramidScalesFor('7', 64)).toBe(4);
		expect(pyramidFor(128, 3).bandCount).toBe(13);
	});

	it('is deterministic per (seed, index) and fills 0–255 for every preset', () => {
		expect(statisticalPresets.map((preset) => preset.name)).toEqual([
			'stat-spectrum',
			'stat-wmm',
			'stat-spectrum_color',
			'stat-spectrum_color_wmm'
		]);
		for (const preset of statisticalPresets) {
			const params = presetParams(preset.name, { iterations: 3 });
			const a = statistical.generate(params, 42, 3, 64);
			const b = statistical.generate(params, 42, 3, 64);
			const other = statistical.generate(params, 42, 4, 64);
			if (a instanceof Promise || b instanceof Promise || other instanceof Promise) {
				throw new Error('statistical is synchronous');
			}
			expect(a.size).toBe(64);
			expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
			expect(Buffer.from(a.data).equals(Buffer.from(other.data))).toBe(false);
			expect(Math.min(...a.data)).toBe(0);
			expect(Math.max(...a.data)).toBe(255);
		}
	});

	it('centre-crops non-power-of-two sizes and still uses the full range', () => {
		const params = presetParams('stat-spectrum_color');
		const image = generateStatistical(params, 1, 2, 48);
		expect(image.data.length).toBe(48 * 48 * 3);
		expect(Math.min(...image.data)).toBe(0);
		expect(Math.max(...image.data)).toBe(255);
		expect(sampleStatisticalModel(params, 1, 2, 48).synthesisSize).toBe(64);
	});

	// Binned histogram matching makes the loop chaotic: rounding differences grow about 100× per
	// round (1e-14 after one, 1e-9 after three, percents after ten), so the loop is compared over
	// two rounds; the one-pass spectrum shortcut is compared against all ten.
	it('gives the same result as the plain per-channel loop (packing and shortcuts are exact)', () => {
		for (const name of [
			'stat-spectrum',
			'stat-wmm',
			'stat-spectrum_color',
			'stat-spectrum_color_wmm'
		]) {
			const params = presetParams(name, { iterations: name === 'stat-spectrum' ? 10 : 2 });
			const fast = synthesizeStatisticalPlanes(params, 8, 1, 32);
			const reference = referencePlanes(params, 8, 1, 32);
			expect(maxRelativeDifference(fast, reference)).toBeLessThan(1e-9);
		}
		const spectrumAndWavelets = presetParams('stat-spectrum_color_wmm', {
			imposeColour: false,
			iterations: 2
		});
		expect(
			maxRelativeDifference(
				synthesizeStatisticalPlanes(spectrumAndWavelets, 8, 2, 32),
				referencePlanes(spectrumAndWavelets, 8, 2, 32)
			)
		).toBeLessThan(1e-9);
	});

	it('makes the amplitude spectrum of stat-spectrum images follow the sampled slope', () => {
		const params = presetParams('stat-spectrum');
		const size = 128;
		const errors: number[] = [];
		for (let index = 0; index < 8; index++) {
			const image = generateStatistical(params, 21, index, size);
			const model = sampleStatisticalModel(params, 21, index, size);
			const measured = radialSlope(
				amplitudeSpectrum(luminance(image.data, size), size),
				size,
				2,
				10
			);
			errors.push(Math.abs(measured - (model.spectrum?.slope as number)));
		}
		const meanError = errors.reduce((sum, error) => sum + error, 0) / errors.length;
		expect(meanError).toBeLessThan(0.15);
	});

	it('shows the sampled anisotropy as different slopes along x and y', () => {
		const params = presetParams('stat-spectrum', {
			anisotropySd: 0.5,
			slopeLow: 1.5,
			slopeHigh: 2
		});
		const size = 128;
		let agreeing = 0;
		let tested = 0;
		for (let index = 0; index < 12; index++) {
			const model = sampleStatisticalModel(params, 5, index, size);
			const sampled = (model.spectrum?.slopeX as number) - (model.spectrum?.slopeY as number);
			if (Math.abs(sampled) < 0.4) continue;
			const amplitude = amplitudeSpectrum(
				luminance(generateStatistical(params, 5, index, size).data, size),
				size
			);
			const measured =
				axisSlope(amplitude, size, 'x', 2, 12) - axisSlope(amplitude, size, 'y', 2, 12);
			tested++;
			if (Math.sign(measured) === Math.sign(sampled)) agreeing++;
		}
		expect(tested).toBeGreaterThanOrEqual(4);
		expect(agreeing).toBe(tested);
	});

	it('gives stat-wmm images heavy-tailed fine wavelet bands', () => {
		const params = presetParams('stat-wmm');
		const size = 64;
		const fft = new Fft2d(size);
		const pyramid = new SteerablePyramid(size, 2);
		const kurtoses: number[] = [];
		for (let index = 0; index < 3; index++) {
			const plane = luminance(generateStatistical(params, 13, index, size).data, size);
			const re = Float64Array.from(plane);
			const im = new Float64Array(size * size);
			fft.forward(re, im);
			pyramid.process(re, im, (bandRe, _bandIm, bandSize, band) => {
				if (band >= 1 && band <= 4) kurtoses.push(kurtosis(bandRe.slice(0, bandSize * bandSize)));
			});
		}
		const mean = kurtoses.reduce((sum, value) => sum + value, 0) / kurtoses.length;
		expect(mean).toBeGreaterThan(5);
		// The white-noise start has Gaussian-like bands: the model is what makes the tails.
		expect(Math.min(...kurtoses)).toBeGreaterThan(3.5);
	});

	it('draws dead-leaves textures from the stat-spectrum_color_wmm preset', () => {
		const params = presetParams('stat-spectrum_color_wmm', { iterations: 10 });
		const texture = statisticalTexture(4, 17, 32);
		expect(
			Buffer.from(texture.data).equals(Buffer.from(generateStatistical(params, 4, 17, 32).data))
		).toBe(true);
	});
});
