/**
 * The exact fast synthesis for the randomized variants (spec §2.3.3).
 *
 * With W[o,i] = F_{π(i)}·g_o (chin-chout), demodulation divides output channel o by
 * √(g_o²·Q + 1e-8) with Q = Σ_i s_i²‖F_{π(i)}‖², so before noise and bias every output channel
 * is c_o·M with c_o = g_o/√(g_o²Q + 1e-8) and one shared map M = Σ_f F_f ⋆ (Σ_{i:π(i)=f} s_i x_i).
 * A layer is therefore carried as one map plus per-channel (c_o, b_o), and its channels are
 * only materialised pixel by pixel inside the next layer's grouped sums and the ToRGB: O(C)
 * per pixel instead of O(C_in·C_out), plus one 3×3 conv per distinct filter. The 1e-8 is kept,
 * so the result equals the direct path to rounding.
 *
 * chout-chin (W[o,i] = F_{π(o)}·g_i) is the transpose: one input sum X = Σ_i g_i s_i x_i,
 * one map F_f ⋆ X per distinct filter, and c_o = 1/√(‖F_{π(o)}‖²·Σ_i g_i²s_i² + 1e-8).
 */
import {
	bankFor,
	effectiveConfiguration,
	type ConvLayer,
	type ImagePlan,
	type StyleganNetwork
} from './network';
import {
	addCorrelate3x3,
	addFirAfterTransposed,
	addTransposedConv3x3,
	addUpsampled2x
} from './ops';
import type { Filter3x3 } from './filter-banks';

/**
 * A layer's output without its channels: channel o is √2·max(0, coef[o]·maps[mapOf[o]] +
 * noise + bias[o]).
 */
interface ImplicitActivations {
	size: number;
	maps: Float64Array[];
	mapOf: Int32Array;
	coef: Float64Array;
	noise: Float64Array | null;
	bias: Float64Array | null;
}

/** How a conv layer reads its input: channel i adds weight[i]·x_i into group groupOf[i]. */
interface InputGrouping {
	groupCount: number;
	groupOf: Int32Array;
	weight: Float64Array;
}

/** How a conv layer turns its group sums into maps, and its per-output-channel scaling. */
interface LayerForm {
	grouping: InputGrouping;
	/** kernels[m][g]: the 3×3 kernel from group g into map m (null: none). */
	kernels: (Filter3x3 | null)[][];
	mapOf: Int32Array;
	coef: Float64Array;
}

function squaredNorm(filter: Filter3x3): number {
	let sum = 0;
	for (const value of filter) sum += value * value;
	return sum;
}

/** The factorised form of a randomized conv layer (see the module comment). */
function layerForm(network: StyleganNetwork, layer: ConvLayer, plan: ImagePlan): LayerForm {
	const layerPlan = plan.conv[layer.index];
	if (!layerPlan) throw new RangeError(`No plan for conv layer ${layer.index}`);
	const bank = bankFor(network.settings.module);
	const { styles, filters, gains } = layerPlan;
	const { inChannels, outChannels } = layer;
	const distinct = (indices: Int32Array) => {
		const slot = new Int32Array(bank.length).fill(-1);
		const used: number[] = [];
		const of = new Int32Array(indices.length);
		indices.forEach((filter, i) => {
			if (slot[filter] === -1) {
				slot[filter] = used.length;
				used.push(filter);
			}
			of[i] = slot[filter] as number;
		});
		return { used, of };
	};
	if (effectiveConfiguration(network.settings) === 'chin-chout') {
		const { used, of } = distinct(filters);
		let q = 0;
		for (let i = 0; i < inChannels; i++)
			q += (styles[i] as number) ** 2 * squaredNorm(bank[filters[i] as number] as Filter3x3);
		const coef = new Float64Array(outChannels);
		for (let o = 0; o < outChannels; o++) {
			const gain = gains[o] as number;
			coef[o] = gain / Math.sqrt(gain * gain * q + 1e-8);
		}
		return {
			grouping: { groupCount: used.length, groupOf: of, weight: Float64Array.from(styles) },
			kernels: [used.map((filter) => bank[filter] as Filter3x3)],
			mapOf: new Int32Array(outChannels),
			coef
		};
	}
	const { used, of } = distinct(filters);
	let total = 0;
	const weight = new Float64Array(inChannels);
	for (let i = 0; i < inChannels; i++) {
		weight[i] = (gains[i] as number) * (styles[i] as number);
		total += (weight[i] as number) ** 2;
	}
	const coef = new Float64Array(outChannels);
	for (let o = 0; o < outChannels; o++) {
		coef[o] = 1 / Math.sqrt(squaredNorm(bank[filters[o] as number] as Filter3x3) * total + 1e-8);
	}
	return {
		grouping: { groupCount: 1, groupOf: new Int32Array(inChannels), weight },
		kernels: used.map((filter) => [bank[filter] as Filter3x3]),
		mapOf: of,
		coef
	};
}

