/**
 * An untrained StyleGAN2-ADA synthesis network (spec §2.3.1) and the random draws of one
 * forward pass. Everything a network instance holds (constant input, affine matrices, noise
 * dictionaries, and for `original` the conv weights) comes from (seed, restart block); every
 * per-image draw (ws, noise strengths and maps, filter assignments, gains, biases, ToRGB
 * weights, colour prior) comes from (seed, index). The direct and the fast synthesis both read
 * the same {@link ImagePlan}, so they compute the same function.
 */
import { Random } from '../random';
import { waveletBankV1, waveletBankV3, type Filter3x3 } from './filter-banks';
import { areaDownsample, pinkNoise } from './pink-noise';

/** The paper's four datasets (spec §2.3.2). */
export const styleganVariants = ['original', 'highfreq', 'sparse', 'oriented'] as const;
/** One of {@link styleganVariants}. */
export type StyleganVariant = (typeof styleganVariants)[number];

/** Which reference module a configuration runs: networks.py or network_randomized{,_v2,_v3}.py. */
export type StyleganModule = 'original' | 'v1' | 'v2' | 'v3';

/** Which axis gets the bank filters and which the N(0,1) gains (v3's `--random_configuration`). */
export type RandomConfiguration = 'chin-chout' | 'chout-chin';

/** Everything that shapes a network and its forward passes. */
export interface NetworkSettings {
	module: StyleganModule;
	/** Synthesis resolution, a power of two ≥ 4. */
	resolution: number;
	channelBase: number;
	channelMax: number;
	wDim: number;
	/** Upper end of the per-layer noise strength U(0, max). */
	noiseStrengthMax: number;
	/** v2: bias ~ U(0, range); v3: U(−range, range); ignored by `original` and v1. */
	biasRange: number;
	/** One 512² pink map per image, area-downsampled to every layer (v2/v3's `same_noise_maps`). */
	sameNoiseMap: boolean;
	randomConfiguration: RandomConfiguration;
}

/** One modulated 3×3 conv layer. */
export interface ConvLayer {
	/** Position among the conv layers, 0-based. */
	index: number;
	resolution: number;
	inChannels: number;
	outChannels: number;
	/** Whether this is a block's conv0 (transposed stride-2 conv + FIR). */
	up: boolean;
	/** Which w drives its style. */
	wIndex: number;
}

/** One 1×1 ToRGB layer (no demodulation). */
export interface ToRgbLayer {
	resolution: number;
	inChannels: number;
	wIndex: number;
}

/** A synthesis block: conv0 (except at 4²), conv1 and ToRGB (skip architecture). */
export interface Block {
	resolution: number;
	conv0: ConvLayer | null;
	conv1: ConvLayer;
	toRgb: ToRgbLayer;
}

/** The layer structure for a resolution and width. */
export interface Architecture {
	blocks: Block[];
	convLayers: ConvLayer[];
	toRgbLayers: ToRgbLayer[];
	numWs: number;
}

/** Channels at a resolution: min(channel_base / res, channel_max), at least 1. */
export function channelsAt(resolution: number, channelBase: number, channelMax: number): number {
	return Math.max(1, Math.min(Math.floor(channelBase / resolution), channelMax));
}

/** Blocks 4, 8, …, resolution with StyleGAN2-ADA's w indexing (ToRGB shares the next conv0's w). */
export function buildArchitecture(settings: NetworkSettings): Architecture {
	const blocks: Block[] = [];
	const convLayers: ConvLayer[] = [];
	const toRgbLayers: ToRgbLayer[] = [];
	let wIndex = 0;
	for (let resolution = 4; resolution <= settings.resolution; resolution *= 2) {
		const channels = channelsAt(resolution, settings.channelBase, settings.channelMax);
		const previous =
			resolution > 4 ? channelsAt(resolution / 2, settings.channelBase, settings.channelMax) : 0;
		const layer = (inChannels: number, up: boolean): ConvLayer => {
			const conv = {
				index: convLayers.length,
				resolution,
				inChannels,
				outChannels: channels,
				up,
				wIndex: wIndex++
			};
			convLayers.push(conv);
			return conv;
		};
		const conv0 = resolution > 4 ? layer(previous, true) : null;
		const conv1 = layer(channels, false);
		const toRgb = { resolution, inChannels: channels, wIndex };
		toRgbLayers.push(toRgb);
		blocks.push({ resolution, conv0, conv1, toRgb });
	}
	return { blocks, convLayers, toRgbLayers, numWs: wIndex + 1 };
}

