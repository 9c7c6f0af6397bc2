/**
 * The statistical image models of the paper (spec §2.2), after the MATLAB `image_model.m` that
 * produced its datasets: a 1/f^α spectrum, a wavelet marginal model on a 4-orientation
 * steerable pyramid, and a colour model (PCA basis + histograms of a random Mondrian).
 *
 * Per image: sample the colour model (when colour histograms are imposed or channels are
 * correlated), the spectrum and the wavelet marginals; start from 256·U per pixel and channel
 * in the decorrelated space; repeat `iterations` times: impose the spectrum → impose the wavelet
 * marginals → impose the colour histograms; rotate back to RGB (`x = V·y + μ`) when correlating
 * channels; one min-max over all channels to 0–255.
 *
 * The three channels never interact inside the loop, so two of them are synthesised together as
 * one complex image `a + i·b` (every FFT then serves two channels; the third channel takes the
 * half-work real-input transforms, and its pyramid packs two of its bands into each transform
 * instead), and a spectrum or pyramid
 * step hands its DFT straight to the next step when that step starts from the DFT. Imposing the
 * spectrum alone is idempotent (the second pass sees the same phases and moments), so that case
 * runs one pass. These shortcuts give the same result as the plain loop up to rounding; the
 * tests compare the two.
 *
 * Power-of-two sizes only for the FFT: other sizes are synthesised at the next power of two and
 * the central `size × size` crop is min-maxed.
 */
import { Fft2d, nextPowerOfTwo } from '../fft2d';
import { defineGenerator, type GeneratorPreset } from '../generator';
import { planesToImage, type RgbImage } from '../image';
import { defaultParams, type ParamSchema, type ParamValues } from '../params';
import { Random } from '../random';
import { correlate, sampleColourModel, type ColourModel } from './colour-model';
import type { HistogramTarget } from './histogram-match';
import { sampleSpectrum, type SpectrumModel } from './spectrum';
import { SteerablePyramid } from './steerable-pyramid';
import { imposeBandMarginal, sampleWaveletMarginals, type BandMarginal } from './wavelet-marginal';

/** The generator's parameters. */
export const statisticalParams = {
	imposeSpectrum: {
		kind: 'boolean',
		label: 'Impose 1/f^α spectrum',
		help: 'Each channel keeps its phases and takes the amplitude 1/(ε + |fx/N|^αx + |fy/N|^αy), then its old mean and std.',
		default: true
	},
	imposeWmm: {
		kind: 'boolean',
		label: 'Impose wavelet marginals',
		help: 'Histogram-match every band of a frequency-domain steerable pyramid (4 orientations, fixed as in the paper) to a generalised Laplacian exp(−|x/4^scale|^r), r ~ U(0.4, 0.8). The low-pass residual is left alone.',
		default: true
	},
	imposeColour: {
		kind: 'boolean',
		label: 'Impose colour histograms',
		help: 'Histogram-match each decorrelated channel to the 256-bin histograms of a random blurred colour Mondrian (3–22 colours, vertical stripes as in the MATLAB code).',
		default: true
	},
	correlateChannels: {
		kind: 'boolean',
		label: 'Correlate channels',
		help: 'Synthesise in the colour PCA basis of the Mondrian and rotate back to RGB (x = V·y + μ, MATLAB’s basis, not the Python port’s). All paper datasets use it.',
		default: true
	},
	slopeLow: {
		kind: 'number',
		label: 'Slope low',
		help: 'Lower end of the spectrum slope s ~ U(low, high), the exponent of the amplitude spectrum (paper: 0.5).',
		min: 0,
		max: 5,
		step: 0.05,
		default: 0.5
	},
	slopeHigh: {
		kind: 'number',
		label: 'Slope high',
		help: 'Upper end of the spectrum slope s ~ U(low, high) (paper: 3.5).',
		min: 0,
		max: 5,
		step: 0.05,
		default: 3.5
	},
	anisotropySd: {
		kind: 'number',
		label: 'Anisotropy sd',
		help: 'Std of d in αx = s + d, αy = s − d. The paper ties it to the slope range, |3.5 − 0.5|/60 = 0.05; here it is set on its own and does not follow the range.',
		min: 0,
		max: 1,
		step: 0.01,
		default: 0.05
	},
	iterations: {
		kind: 'integer',
		label: 'Iterations',
		help: 'Rounds of spectrum → wavelets → colour (paper: 10). The spectrum alone converges in one round, so that case runs one.',
		min: 1,
		max: 30,
		step: 1,
		default: 10
	},
	pyramidScales: {
		kind: 'choice',
		label: 'Pyramid scales',
		help: 'Scales of the steerable pyramid. auto: log2(N) − 4 for the power-of-two synthesis size N, which gives the paper’s 3 at 128 px and 4 at 256 px (1 at 32, 2 at 64, 5 at 512). A number above log2(N) − 2 is reduced to it.',
		options: ['auto', '1', '2', '3', '4', '5', '6', '7'],
		default: 'auto'
	}
} as const satisfies ParamSchema;