/** What a conv layer reads: input planes, and per output map the 3×3 kernel for each plane. */
interface ConvInput {
	planes: Float64Array[];
	kernels: (Filter3x3 | null)[][];
}

/** The nine 3×3 unit impulses: a conv with them sums nine shifted planes. */
const impulses: Filter3x3[] = Array.from({ length: 9 }, (_, t) => {
	const kernel = new Float64Array(9);
	kernel[t] = 1;
	return kernel;
});

/**
 * Sums a layer's channels into what the next conv layer reads (`next`, null for the last layer)
 * and, when `toRgb` is given (3×C weights with the style folded in), adds the ToRGB output into
 * `rgb`. Where a layer is one map and that is cheaper, sums by thresholds
 * ({@link gatherByThresholds}); then, when the next layer has more filter groups than its
 * kernels have taps, the sums are per tap (plane t = Σ_groups kernel_g[t]·group_g, convolved
 * with unit impulses), which leaves nine planes to sum and shift instead of one per group.
 */
function gather(
	input: ImplicitActivations,
	next: LayerForm | null,
	toRgb: Float64Array | null,
	rgb: Float64Array[]
): ConvInput {
	const channels = input.coef.length;
	const pixels = input.size * input.size;
	const grouping = next?.grouping ?? null;
	const groupCount = grouping ? grouping.groupCount : 0;
	const byTap = next !== null && next.kernels.length === 1 && groupCount > impulses.length;
	const sums = byTap ? impulses.length : groupCount;
	const columns = sums + (toRgb ? 3 : 0);
	if (input.maps.length !== 1 || !thresholdsPayOff(pixels, channels, columns)) {
		const groups = Array.from({ length: groupCount }, () => new Float64Array(pixels));
		gatherByChannel(input, grouping, toRgb, groups, rgb);
		return { planes: groups, kernels: next?.kernels ?? [] };
	}
	// Column weights per channel: the sums for the next layer, then red, green, blue.
	const weights = new Float64Array(channels * columns);
	for (let o = 0; o < channels; o++) {
		const row = o * columns;
		if (grouping) {
			const group = grouping.groupOf[o] as number;
			const weight = grouping.weight[o] as number;
			if (byTap) {
				const kernel = (next?.kernels[0]?.[group] ?? null) as Filter3x3 | null;
				if (kernel)
					for (let t = 0; t < sums; t++) weights[row + t] = weight * (kernel[t] as number);
			} else {
				weights[row + group] = weight;
			}
		}
		if (toRgb)
			for (let c = 0; c < 3; c++) weights[row + sums + c] = toRgb[c * channels + o] as number;
	}
	const outputs = gatherByThresholds(input, weights, columns);
	const planes = Array.from({ length: sums }, (_, j) => {
		const plane = new Float64Array(pixels);
		for (let p = 0; p < pixels; p++) plane[p] = outputs[p * columns + j] as number;
		return plane;
	});
	if (toRgb) {
		for (let c = 0; c < 3; c++) {
			const plane = rgb[c] as Float64Array;
			for (let p = 0; p < pixels; p++)
				plane[p] = (plane[p] as number) + (outputs[p * columns + sums + c] as number);
		}
	}
	return { planes, kernels: byTap ? [impulses] : (next?.kernels ?? []) };
}

/**
 * Whether the threshold tables (about 6·C·columns values to build, then 2·log₂C + 6·columns
 * steps per pixel) cost less than the channel loop (about 8·C per pixel). Only the layer's
 * shape decides, so the choice, and with it the rounding, is fixed per layer.
 */
function thresholdsPayOff(pixels: number, channels: number, columns: number): boolean {
	const thresholds = 6 * channels * columns + pixels * (2 * Math.log2(channels + 1) + 6 * columns);
	return thresholds < 8 * pixels * channels;
}

