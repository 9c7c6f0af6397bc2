/**
 * The 1/f^α spectrum model (spec §2.2.1, MATLAB `sample_1f_spectrum` / `impose_spectrum`).
 *
 * Amplitude `A(fx, fy) = 1 / (ε + |fx/N|^αx + |fy/N|^αy)` on the integer frequencies, with the
 * DC gain set to 0; `αx = s + d`, `αy = s − d`, `s ~ U(low, high)`, `d ~ N(0, sd²)`. The
 * denominator sums per-axis powers, so iso-amplitude contours are superellipses, not circles.
 * Amplitudes are stored in the unshifted DFT layout (DC at index 0), row-major with rows = y.
 */
import type { Random } from '../random';

/** The sampled spectrum of one image. */
export interface SpectrumModel {
	/** The shared slope `s ~ U(low, high)`. */
	slope: number;
	/** Exponent along x (horizontal frequencies, columns): `s + d`. */
	slopeX: number;
	/** Exponent along y (vertical frequencies, rows): `s − d`. */
	slopeY: number;
	/** `size × size` amplitudes in unshifted DFT order, the same for all three channels. */
	amplitude: Float64Array;
}

/** MATLAB's `eps`, which keeps the DC denominator finite before the DC gain is zeroed. */
const matlabEps = 2.220446049250313e-16;

/** Samples `s`, `d` and builds the amplitude for a power-of-two `size`. */
export function sampleSpectrum(
	random: Random,
	size: number,
	slopeLow: number,
	slopeHigh: number,
	anisotropySd: number
): SpectrumModel {
	const slope = slopeLow + random.uniform() * (slopeHigh - slopeLow);
	const anisotropy = random.normal() * anisotropySd;
	const slopeX = slope + anisotropy;
	const slopeY = slope - anisotropy;
	const powerX = axisPowers(size, slopeX);
	const powerY = axisPowers(size, slopeY);
	const amplitude = new Float64Array(size * size);
	for (let row = 0; row < size; row++) {
		const py = matlabEps + (powerY[row] as number);
		const offset = row * size;
		for (let col = 0; col < size; col++)
			amplitude[offset + col] = 1 / (py + (powerX[col] as number));
	}
	amplitude[0] = 0;
	return { slope, slopeX, slopeY, amplitude };
}

/** `|f/N|^α` for the DFT indices 0 … N−1 (frequencies 0 … N/2−1, then −N/2 … −1). */
function axisPowers(size: number, exponent: number): Float64Array {
	const powers = new Float64Array(size);
	for (let k = 0; k < size; k++) {
		const frequency = k < size / 2 ? k : size - k;
		powers[k] = frequency === 0 ? 0 : Math.pow(frequency / size, exponent);
	}
	return powers;
}