/** The filter bank a module samples from (none for `original`). */
export function bankFor(module: StyleganModule): Filter3x3[] {
	if (module === 'v3') return (bankV3 ??= waveletBankV3());
	return (bankV1 ??= waveletBankV1());
}
let bankV1: Filter3x3[] | undefined;
let bankV3: Filter3x3[] | undefined;

/** Size of each layer's pink-noise dictionary (spec §2.3.5). */
export const noiseDictionarySize = 100;
/** Side of the per-image shared noise map (`same_noise_maps`). */
export const sharedNoiseMapSize = 512;

const networkStream = 0x6e6574;
const noiseStream = 0x6e6f69;

/** A network instance: what the reference resamples at each restart. */
export interface StyleganNetwork {
	settings: NetworkSettings;
	architecture: Architecture;
	seed: number;
	/** floor(index / restart interval). */
	restartBlock: number;
	/** The random constant input, N(0,1), channels × 4 × 4. */
	constInput: Float64Array;
	/** Per conv layer, A ~ N(0,1) of shape inChannels × wDim. */
	convAffine: Float32Array[];
	/** Per ToRGB layer, A ~ N(0,1) of shape inChannels × wDim. */
	toRgbAffine: Float32Array[];
	/** `original` only: the fixed conv weights, out × in × 3 × 3. */
	convWeights: Float32Array[] | null;
	/** `original` only: the fixed ToRGB weights, 3 × in. */
	toRgbWeights: Float32Array[] | null;
	/** Map `mapIndex` of conv layer `layer`'s dictionary, built on first use (same bytes in any order). */
	noiseMap(layer: number, mapIndex: number): Float32Array;
}

function normals(random: Random, count: number): Float32Array {
	const values = new Float32Array(count);
	for (let i = 0; i < count; i++) values[i] = random.normal();
	return values;
}

/** Instantiates the network for (seed, restart block). */
export function buildStyleganNetwork(
	settings: NetworkSettings,
	seed: number,
	restartBlock: number
): StyleganNetwork {
	const architecture = buildArchitecture(settings);
	const random = new Random(seed, restartBlock, networkStream);
	const firstChannels = architecture.blocks[0]?.conv1.inChannels ?? 1;
	const constInput = Float64Array.from(normals(random, firstChannels * 16));
	const convAffine = architecture.convLayers.map((layer) =>
		normals(random, layer.inChannels * settings.wDim)
	);
	const toRgbAffine = architecture.toRgbLayers.map((layer) =>
		normals(random, layer.inChannels * settings.wDim)
	);
	const original = settings.module === 'original';
	const convWeights = original
		? architecture.convLayers.map((layer) =>
				normals(random, layer.outChannels * layer.inChannels * 9)
			)
		: null;
	const toRgbWeights = original
		? architecture.toRgbLayers.map((layer) => normals(random, 3 * layer.inChannels))
		: null;
	const dictionaries = architecture.convLayers.map(() => new Map<number, Float32Array>());
	const envelope = settings.module !== 'v1';
	return {
		settings,
		architecture,
		seed,
		restartBlock,
		constInput,
		convAffine,
		toRgbAffine,
		convWeights,
		toRgbWeights,
		noiseMap(layer, mapIndex) {
			const dictionary = dictionaries[layer];
			const resolution = architecture.convLayers[layer]?.resolution;
			if (!dictionary || resolution === undefined) throw new RangeError(`No conv layer ${layer}`);
			let map = dictionary.get(mapIndex);
			if (!map) {
				map = pinkNoise(
					new Random(seed, restartBlock, noiseStream, layer, mapIndex),
					resolution,
					envelope
				);
				dictionary.set(mapIndex, map);
			}
			return map;
		}
	};
}