/**
 * Column j of the result at pixel p (interleaved, p·columns + j) is Σ_o weights[o·columns + j]·
 * √2·max(0, v_o), for a one-map layer, without a loop over channels. Channel o's pre-activation
 * is v_o = c_o·M + N + b_o, with M the map and N the noise at the pixel, and every c_o is ±1/√Q
 * up to the demodulation's 1e-8 (relative 1e-8/(g_o²Q), far below the rounding of the sums).
 * Within one sign class, channel o is therefore active exactly when b_o exceeds the pixel's
 * threshold −N − c·M: sorted by bias, the active channels are a suffix, and a column's sum
 * Σ_active w_o·√2·v_o = M·Σ √2·w_o·c_o + Σ √2·w_o·b_o + N·Σ √2·w_o comes from three suffix sums
 * at the threshold's rank: a binary search per class and six reads per column, per pixel.
 */
function gatherByThresholds(
	input: ImplicitActivations,
	weights: Float64Array,
	columns: number
): Float64Array {
	const channels = input.coef.length;
	const pixels = input.size * input.size;
	const outputs = new Float64Array(pixels * columns);
	const map = input.maps[0] as Float64Array;
	const noise = input.noise ?? new Float64Array(pixels);
	const biasOf = (o: number) => (input.bias ? (input.bias[o] as number) : 0);
	for (const sign of [1, -1, 0]) {
		const members: number[] = [];
		for (let o = 0; o < channels; o++) {
			if (Math.sign(input.coef[o] as number) === sign) members.push(o);
		}
		if (members.length === 0) continue;
		members.sort((a, b) => biasOf(a) - biasOf(b) || a - b);
		const count = members.length;
		// suffix[r·stride + 3j + (0, 1, 2)]: Σ over ranks ≥ r of √2·w_oj·(c_o, b_o, 1).
		const stride = 3 * columns;
		const suffix = new Float64Array((count + 1) * stride);
		for (let r = count - 1; r >= 0; r--) {
			const o = members[r] as number;
			const coef = input.coef[o] as number;
			const bias = biasOf(o);
			const row = r * stride;
			for (let j = 0; j < columns; j++) {
				const w = Math.SQRT2 * (weights[o * columns + j] as number);
				const at = row + 3 * j;
				suffix[at] = (suffix[at + stride] as number) + w * coef;
				suffix[at + 1] = (suffix[at + 1 + stride] as number) + w * bias;
				suffix[at + 2] = (suffix[at + 2 + stride] as number) + w;
			}
		}
		const sortedBias = Float64Array.from(members, biasOf);
		const coef = input.coef[members[0] as number] as number;
		thresholdKernel(pixels, map, noise, coef, sortedBias, suffix, columns, outputs);
	}
	return outputs;
}

/** The per-pixel loop of {@link gatherByThresholds} for one sign class; adds into `outputs`. */
function thresholdKernel(
	pixels: number,
	map: Float64Array,
	noise: Float64Array,
	coef: number,
	sortedBias: Float64Array,
	suffix: Float64Array,
	columns: number,
	outputs: Float64Array
): void {
	const count = sortedBias.length;
	const stride = 3 * columns;
	for (let p = 0; p < pixels; p++) {
		const m = map[p] as number;
		const n = noise[p] as number;
		const threshold = -n - coef * m;
		let low = 0;
		let high = count;
		while (low < high) {
			const middle = (low + high) >> 1;
			if ((sortedBias[middle] as number) <= threshold) low = middle + 1;
			else high = middle;
		}
		if (low === count) continue;
		const row = low * stride;
		const base = p * columns;
		for (let j = 0; j < columns; j++) {
			const at = row + 3 * j;
			outputs[base + j] =
				(outputs[base + j] as number) +
				(suffix[at] as number) * m +
				(suffix[at + 1] as number) +
				(suffix[at + 2] as number) * n;
		}
	}
}

/**
 * {@link gather} one pixel and one channel at a time. ReLU is computed branch-free as
 * (v + |v|)/2, since the sign of v is unpredictable from channel to channel.
 */