/** Values of {@link statisticalParams}. */
export type StatisticalParams = ParamValues<typeof statisticalParams>;

/** Everything sampled for one image. */
export interface StatisticalModel {
	/** The power-of-two size it is synthesised at. */
	synthesisSize: number;
	scales: number;
	iterations: number;
	/** Sampled when colour histograms are imposed or channels are correlated. */
	colour: ColourModel | null;
	spectrum: SpectrumModel | null;
	/** `[channel][band]`, bands in MATLAB order (high-pass residual first). */
	wavelets: BandMarginal[][] | null;
	params: StatisticalParams;
}

// Independent random streams per part, so that switching one part on or off leaves the others'
// samples (e.g. an image's slope) unchanged.
const streams = { colour: 1, spectrum: 2, wavelets: 3, start: 4 } as const;

/** The number of pyramid scales for a power-of-two synthesis size. */
export function pyramidScalesFor(
	choice: StatisticalParams['pyramidScales'],
	synthesisSize: number
): number {
	const max = Math.log2(synthesisSize) - 2;
	const wanted = choice === 'auto' ? Math.log2(synthesisSize) - 4 : Number(choice);
	return Math.max(1, Math.min(max, wanted));
}

/** Samples the models of image `index` (what the generator would impose), without synthesising. */
export function sampleStatisticalModel(
	params: StatisticalParams,
	seed: number,
	index: number,
	size: number
): StatisticalModel {
	const synthesisSize = nextPowerOfTwo(size);
	const scales = pyramidScalesFor(params.pyramidScales, synthesisSize);
	const colour =
		params.imposeColour || params.correlateChannels
			? sampleColourModel(
					new Random(seed, index, streams.colour),
					synthesisSize,
					params.imposeColour
				)
			: null;
	const spectrum = params.imposeSpectrum
		? sampleSpectrum(
				new Random(seed, index, streams.spectrum),
				synthesisSize,
				params.slopeLow,
				params.slopeHigh,
				params.anisotropySd
			)
		: null;
	let wavelets: BandMarginal[][] | null = null;
	if (params.imposeWmm) {
		const pyramid = pyramidFor(synthesisSize, scales);
		const bandSizes = Array.from({ length: pyramid.bandCount }, (_, b) => pyramid.bandSize(b));
		wavelets = sampleWaveletMarginals(
			new Random(seed, index, streams.wavelets),
			synthesisSize,
			bandSizes
		);
	}
	return {
		synthesisSize,
		scales,
		iterations: params.iterations,
		colour,
		spectrum,
		wavelets,
		params
	};
}

/** The 256·U starting planes of image `index`, in the decorrelated space. */
export function startingPlanes(seed: number, index: number, synthesisSize: number): Float64Array[] {
	const random = new Random(seed, index, streams.start);
	return [0, 1, 2].map(() => {
		const plane = new Float64Array(synthesisSize * synthesisSize);
		for (let i = 0; i < plane.length; i++) plane[i] = 256 * random.uniform();
		return plane;
	});
}

/**
 * The three float planes of image `index` before the final min-max: RGB when channels are
 * correlated, else the decorrelated channels; `size × size` (the centre of the synthesis).
 */
export function synthesizeStatisticalPlanes(
	params: StatisticalParams,
	seed: number,
	index: number,
	size: number
): Float64Array[] {
	const model = sampleStatisticalModel(params, seed, index, size);
	const planes = startingPlanes(seed, index, model.synthesisSize);
	const workspace = workspaceFor(model.synthesisSize);
	synthesizePair(model, workspace, planes, 0, 1);
	synthesizePair(model, workspace, planes, 2, null);
	if (params.correlateChannels && model.colour) {
		correlate(planes, model.colour.basis, model.colour.mean);
	}
	return planes.map((plane) => centreCrop(plane, model.synthesisSize, size));
}

/** Image `index` of the statistical model with these parameters. */
export function generateStatistical(
	params: StatisticalParams,
	seed: number,
	index: number,
	size: number
): RgbImage {
	return planesToImage(synthesizeStatisticalPlanes(params, seed, index, size), size);
}

/** Buffers and transforms for one synthesis size, reused across images (one per thread). */
interface Workspace {
	size: number;
	fft: Fft2d;
	re: Float64Array;
	im: Float64Array;
	/** For each DFT index, the index of the negated frequency. */
	mirror: Int32Array;
}

const workspaces = new Map<number, Workspace>();
const pyramids = new Map<string, SteerablePyramid>();