/** The random draws of one conv layer in one forward pass. */
export interface ConvPlan {
	/** s = A·w/√w_dim + 1, per input channel. */
	styles: Float64Array;
	/** The noise map already multiplied by its strength, or null (no noise). */
	noise: Float64Array | null;
	/** Per-channel bias, or null (zero). */
	bias: Float64Array | null;
	/**
	 * Bank index per input channel (chin-chout) or per output channel (chout-chin); empty for
	 * `original`.
	 */
	filters: Int32Array;
	/** N(0,1) gain per output channel (chin-chout) or per input channel (chout-chin). */
	gains: Float64Array;
}

/** The random draws of one ToRGB layer in one forward pass. */
export interface ToRgbPlan {
	/** Styles already multiplied by 1/√C_in. */
	styles: Float64Array;
	/** 3 × C_in weights (resampled per forward, or the network's for `original`). */
	weights: Float64Array;
}

/** Everything random about one image. */
export interface ImagePlan {
	conv: ConvPlan[];
	toRgb: ToRgbPlan[];
	/** Per-channel target mean and std of the colour prior (spec §2.3.1). */
	colourMean: [number, number, number];
	colourStd: [number, number, number];
}

function styles(
	affine: Float32Array,
	w: Float64Array,
	wOffset: number,
	wDim: number,
	channels: number,
	scale: number
): Float64Array {
	const out = new Float64Array(channels);
	const gain = 1 / Math.sqrt(wDim);
	const wEnd = wDim - (wDim % 4);
	for (let i = 0; i < channels; i++) {
		// Four partial sums break the chain of dependent additions, which bounds this loop.
		let s0 = 0;
		let s1 = 0;
		let s2 = 0;
		let s3 = 0;
		const row = i * wDim;
		let j = 0;
		for (; j < wEnd; j += 4) {
			const a = row + j;
			const b = wOffset + j;
			s0 += (affine[a] as number) * (w[b] as number);
			s1 += (affine[a + 1] as number) * (w[b + 1] as number);
			s2 += (affine[a + 2] as number) * (w[b + 2] as number);
			s3 += (affine[a + 3] as number) * (w[b + 3] as number);
		}
		for (; j < wDim; j++) s0 += (affine[row + j] as number) * (w[wOffset + j] as number);
		out[i] = ((s0 + s1 + (s2 + s3)) * gain + 1) * scale;
	}
	return out;
}