function gatherByChannel(
	input: ImplicitActivations,
	grouping: InputGrouping | null,
	toRgb: Float64Array | null,
	groups: Float64Array[],
	rgb: Float64Array[]
): void {
	const channels = input.coef.length;
	const pixels = input.size * input.size;
	const groupCount = grouping ? grouping.groupCount : 1;
	const order = Array.from({ length: channels }, (_, o) => o);
	if (grouping)
		order.sort(
			(a, b) => (grouping.groupOf[a] as number) - (grouping.groupOf[b] as number) || a - b
		);
	const groupEnd = new Int32Array(groupCount);
	const coef = new Float64Array(channels);
	const bias = new Float64Array(channels);
	const mapOf = new Int32Array(channels);
	const weight = new Float64Array(channels);
	const red = new Float64Array(channels);
	const green = new Float64Array(channels);
	const blue = new Float64Array(channels);
	// √2 (the activation gain) times ½ (from v + |v|).
	const gain = Math.SQRT1_2;
	for (let k = 0; k < channels; k++) {
		const o = order[k] as number;
		coef[k] = input.coef[o] as number;
		bias[k] = input.bias ? (input.bias[o] as number) : 0;
		mapOf[k] = input.mapOf[o] as number;
		const group = grouping ? (grouping.groupOf[o] as number) : 0;
		groupEnd[group] = k + 1;
		weight[k] = grouping ? (grouping.weight[o] as number) * gain : 0;
		if (toRgb) {
			red[k] = (toRgb[o] as number) * gain;
			green[k] = (toRgb[channels + o] as number) * gain;
			blue[k] = (toRgb[2 * channels + o] as number) * gain;
		}
	}
	for (let g = 1; g < groupCount; g++)
		groupEnd[g] = Math.max(groupEnd[g] as number, groupEnd[g - 1] as number);
	const noise = input.noise ?? new Float64Array(pixels);
	const preActivations = new Float64Array(channels);
	const values = new Float64Array(input.maps.length);
	const groupSums = new Float64Array(pixels * groupCount);
	const rgbSums = new Float64Array(toRgb ? pixels * 3 : 0);
	const planes = new Float64Array(pixels * input.maps.length);
	input.maps.forEach((map, m) => planes.set(map, m * pixels));
	gatherKernel(
		pixels,
		channels,
		input.maps.length,
		planes,
		noise,
		coef,
		bias,
		mapOf,
		values,
		preActivations,
		weight,
		groupEnd,
		grouping ? groupCount : 0,
		groupSums,
		red,
		green,
		blue,
		rgbSums
	);
	if (grouping) {
		for (let g = 0; g < groupCount; g++) {
			const plane = groups[g] as Float64Array;
			for (let p = 0; p < pixels; p++) plane[p] = groupSums[p * groupCount + g] as number;
		}
	}
	if (toRgb) {
		for (let c = 0; c < 3; c++) {
			const plane = rgb[c] as Float64Array;
			for (let p = 0; p < pixels; p++)
				plane[p] = (plane[p] as number) + (rgbSums[p * 3 + c] as number);
		}
	}
}

/**
 * The hot loop of {@link gatherByChannel}, on typed arrays only so it stays monomorphic. Outputs are
 * interleaved: groupSums[p·groupCount + g] and rgbSums[p·3 + c] (empty when there is no ToRGB).
 */
function gatherKernel(
	pixels: number,
	channels: number,
	mapCount: number,
	maps: Float64Array,
	noise: Float64Array,
	coef: Float64Array,
	bias: Float64Array,
	mapOf: Int32Array,
	values: Float64Array,
	doubled: Float64Array,
	weight: Float64Array,
	groupEnd: Int32Array,
	groupCount: number,
	groupSums: Float64Array,
	red: Float64Array,
	green: Float64Array,
	blue: Float64Array,
	rgbSums: Float64Array
): void {
	const withRgb = rgbSums.length > 0;
	for (let p = 0; p < pixels; p++) {
		const n = noise[p] as number;
		if (mapCount === 1) {
			const m = maps[p] as number;
			for (let k = 0; k < channels; k++) {
				const v = (coef[k] as number) * m + n + (bias[k] as number);
				doubled[k] = v + Math.abs(v);
			}
		} else {
			for (let m = 0; m < mapCount; m++) values[m] = maps[m * pixels + p] as number;
			for (let k = 0; k < channels; k++) {
				const v =
					(coef[k] as number) * (values[mapOf[k] as number] as number) + n + (bias[k] as number);
				doubled[k] = v + Math.abs(v);
			}
		}
		let k = 0;
		const base = p * groupCount;
		for (let g = 0; g < groupCount; g++) {
			const end = groupEnd[g] as number;
			let sum = 0;
			for (; k < end; k++) sum += (weight[k] as number) * (doubled[k] as number);
			groupSums[base + g] = sum;
		}
		if (withRgb) {
			let r = 0;
			let gr = 0;
			let b = 0;
			for (k = 0; k < channels; k++) {
				const a = doubled[k] as number;
				r += (red[k] as number) * a;
				gr += (green[k] as number) * a;
				b += (blue[k] as number) * a;
			}
			rgbSums[p * 3] = r;
			rgbSums[p * 3 + 1] = gr;
			rgbSums[p * 3 + 2] = b;
		}
	}
}