function workspaceFor(size: number): Workspace {
	let workspace = workspaces.get(size);
	if (!workspace) {
		const mirror = new Int32Array(size * size);
		for (let row = 0; row < size; row++) {
			for (let col = 0; col < size; col++) {
				mirror[row * size + col] = ((size - row) % size) * size + ((size - col) % size);
			}
		}
		const fft = new Fft2d(size);
		// The transform's own planes, so that the pair is transformed where it is.
		workspace = { size, fft, re: fft.re, im: fft.im, mirror };
		workspaces.set(size, workspace);
	}
	return workspace;
}

/** The cached pyramid for a synthesis size and number of scales. */
export function pyramidFor(size: number, scales: number): SteerablePyramid {
	const key = `${size}:${scales}`;
	let pyramid = pyramids.get(key);
	if (!pyramid) {
		pyramid = new SteerablePyramid(size, scales);
		pyramids.set(key, pyramid);
	}
	return pyramid;
}

/**
 * Runs the iteration loop on channel `a` (and `b`, when given) of `planes`, in place. The pair
 * lives in the workspace as `re + i·im`, in the spatial or the frequency domain as the next
 * step needs.
 */
function synthesizePair(
	model: StatisticalModel,
	workspace: Workspace,
	planes: Float64Array[],
	a: number,
	b: number | null
): void {
	const { fft, re, im } = workspace;
	const { spectrum, wavelets } = model;
	const histograms = model.params.imposeColour ? (model.colour?.histograms ?? null) : null;
	const pixels = re.length;
	re.set(planes[a] as Float64Array);
	if (b === null) im.fill(0);
	else im.set(planes[b] as Float64Array);
	let inFrequency = false;
	// A lone channel is real, so it takes the half-work real transforms.
	const toSpace = () => {
		if (!inFrequency) return;
		if (b === null) {
			fft.inverseReal(re, im);
			im.fill(0);
		} else fft.inverse(re, im);
		inFrequency = false;
	};
	const toFrequency = () => {
		if (inFrequency) return;
		if (b === null) fft.forwardReal(re, im);
		else fft.forward(re, im);
		inFrequency = true;
	};
	const pyramid = wavelets ? pyramidFor(model.synthesisSize, model.scales) : null;
	const marginalsA = wavelets?.[a] ?? [];
	const marginalsB = b === null ? null : (wavelets?.[b] ?? []);
	const visitPair = (
		bandRe: Float64Array,
		bandIm: Float64Array,
		bandSize: number,
		band: number
	) => {
		const count = bandSize * bandSize;
		imposeBandMarginal(bandRe, count, marginalsA[band] as BandMarginal);
		if (marginalsB) imposeBandMarginal(bandIm, count, marginalsB[band] as BandMarginal);
	};
	const visitOne = (values: Float64Array, bandSize: number, band: number) =>
		imposeBandMarginal(values, bandSize * bandSize, marginalsA[band] as BandMarginal);
	const iterations = spectrum && !wavelets && !histograms ? 1 : model.iterations;
	for (let iteration = 0; iteration < iterations; iteration++) {
		if (spectrum) {
			toSpace();
			imposeSpectrumPair(workspace, spectrum.amplitude, b !== null);
			inFrequency = true;
		}
		if (pyramid) {
			toFrequency();
			if (b === null) pyramid.processReal(re, im, visitOne);
			else pyramid.process(re, im, visitPair);
		}
		if (histograms) {
			toSpace();
			(histograms[a] as HistogramTarget).match(re, pixels);
			if (b !== null) (histograms[b] as HistogramTarget).match(im, pixels);
		}
	}
	toSpace();
	(planes[a] as Float64Array).set(re);
	if (b !== null) (planes[b] as Float64Array).set(im);
}

/**
 * MATLAB `impose_spectrum` on the spatial pair `re + i·im`, leaving its DFT in (re, im): each
 * channel keeps its phases, takes the amplitude, and is rescaled to its old mean and std. The
 * channel DFTs are separated by Hermitian symmetry, X_a = (Z(f) + Z̄(−f))/2 and
 * X_b = (Z(f) − Z̄(−f))/2i. The new amplitude is the model's wherever X ≠ 0, so the std of the
 * new channel is known before synthesis (Parseval) and one pass suffices.
 */
