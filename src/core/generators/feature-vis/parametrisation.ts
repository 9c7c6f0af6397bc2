/**
 * Lucid's "fft + decorrelate" image parametrisation (§2.4; Lucent `param/spatial.py` and
 * `param/color.py`). Per channel the parameters are the real and imaginary parts of an rfft
 * spectrum, drawn from N(0, 0.01²); each frequency is scaled by 1/max(|f|, 1/size) (decay power
 * 1), an orthonormal inverse rfft gives the image, which is divided by 4, mixed by Lucid's colour
 * matrix (normalised by its largest column norm) and squashed by a sigmoid into (0, 1).
 *
 * The inverse rfft is written as two matrix products with precomputed cos/sin tables rather than
 * `tf.spectral.irfft`: that op normalises by 1/n (numpy's "backward" convention, so it would need
 * a √n correction per axis), only produces even lengths, and the wasm backend has no FFT kernel.
 * Matrix products work for every size from 32 to 512, on every backend, with a plain gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../random';

/** Standard deviation of the initial spectrum (Lucent's `sd`). */
export const spectrumInitStd = 0.01;

/** Lucid's "magic" divisor that reduces saturation after the inverse FFT. */
export const lucidSpectrumDivisor = 4;

/** Lucid's `color_correlation_svd_sqrt`, rows = output channels. */
export const colourCorrelationSvdSqrt: readonly (readonly [number, number, number])[] = [
	[0.26, 0.09, 0.02],
	[0.27, 0.0, -0.05],
	[0.27, -0.09, 0.03]
];

/** The colour matrix divided by its largest column norm (Lucid's `color_correlation_normalized`). */
export function normalisedColourMatrix(): number[][] {
	let maxNorm = 0;
	for (let column = 0; column < 3; column++) {
		let squares = 0;
		for (const row of colourCorrelationSvdSqrt) squares += (row[column] as number) ** 2;
		maxNorm = Math.max(maxNorm, Math.sqrt(squares));
	}
	return colourCorrelationSvdSqrt.map((row) => row.map((value) => value / maxNorm));
}

/** numpy's `fftfreq(n)[i]`: i/n for the first half, (i − n)/n for the negative frequencies. */
function fftFrequency(i: number, n: number): number {
	return (i < Math.ceil(n / 2) ? i : i - n) / n;
}

/** Columns of a real image's half spectrum. */
export function halfSpectrumWidth(width: number): number {
	return Math.floor(width / 2) + 1;
}

/**
 * The spectrum parameters of one image: a trainable `[2·h, 3·k]` matrix (rows: real parts then
 * imaginary parts per vertical frequency; columns: channel-major horizontal frequencies, k =
 * ⌊w/2⌋+1) and the constant tables that turn it into an RGB image. Lucid keeps one extra
 * column for odd widths and crops a pixel afterwards; that column never reaches the output, so
 * it is omitted here.
 */
export class FftImage {
	readonly height: number;
	readonly width: number;
	/** The trainable spectrum; owned by this object. */
	readonly spectrum: tf.Variable<tf.Rank.R2>;
	private readonly frequencyScale: tf.Tensor2D;
	private readonly inverseRows: tf.Tensor2D;
	private readonly inverseColumns: tf.Tensor2D;
	private readonly colour: tf.Tensor2D;

	/** Draws the initial spectrum from `random` in the order (channel, row, column, re/im). */
	constructor(size: number, random: Random) {
		this.height = size;
		this.width = size;
		const h = this.height;
		const w = this.width;
		const k = halfSpectrumWidth(w);
		const initial = new Float32Array(2 * h * 3 * k);
		const scale = new Float32Array(2 * h * 3 * k);
		for (let channel = 0; channel < 3; channel++) {
			for (let row = 0; row < h; row++) {
				const fy = fftFrequency(row, h);
				for (let column = 0; column < k; column++) {
					const fx = column / w;
					const frequencyGain = 1 / Math.max(Math.hypot(fx, fy), 1 / Math.max(w, h));
					for (let part = 0; part < 2; part++) {
						const at = (part * h + row) * 3 * k + channel * k + column;
						initial[at] = spectrumInitStd * random.normal();
						scale[at] = frequencyGain;
					}
				}
			}
		}
		// tidy frees the initial tensor; the variable keeps its data.
		this.spectrum = tf.tidy(() => tf.variable(tf.tensor2d(initial, [2 * h, 3 * k]), true));
		this.frequencyScale = tf.tensor2d(scale, [2 * h, 3 * k]);
		this.inverseRows = tf.tensor2d(inverseRowTable(h), [2 * h, 2 * h]);
		this.inverseColumns = tf.tensor2d(inverseColumnTable(h, w), [2 * k, w]);
		this.colour = tf.tensor2d(normalisedColourMatrix().flat(), [3, 3]);
	}

