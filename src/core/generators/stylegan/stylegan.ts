/**
 * The untrained StyleGAN2 generators of the paper (spec §2.3): one generator, `stylegan`, whose
 * `variant` picks the reference module, and the four presets of the paper's datasets.
 */
import { defineGenerator, type GeneratorPreset } from '../generator';
import { createImage, type RgbImage } from '../image';
import type { ParamValues } from '../params';
import { synthesizeFast } from './fast-synthesis';
import {
	buildStyleganNetwork,
	sampleImagePlan,
	type ImagePlan,
	type NetworkSettings,
	type StyleganModule,
	type StyleganNetwork
} from './network';
import { synthesizeDirect } from './synthesis';

/** The `stylegan` generator's parameters. */
export const styleganParams = {
	variant: {
		kind: 'choice',
		label: 'Variant',
		help: 'original: fixed N(0,1) conv weights, no noise (stylegan-random). highfreq: v1 filter bank resampled per image plus pink noise. sparse: adds the Laplacian noise envelope and random biases. oriented: v3 bank (random subset per layer), one pink map shared by all scales, biases U(−0.2, 0.2).',
		options: ['original', 'highfreq', 'sparse', 'oriented'],
		default: 'oriented'
	},
	sparse_recipe: {
		kind: 'choice',
		label: 'Sparse recipe',
		help: 'The released code is ambiguous about stylegan-sparse (spec §9). v2 (default): the network_randomized_v2 module (v1 bank, envelope, bias U(0, range)), matching the figure label "+laplacian envelope and bias" and giving a clean ablation chain. v3: the v3 module without the shared noise map, as the repo’s naming code maps it. Only used by the sparse variant.',
		options: ['v2', 'v3'],
		default: 'v2'
	},
	channel_base: {
		kind: 'integer',
		label: 'Channel base',
		help: 'Channels at resolution r are min(channel_base / r, channel_max). The paper: 32768. Lower it (e.g. 4096) for cheaper CPU generation, especially for original, whose cost grows with the square of the width.',
		min: 16,
		max: 65536,
		step: 16,
		default: 32768
	},
	channel_max: {
		kind: 'integer',
		label: 'Channel max',
		help: 'The most channels in any layer. The paper: 512.',
		min: 1,
		max: 1024,
		step: 1,
		default: 512
	},
	w_dim: {
		kind: 'integer',
		label: 'w dimension',
		help: 'Length of each random latent w = LeakyReLU0.2(N(0,1)) (the mapping network is bypassed). The paper: 512. Styles are A·w/√w_dim + 1 with A ~ N(0,1), so it only changes cost and which random numbers are drawn.',
		min: 1,
		max: 1024,
		step: 1,
		default: 512
	},
	restart_interval: {
		kind: 'integer',
		label: 'Restart interval',
		help: 'A fresh network (constant input, affine matrices, noise dictionaries, original’s weights) for each block of this many consecutive image indices. The paper: 400.',
		min: 1,
		max: 1_000_000,
		step: 1,
		default: 400
	},
	noise_strength_max: {
		kind: 'number',
		label: 'Noise strength max',
		help: 'Each conv layer adds its pink-noise map times a strength drawn U(0, max) per image. The paper: 0.3. The original variant has no noise (its strength is initialised to 0).',
		min: 0,
		max: 2,
		step: 0.01,
		default: 0.3
	},
	bias_range: {
		kind: 'number',
		label: 'Bias range',
		help: 'Per-channel biases drawn per image: U(0, range) in the v2 module (sparse, v2 recipe), U(−range, range) in v3 (oriented, sparse v3 recipe). The paper: 0.2. highfreq and original have zero bias.',
		min: 0,
		max: 2,
		step: 0.01,
		default: 0.2
	},
	random_configuration: {
		kind: 'choice',
		label: 'Random configuration',
		help: 'v3 module only. chin-chout (the paper): each input channel gets a bank filter and each output channel an N(0,1) gain, so after demodulation every output channel of a layer is ± one map. chout-chin swaps the roles.',
		options: ['chin-chout', 'chout-chin'],
		default: 'chin-chout'
	},
	same_noise_map: {
		kind: 'choice',
		label: 'Same noise map',
		help: 'auto: the paper’s choice per variant (only oriented shares one 512² pink map per image, area-downsampled to every layer). on/off force it for the randomized variants; otherwise each layer picks one of a 100-map dictionary built per network.',
		options: ['auto', 'on', 'off'],
		default: 'auto'
	},
	colour_normalisation: {
		kind: 'choice',
		label: 'Colour normalisation',
		help: 'prior (the current code): standardise each channel, then scale to a per-image mean ~ N((0.483, 0.455, 0.401), (0.145, 0.142, 0.161)²) and std ~ N((0.219, 0.213, 0.213), (0.063, 0.062, 0.069)²), clip to 0–1. minmax (legacy --old_color_norm): one range [min(−5, −p95|x|), max(5, p95|x|)] over all channels.',
		options: ['prior', 'minmax'],
		default: 'prior'
	}
} as const;