function imposeSpectrumPair(workspace: Workspace, amplitude: Float64Array, hasB: boolean): void {
	const { fft, re, im, mirror } = workspace;
	const pixels = re.length;
	const [meanA, stdA] = moments(re);
	const [meanB, stdB] = hasB ? moments(im) : [0, 0];
	let energy = 0;
	for (let i = 0; i < pixels; i++) energy += (amplitude[i] as number) ** 2;
	// Sample std of the inverse DFT of the new spectrum (mean 0: the DC gain is 0).
	const newStd = Math.sqrt(energy / pixels / (pixels - 1));
	const gainA = newStd > 0 ? stdA / newStd : 0;
	const gainB = newStd > 0 ? stdB / newStd : 0;
	if (hasB) fft.forward(re, im);
	else fft.forwardReal(re, im);
	for (let i = 0; i < pixels; i++) {
		const j = mirror[i] as number;
		if (j < i) continue;
		const zr = re[i] as number;
		const zi = im[i] as number;
		const wr = re[j] as number;
		const wi = im[j] as number;
		const magnitude = amplitude[i] as number;
		// Unit phasors of X_a(f) and X_b(f); angle(0) = 0 as in MATLAB.
		let ar = (zr + wr) / 2;
		let ai = (zi - wi) / 2;
		// √(x² + y²) rather than Math.hypot, which is several times slower; no overflow here.
		let norm = Math.sqrt(ar * ar + ai * ai);
		if (norm > 0) {
			ar /= norm;
			ai /= norm;
		} else {
			ar = 1;
			ai = 0;
		}
		let br = 0;
		let bi = 0;
		if (hasB) {
			br = (zi + wi) / 2;
			bi = (wr - zr) / 2;
			norm = Math.sqrt(br * br + bi * bi);
			if (norm > 0) {
				br /= norm;
				bi /= norm;
			} else {
				br = 1;
				bi = 0;
			}
		}
		const ga = magnitude * gainA;
		const gb = magnitude * gainB;
		// Y = ga·(ar + i·ai) + i·gb·(br + i·bi); at −f both channel phasors are conjugated.
		re[i] = ga * ar - gb * bi;
		im[i] = ga * ai + gb * br;
		if (j !== i) {
			re[j] = ga * ar + gb * bi;
			im[j] = -ga * ai + gb * br;
		}
	}
	re[0] = (re[0] as number) + meanA * pixels;
	im[0] = (im[0] as number) + meanB * pixels;
}

/** Mean and sample (N−1) std. */
function moments(values: Float64Array): [number, number] {
	let sum = 0;
	for (let i = 0; i < values.length; i++) sum += values[i] as number;
	const mean = sum / values.length;
	let squares = 0;
	for (let i = 0; i < values.length; i++) {
		const d = (values[i] as number) - mean;
		squares += d * d;
	}
	return [mean, Math.sqrt(squares / (values.length - 1))];
}

/** The central `size × size` part of a `from × from` plane (the plane itself when equal). */
function centreCrop(plane: Float64Array, from: number, size: number): Float64Array {
	if (from === size) return plane;
	const offset = Math.floor((from - size) / 2);
	const crop = new Float64Array(size * size);
	for (let row = 0; row < size; row++) {
		const start = (row + offset) * from + offset;
		crop.set(plane.subarray(start, start + size), row * size);
	}
	return crop;
}

/** The statistical image model generator (spec §2.2). */
export const statistical = defineGenerator({
	id: 'statistical',
	family: 'statistical',
	label: 'Statistical image model',
	description:
		'Noise with natural-image statistics: a random 1/f^α spectrum, heavy-tailed wavelet marginals on a 4-orientation steerable pyramid and the colours of a random Mondrian, imposed in turn for 10 rounds (MATLAB image_model.m). Non-power-of-two sizes are synthesised at the next power of two and centre-cropped.',
	version: 3,
	speed: 'fast',
	params: statisticalParams,
	generate: generateStatistical
});

/** The paper's four statistical datasets (spec §2.2), all with correlated channels. */
export const statisticalPresets: GeneratorPreset[] = [
	{
		name: 'stat-spectrum',
		generator: 'statistical',
		params: { imposeWmm: false, imposeColour: false },
		size: 128,
		description: 'Random 1/f^α spectrum only, in a random colour PCA basis.'
	},
	{
		name: 'stat-wmm',
		generator: 'statistical',
		params: { imposeSpectrum: false, imposeColour: false },
		size: 128,
		description: 'Heavy-tailed wavelet marginals only, in a random colour PCA basis.'
	},
	{
		name: 'stat-spectrum_color',
		generator: 'statistical',
		params: { imposeWmm: false },
		size: 128,
		description: 'Random spectrum and the colour histograms of a random Mondrian.'
	},
	{
		name: 'stat-spectrum_color_wmm',
		generator: 'statistical',
		params: {},
		size: 128,
		description: 'Spectrum, wavelet marginals and colour histograms: the full model.'
	}
];

/** The parameters of the `stat-spectrum_color_wmm` dataset. */
const texturePreset: StatisticalParams = defaultParams(statisticalParams);

/**
 * A texture for the textured dead-leaves preset, which the paper takes from the
 * stat-spectrum_color_wmm dataset: texture `textureIndex` is image `textureIndex` of that
 * preset with the same `seed`, at the dead-leaves size.
 */
export function statisticalTexture(seed: number, textureIndex: number, size: number): RgbImage {
	return generateStatistical(texturePreset, seed, textureIndex, size);
}