	/** The decorrelated pre-sigmoid image `[1, h, w, 3]` (call inside `tf.tidy`). */
	logits(): tf.Tensor4D {
		const h = this.height;
		const w = this.width;
		const k = halfSpectrumWidth(w);
		const scaled = tf.mul(this.spectrum, this.frequencyScale);
		// Inverse DFT along y: [Re; Im] of every (channel, column) at every output row.
		const rows = tf.matMul(this.inverseRows, scaled);
		const perChannel = tf.reshape(tf.transpose(tf.reshape(rows, [2, h, 3, k]), [2, 1, 0, 3]), [
			3 * h,
			2 * k
		]);
		const planes = tf.reshape(tf.matMul(perChannel, this.inverseColumns), [3, h * w]);
		const mixed = tf.matMul(this.colour, planes);
		return tf.reshape(tf.transpose(mixed), [1, h, w, 3]);
	}

	/** The image in (0, 1), `[1, h, w, 3]` (call inside `tf.tidy`). */
	image(): tf.Tensor4D {
		return tf.sigmoid(this.logits());
	}

	/** Frees the parameters and tables. */
	dispose(): void {
		this.spectrum.dispose();
		this.frequencyScale.dispose();
		this.inverseRows.dispose();
		this.inverseColumns.dispose();
		this.colour.dispose();
	}
}

/**
 * `[[C, −S], [S, C]]` with C = cos(2π·y·ky/h), S = sin(…): applied to [Re; Im] it gives the
 * real and imaginary parts of the unnormalised inverse DFT along the rows.
 */
function inverseRowTable(h: number): Float32Array {
	const table = new Float32Array(4 * h * h);
	for (let y = 0; y < h; y++) {
		for (let ky = 0; ky < h; ky++) {
			const angle = (2 * Math.PI * ((y * ky) % h)) / h;
			const cos = Math.cos(angle);
			const sin = Math.sin(angle);
			table[y * 2 * h + ky] = cos;
			table[y * 2 * h + h + ky] = -sin;
			table[(h + y) * 2 * h + ky] = sin;
			table[(h + y) * 2 * h + h + ky] = cos;
		}
	}
	return table;
}

/**
 * The real inverse DFT along the columns of a Hermitian half spectrum, with the orthonormal
 * 1/√(h·w) and Lucid's ÷4 folded in: rows 0..k−1 multiply Re by c·cos, rows k..2k−1 multiply
 * Im by −c·sin, where c = 2 for the frequencies that stand for a conjugate pair and 1 for DC
 * and Nyquist. As in numpy/torch `irfft`, the imaginary parts of DC and Nyquist drop out (their
 * sine is zero at every pixel).
 */
function inverseColumnTable(h: number, w: number): Float32Array {
	const k = halfSpectrumWidth(w);
	const norm = 1 / (Math.sqrt(h * w) * lucidSpectrumDivisor);
	const table = new Float32Array(2 * k * w);
	for (let kx = 0; kx < k; kx++) {
		const multiplicity = kx === 0 || 2 * kx === w ? 1 : 2;
		for (let x = 0; x < w; x++) {
			const angle = (2 * Math.PI * ((x * kx) % w)) / w;
			table[kx * w + x] = multiplicity * norm * Math.cos(angle);
			table[(k + kx) * w + x] = -multiplicity * norm * Math.sin(angle);
		}
	}
	return table;
}