/** Runs a conv layer on its group sums: maps at the layer's resolution. */
function convolveGroups(input: ConvInput, layer: ConvLayer, inSize: number): Float64Array[] {
	const groups = input.planes;
	const size = layer.resolution;
	const transposed = layer.up ? new Float64Array((2 * inSize + 1) ** 2) : null;
	const rows = layer.up ? new Float64Array((2 * inSize + 1) * 2 * inSize) : null;
	return input.kernels.map((kernels) => {
		const map = new Float64Array(size * size);
		if (transposed && rows) transposed.fill(0);
		kernels.forEach((kernel, g) => {
			const plane = groups[g];
			if (!kernel || !plane) return;
			if (transposed) addTransposedConv3x3(plane, inSize, kernel, 1, transposed);
			else addCorrelate3x3(plane, size, kernel, 1, map);
		});
		if (transposed && rows) addFirAfterTransposed(transposed, inSize, map, rows);
		return map;
	});
}

/** ToRGB weights with the style folded in, 3 × C. */
function toRgbWeights(plan: ImagePlan, block: number, channels: number): Float64Array {
	const toRgb = plan.toRgb[block];
	if (!toRgb) throw new RangeError(`No plan for ToRGB ${block}`);
	const weights = new Float64Array(3 * channels);
	for (let c = 0; c < 3; c++) {
		for (let i = 0; i < channels; i++) {
			weights[c * channels + i] =
				(toRgb.weights[c * channels + i] as number) * (toRgb.styles[i] as number);
		}
	}
	return weights;
}

/**
 * The forward pass of a randomized network (modules v1/v2/v3) through the factorised layers:
 * three float planes at the synthesis resolution, equal to {@link synthesizeDirect}'s.
 */
export function synthesizeFast(network: StyleganNetwork, plan: ImagePlan): Float64Array[] {
	if (network.settings.module === 'original') {
		throw new RangeError('The original variant has no factorised form; use synthesizeDirect');
	}
	const { architecture, constInput } = network;
	const convLayers = architecture.convLayers;
	const forms = convLayers.map((layer) => layerForm(network, layer, plan));
	const first = convLayers[0];
	const firstForm = forms[0];
	if (!first || !firstForm) throw new RangeError('A network needs at least one conv layer');

	// The constant input is explicit: group it directly.
	const groups = Array.from({ length: firstForm.grouping.groupCount }, () => new Float64Array(16));
	for (let i = 0; i < first.inChannels; i++) {
		const plane = groups[firstForm.grouping.groupOf[i] as number] as Float64Array;
		const weight = firstForm.grouping.weight[i] as number;
		for (let p = 0; p < 16; p++)
			plane[p] = (plane[p] as number) + weight * (constInput[i * 16 + p] as number);
	}
	let input: ConvInput = { planes: groups, kernels: firstForm.kernels };
	let inputSize = 4;
	let image: Float64Array[] | null = null;
	for (let l = 0; l < convLayers.length; l++) {
		const layer = convLayers[l] as ConvLayer;
		const form = forms[l] as LayerForm;
		const layerPlan = plan.conv[l];
		const maps = convolveGroups(input, layer, inputSize);
		const activations: ImplicitActivations = {
			size: layer.resolution,
			maps,
			mapOf: form.mapOf,
			coef: form.coef,
			noise: layerPlan?.noise ?? null,
			bias: layerPlan?.bias ?? null
		};
		const size = layer.resolution;
		const pixels = size * size;
		// conv1 of a block feeds that block's ToRGB.
		const blockIndex = architecture.blocks.findIndex((block) => block.conv1 === layer);
		let rgb: Float64Array[] = [];
		let rgbWeights: Float64Array | null = null;
		if (blockIndex >= 0) {
			rgb = [0, 1, 2].map(() => new Float64Array(pixels));
			if (image) {
				const rows = new Float64Array(pixels);
				for (let c = 0; c < 3; c++)
					addUpsampled2x(image[c] as Float64Array, size / 2, rgb[c] as Float64Array, rows);
			}
			rgbWeights = toRgbWeights(plan, blockIndex, layer.outChannels);
		}
		input = gather(activations, forms[l + 1] ?? null, rgbWeights, rgb);
		if (blockIndex >= 0) image = rgb;
		inputSize = size;
	}
	if (!image) throw new RangeError('No image produced');
	return image;
}