/** Values of {@link styleganParams}. */
export type StyleganParams = ParamValues<typeof styleganParams>;

/** The reference module a parameter set runs. */
export function styleganModule(params: StyleganParams): StyleganModule {
	switch (params.variant) {
		case 'original':
			return 'original';
		case 'highfreq':
			return 'v1';
		case 'sparse':
			return params.sparse_recipe;
		case 'oriented':
			return 'v3';
	}
}

/**
 * The synthesis resolution for an output size: the next power of two (the network only exists
 * at powers of two); other sizes are centre-cropped from it.
 */
export function synthesisResolution(size: number): number {
	let resolution = 4;
	while (resolution < size) resolution *= 2;
	return resolution;
}

/** Network settings for a parameter set and output size. */
export function styleganSettings(params: StyleganParams, size: number): NetworkSettings {
	const module = styleganModule(params);
	const sameNoiseMap =
		params.same_noise_map === 'auto'
			? params.variant === 'oriented'
			: params.same_noise_map === 'on';
	return {
		module,
		resolution: synthesisResolution(size),
		channelBase: params.channel_base,
		channelMax: params.channel_max,
		wDim: params.w_dim,
		noiseStrengthMax: params.noise_strength_max,
		biasRange: params.bias_range,
		sameNoiseMap,
		randomConfiguration: params.random_configuration
	};
}

/** Which network image `index` uses: one per block of `restartInterval` consecutive indices. */
export function styleganNetworkKey(seed: number, index: number, restartInterval: number): string {
	return `${seed}:${Math.floor(index / restartInterval)}`;
}

const cacheLimit = 2;
const networkCache = new Map<string, StyleganNetwork>();

/** The (cached) network for image `index`; caching never changes the output. */
export function styleganNetworkFor(
	params: StyleganParams,
	seed: number,
	index: number,
	size: number
): StyleganNetwork {
	const settings = styleganSettings(params, size);
	const key = `${JSON.stringify(settings)}|${styleganNetworkKey(seed, index, params.restart_interval)}`;
	let network = networkCache.get(key);
	if (network) {
		networkCache.delete(key);
	} else {
		network = buildStyleganNetwork(settings, seed, Math.floor(index / params.restart_interval));
		if (networkCache.size >= cacheLimit) {
			const oldest = networkCache.keys().next().value;
			if (oldest !== undefined) networkCache.delete(oldest);
		}
	}
	networkCache.set(key, network);
	return network;
}

/** Forgets cached networks (tests, memory pressure). */
export function clearStyleganCache(): void {
	networkCache.clear();
}

/** The raw float RGB planes of image `index` at the synthesis resolution. */
export function styleganPlanes(
	params: StyleganParams,
	seed: number,
	index: number,
	size: number,
	path: 'auto' | 'direct' = 'auto'
): { planes: Float64Array[]; plan: ImagePlan; resolution: number } {
	const network = styleganNetworkFor(params, seed, index, size);
	const plan = sampleImagePlan(network, seed, index);
	const planes =
		path === 'direct' || network.settings.module === 'original'
			? synthesizeDirect(network, plan)
			: synthesizeFast(network, plan);
	return { planes, plan, resolution: network.settings.resolution };
}

/** numpy's `percentile` with linear interpolation. */
function percentile(values: Float64Array, q: number): number {
	const sorted = Float64Array.from(values).sort();
	const position = (q / 100) * (sorted.length - 1);
	const low = Math.floor(position);
	const high = Math.min(low + 1, sorted.length - 1);
	return (
		(sorted[low] as number) +
		((sorted[high] as number) - (sorted[low] as number)) * (position - low)
	);
}

/**
 * Centre-crops the planes to `size` and converts them to bytes with the chosen colour
 * normalisation; like the reference (`astype('uint8')`), values are truncated, not rounded.
 */