/** Draws everything random about image `index` (stream (seed, index)). */
export function sampleImagePlan(network: StyleganNetwork, seed: number, index: number): ImagePlan {
	const { settings, architecture } = network;
	const random = new Random(seed, index);
	const { wDim } = settings;
	const ws = new Float64Array(architecture.numWs * wDim);
	for (let i = 0; i < ws.length; i++) {
		const value = random.normal();
		ws[i] = value < 0 ? 0.2 * value : value;
	}
	const original = settings.module === 'original';
	const shared =
		!original && settings.sameNoiseMap
			? pinkNoise(random, sharedNoiseMapSize, settings.module !== 'v1')
			: null;
	const sharedBySize = new Map<number, Float64Array>();
	const bank = original ? [] : bankFor(settings.module);
	const conv = architecture.convLayers.map((layer): ConvPlan => {
		const layerStyles = styles(
			network.convAffine[layer.index] as Float32Array,
			ws,
			layer.wIndex * wDim,
			wDim,
			layer.inChannels,
			1
		);
		if (original) {
			// networks.py: noise strength is initialised to 0 and the bias to 0.
			return {
				styles: layerStyles,
				noise: null,
				bias: null,
				filters: new Int32Array(0),
				gains: new Float64Array(0)
			};
		}
		const pixels = layer.resolution * layer.resolution;
		const strength = random.uniform() * settings.noiseStrengthMax;
		const noise = new Float64Array(pixels);
		if (shared) {
			let base = sharedBySize.get(layer.resolution);
			if (!base) {
				base = areaDownsample(shared, sharedNoiseMapSize, layer.resolution);
				sharedBySize.set(layer.resolution, base);
			}
			for (let p = 0; p < pixels; p++) noise[p] = (base[p] as number) * strength;
		} else {
			const map = network.noiseMap(layer.index, random.int(noiseDictionarySize));
			for (let p = 0; p < pixels; p++) noise[p] = (map[p] as number) * strength;
		}
		const chinChout = settings.module !== 'v3' || settings.randomConfiguration === 'chin-chout';
		const filterCount = chinChout ? layer.inChannels : layer.outChannels;
		const gainCount = chinChout ? layer.outChannels : layer.inChannels;
		const filters = new Int32Array(filterCount);
		if (settings.module === 'v3') {
			// A random subset of 5..40 of the 40 filters per layer and forward pass.
			const subsetSize = 5 + random.int(bank.length - 4);
			const subset = random.shuffle(Array.from(bank.keys())).slice(0, subsetSize);
			for (let i = 0; i < filterCount; i++) filters[i] = subset[random.int(subsetSize)] as number;
		} else {
			for (let i = 0; i < filterCount; i++) filters[i] = random.int(bank.length);
		}
		const gains = new Float64Array(gainCount);
		for (let i = 0; i < gainCount; i++) gains[i] = random.normal();
		let bias: Float64Array | null = null;
		if ((settings.module === 'v2' || settings.module === 'v3') && settings.biasRange !== 0) {
			bias = new Float64Array(layer.outChannels);
			const low = settings.module === 'v3' ? -settings.biasRange : 0;
			for (let o = 0; o < layer.outChannels; o++) bias[o] = random.range(low, settings.biasRange);
		}
		return { styles: layerStyles, noise, bias, filters, gains };
	});
	const toRgb = architecture.toRgbLayers.map((layer, i): ToRgbPlan => {
		const affine = network.toRgbAffine[i] as Float32Array;
		const layerStyles = styles(
			affine,
			ws,
			layer.wIndex * wDim,
			wDim,
			layer.inChannels,
			1 / Math.sqrt(layer.inChannels)
		);
		const fixed = network.toRgbWeights?.[i];
		const weights = fixed
			? Float64Array.from(fixed)
			: new Float64Array(3 * layer.inChannels).map(() => random.normal());
		return { styles: layerStyles, weights };
	});
	const prior = colourPrior(random);
	return { conv, toRgb, ...prior };
}

/** Per-image ImageNet-like channel statistics, drawn in the reference's order (mean, std per channel). */
function colourPrior(random: Random): Pick<ImagePlan, 'colourMean' | 'colourStd'> {
	const mean = [0.483, 0.455, 0.401];
	const meanSpread = [0.145, 0.142, 0.161];
	const std = [0.219, 0.213, 0.213];
	const stdSpread = [0.063, 0.062, 0.069];
	const colourMean: [number, number, number] = [0, 0, 0];
	const colourStd: [number, number, number] = [0, 0, 0];
	for (let c = 0; c < 3; c++) {
		colourMean[c] = random.normal() * (meanSpread[c] as number) + (mean[c] as number);
		colourStd[c] = random.normal() * (stdSpread[c] as number) + (std[c] as number);
	}
	return { colourMean, colourStd };
}

/** The 3×3 weight W[o,i] of a randomized layer before modulation (spec §2.3.3). */
export function randomizedWeight(
	plan: ConvPlan,
	bank: readonly Filter3x3[],
	configuration: RandomConfiguration,
	o: number,
	i: number
): { filter: Filter3x3; gain: number } {
	const chinChout = configuration === 'chin-chout';
	const filter = bank[plan.filters[chinChout ? i : o] as number] as Filter3x3;
	return { filter, gain: plan.gains[chinChout ? o : i] as number };
}

/** v1/v2 always use chin filters × chout gains; v3 follows `randomConfiguration`. */
export function effectiveConfiguration(settings: NetworkSettings): RandomConfiguration {
	return settings.module === 'v3' ? settings.randomConfiguration : 'chin-chout';
}
