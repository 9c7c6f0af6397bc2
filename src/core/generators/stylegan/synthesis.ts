/**
 * The direct synthesis: every conv layer materialises its full modulated, demodulated weight
 * tensor W''[o,i,3,3] and convolves every (o, i) pair, exactly as StyleGAN2-ADA's fused
 * `modulated_conv2d` does. Cost O(C_in·C_out) per pixel per layer: this is the only path for
 * `original` (fixed N(0,1) weights have no shortcut) and the reference the fast path is tested
 * against. The convolutions themselves go through the installed {@link styleganConvolutions}.
 */
import {
	bankFor,
	effectiveConfiguration,
	randomizedWeight,
	type ConvLayer,
	type ImagePlan,
	type StyleganNetwork
} from './network';
import { styleganConvolutions } from './convolutions';
import { addFirAfterTransposed, addUpsampled2x } from './ops';

/** Planar channels: `channels` planes of side `size`. */
export interface Activations {
	size: number;
	planes: Float64Array[];
}

/** The demodulated weights of one conv layer, out × in × 9. */
function demodulatedWeights(
	network: StyleganNetwork,
	layer: ConvLayer,
	plan: ImagePlan
): Float64Array {
	const layerPlan = plan.conv[layer.index];
	if (!layerPlan) throw new RangeError(`No plan for conv layer ${layer.index}`);
	const { inChannels, outChannels } = layer;
	const weights = new Float64Array(outChannels * inChannels * 9);
	const fixed = network.convWeights?.[layer.index];
	const bank = fixed ? [] : bankFor(network.settings.module);
	const configuration = effectiveConfiguration(network.settings);
	for (let o = 0; o < outChannels; o++) {
		let squares = 0;
		for (let i = 0; i < inChannels; i++) {
			const at = (o * inChannels + i) * 9;
			const style = layerPlan.styles[i] as number;
			if (fixed) {
				for (let k = 0; k < 9; k++) weights[at + k] = (fixed[at + k] as number) * style;
			} else {
				const { filter, gain } = randomizedWeight(layerPlan, bank, configuration, o, i);
				for (let k = 0; k < 9; k++) weights[at + k] = (filter[k] as number) * gain * style;
			}
			for (let k = 0; k < 9; k++) squares += (weights[at + k] as number) ** 2;
		}
		const demodulation = 1 / Math.sqrt(squares + 1e-8);
		const start = o * inChannels * 9;
		for (let k = start; k < start + inChannels * 9; k++)
			weights[k] = (weights[k] as number) * demodulation;
	}
	return weights;
}

/** One modulated conv layer followed by noise, bias, ReLU and the √2 gain. */
export function convLayerDirect(
	network: StyleganNetwork,
	layer: ConvLayer,
	plan: ImagePlan,
	input: Activations
): Activations {
	const layerPlan = plan.conv[layer.index];
	if (!layerPlan) throw new RangeError(`No plan for conv layer ${layer.index}`);
	const weights = demodulatedWeights(network, layer, plan);
	const size = layer.resolution;
	const pixels = size * size;
	const convolutions = styleganConvolutions();
	let planes: Float64Array[];
	if (layer.up) {
		const transposed = convolutions.transposed3x3(
			input.planes,
			input.size,
			weights,
			layer.outChannels
		);
		const rows = new Float64Array((2 * input.size + 1) * size);
		planes = transposed.map((plane) => {
			const out = new Float64Array(pixels);
			addFirAfterTransposed(plane, input.size, out, rows);
			return out;
		});
	} else {
		planes = convolutions.correlate3x3(input.planes, size, weights, layer.outChannels);
	}
	const noise = layerPlan.noise;
	planes.forEach((out, o) => {
		const bias = layerPlan.bias ? (layerPlan.bias[o] as number) : 0;
		for (let p = 0; p < pixels; p++) {
			const value = (out[p] as number) + (noise ? (noise[p] as number) : 0) + bias;
			out[p] = value > 0 ? value * Math.SQRT2 : 0;
		}
	});
	return { size, planes };
}

/** The full forward pass by direct convolution: three float planes at the synthesis resolution. */
export function synthesizeDirect(network: StyleganNetwork, plan: ImagePlan): Float64Array[] {
	const { architecture, constInput } = network;
	const first = architecture.blocks[0];
	if (!first) throw new RangeError('A network needs at least one block');
	let x: Activations = {
		size: 4,
		planes: Array.from({ length: first.conv1.inChannels }, (_, c) =>
			constInput.slice(c * 16, c * 16 + 16)
		)
	};
	let image: Float64Array[] | null = null;
	architecture.blocks.forEach((block, b) => {
		if (block.conv0) x = convLayerDirect(network, block.conv0, plan, x);
		x = convLayerDirect(network, block.conv1, plan, x);
		const size = block.resolution;
		const next = [0, 1, 2].map(() => new Float64Array(size * size));
		if (image) {
			const rows = new Float64Array(size * size);
			for (let c = 0; c < 3; c++)
				addUpsampled2x(image[c] as Float64Array, size / 2, next[c] as Float64Array, rows);
		}
		const toRgb = plan.toRgb[b];
		if (!toRgb) throw new RangeError(`No plan for ToRGB ${b}`);
		const channels = block.toRgb.inChannels;
		for (let c = 0; c < 3; c++) {
			const out = next[c] as Float64Array;
			for (let i = 0; i < channels; i++) {
				const weight = (toRgb.weights[c * channels + i] as number) * (toRgb.styles[i] as number);
				const plane = x.planes[i] as Float64Array;
				for (let p = 0; p < out.length; p++)
					out[p] = (out[p] as number) + weight * (plane[p] as number);
			}
		}
		image = next;
	});
	if (!image) throw new RangeError('No image produced');
	return image;
}