export function normaliseColours(
	planes: Float64Array[],
	resolution: number,
	size: number,
	plan: Pick<ImagePlan, 'colourMean' | 'colourStd'>,
	mode: StyleganParams['colour_normalisation']
): RgbImage {
	const offset = Math.floor((resolution - size) / 2);
	const pixels = size * size;
	const cropped = planes.map((plane) => {
		const out = new Float64Array(pixels);
		for (let y = 0; y < size; y++)
			out.set(
				plane.subarray(
					(y + offset) * resolution + offset,
					(y + offset) * resolution + offset + size
				),
				y * size
			);
		return out;
	});
	const image = createImage(size);
	if (mode === 'prior') {
		cropped.forEach((plane, c) => {
			let mean = 0;
			for (let p = 0; p < pixels; p++) mean += plane[p] as number;
			mean /= pixels;
			let variance = 0;
			for (let p = 0; p < pixels; p++) variance += ((plane[p] as number) - mean) ** 2;
			const std = Math.sqrt(variance / pixels);
			const scale = std > 0 ? (plan.colourStd[c] as number) / std : 0;
			const target = plan.colourMean[c] as number;
			for (let p = 0; p < pixels; p++) {
				const value = ((plane[p] as number) - mean) * scale + target;
				image.data[p * 3 + c] = Math.floor(255 * Math.min(1, Math.max(0, value)));
			}
		});
		return image;
	}
	const all = new Float64Array(3 * pixels);
	cropped.forEach((plane, c) => {
		for (let p = 0; p < pixels; p++) all[c * pixels + p] = Math.abs(plane[p] as number);
	});
	const spread = percentile(all, 95);
	const low = Math.min(-5, -spread);
	const high = Math.max(5, spread);
	cropped.forEach((plane, c) => {
		for (let p = 0; p < pixels; p++) {
			const value = (((plane[p] as number) - low) / (high - low)) * 255;
			image.data[p * 3 + c] = Math.floor(Math.min(255, Math.max(0, value)));
		}
	});
	return image;
}

/** The untrained StyleGAN2 generator (spec §2.3). */
export const stylegan = defineGenerator({
	id: 'stylegan',
	family: 'stylegan',
	label: 'Untrained StyleGAN2',
	description:
		'Images from randomly initialised StyleGAN2-ADA synthesis networks (skip architecture, ReLU, mapping bypassed), in the paper’s four variants. Sizes that are not powers of two are centre-cropped from the next power of two.',
	// 2: the threshold gather and the Hermitian pink-noise inverse sum in another order (same
	// maths; a few bytes in 10⁴ differ by one).
	version: 2,
	speed: 'fast',
	params: styleganParams,
	generate: (params, seed, index, size) => {
		const { planes, plan, resolution } = styleganPlanes(params, seed, index, size);
		return normaliseColours(planes, resolution, size, plan, params.colour_normalisation);
	}
});

const cpuNote =
	'On one CPU core at the paper’s width, highfreq/sparse/oriented take tens of milliseconds per 128 px image; lower channel_base to go faster.';

/** The paper's four StyleGAN datasets (256 px as in the paper). */
export const styleganPresets: GeneratorPreset[] = [
	{
		name: 'stylegan-random',
		generator: 'stylegan',
		params: { variant: 'original' },
		size: 256,
		description:
			'Untrained StyleGAN2 with its default N(0,1) initialisation (figure label "default init"). No shortcut exists for fixed random weights: at the paper’s width an image costs about 3·10^10 multiply-adds at 128 px and 4.5·10^10 at 256 px, i.e. several seconds per image on one CPU core even with the app’s SIMD kernel; use channel_base ≈ 2048 for interactive speed.'
	},
	{
		name: 'stylegan-highfreq',
		generator: 'stylegan',
		params: { variant: 'highfreq' },
		size: 256,
		description: `Wavelet (v1 bank) filters resampled per image plus per-layer pink noise ("+1/f noise and wavelets"). ${cpuNote}`
	},
	{
		name: 'stylegan-sparse',
		generator: 'stylegan',
		params: { variant: 'sparse' },
		size: 256,
		description: `Adds a Laplacian envelope to the noise and random biases ("+laplacian envelope and bias"; v2 module by default, see sparse_recipe). ${cpuNote}`
	},
	{
		name: 'stylegan-oriented',
		generator: 'stylegan',
		params: { variant: 'oriented' },
		size: 256,
		description: `v3 bank with a random filter subset per layer, one pink×envelope map shared by all scales, biases U(−0.2, 0.2) ("+tied wavelets"). ${cpuNote}`
	}
];
