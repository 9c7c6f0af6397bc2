/**
 * The samples and statistics of the previous-version comparison (previous-stats.test.ts and
 * scripts/previous-generator-stats.ts, which writes previous-stats.json).
 */
import { bandKurtosis, powerSpectrum } from '../../../src/core/diagnostics/diagnostics';
import type { RgbImage } from '../../../src/core/generators/image';

/** Images of the presets whose generator changed its rounding in a new version. */
export const previousStatsCases = [
	'stylegan-highfreq',
	'stylegan-sparse',
	'stylegan-oriented',
	'stat-spectrum',
	'stat-wmm',
	'stat-spectrum_color',
	'stat-spectrum_color_wmm'
].flatMap((preset) => [0, 1, 401].map((index) => ({ preset, size: 64, seed: 16, index })));

/** Spectrum slope, band-pass kurtosis at three scales, and each channel's mean and std. */
export function imageStatistics(image: RgbImage): {
	slope: number;
	kurtosis: number[];
	means: number[];
	stds: number[];
} {
	const pixels = image.size * image.size;
	const means: number[] = [];
	const stds: number[] = [];
	for (let c = 0; c < 3; c++) {
		let sum = 0;
		let squares = 0;
		for (let p = 0; p < pixels; p++) {
			const value = image.data[p * 3 + c] as number;
			sum += value;
			squares += value * value;
		}
		const mean = sum / pixels;
		means.push(mean);
		stds.push(Math.sqrt(Math.max(0, squares / pixels - mean * mean)));
	}
	return { slope: powerSpectrum(image).slope, kurtosis: bandKurtosis(image), means, stds };
}
