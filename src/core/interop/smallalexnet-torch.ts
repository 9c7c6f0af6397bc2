/**
 * The paper's SmallAlexNet in PyTorch (`align_uniform/encoder.py` of mbaradad/learning_with_noise):
 * `self.blocks = nn.ModuleList([...])` of `nn.Sequential`s, so its state dict reads
 *   blocks.0–4: .0 Conv2d (no bias, OIHW), .1 BatchNorm2d
 *   blocks.5:   .0 Flatten, .1 Linear (no bias, [out, in], input flattened in (c, h, w) order), .2 BatchNorm1d
 *   blocks.6:   .0 Linear (no bias), .1 BatchNorm1d
 *   blocks.7:   .0 Linear (with bias), .1 L2Norm
 * and NoiseLab's names and layouts (`training/model.ts`: HWIO kernels, `[in, out]` dense
 * kernels, fc6 reading the NHWC map in (h, w, c) order). These functions map one to the other
 * exactly, both ways.
 */
import type { EncoderArchitecture } from '../encoders/architecture';
import { convLayers, featureMapSizes, type EncoderSpec } from '../training/encoder-spec';
import type { ExpectedTensor } from '../encoders/resnet';
import type { HostTensor } from './tensors';

/** A SmallAlexNet's architecture record. */
export type SmallAlexNetArchitecture = Extract<EncoderArchitecture, { kind: 'smallalexnet' }>;

/** The encoder spec of an architecture record. */
export function specOf(architecture: SmallAlexNetArchitecture): EncoderSpec {
	const { inputSize, channels, fcWidth, embeddingDim } = architecture;
	return { inputSize, channels, fcWidth, embeddingDim };
}

/** The architecture record of a spec. */
export function smallAlexNetArchitecture(spec: EncoderSpec): SmallAlexNetArchitecture {
	return { kind: 'smallalexnet', ...spec, channels: [...spec.channels] };
}

const bnFields = [
	['weight', 'gamma'],
	['bias', 'beta'],
	['running_mean', 'running_mean'],
	['running_var', 'running_var']
] as const;

/** The PyTorch module prefix of each NoiseLab layer's linear/conv weight and batch norm. */
const torchPlaces = {
	conv1: { weight: 'blocks.0.0', bn: 'blocks.0.1' },
	conv2: { weight: 'blocks.1.0', bn: 'blocks.1.1' },
	conv3: { weight: 'blocks.2.0', bn: 'blocks.2.1' },
	conv4: { weight: 'blocks.3.0', bn: 'blocks.3.1' },
	conv5: { weight: 'blocks.4.0', bn: 'blocks.4.1' },
	fc6: { weight: 'blocks.5.1', bn: 'blocks.5.2' },
	fc7: { weight: 'blocks.6.0', bn: 'blocks.6.1' },
	fc8: { weight: 'blocks.7.0', bn: null }
} as const;

/** Every tensor of the PyTorch state dict (without `num_batches_tracked`), with its shape. */
export function smallAlexNetExpectedTensors(spec: EncoderSpec): ExpectedTensor[] {
	const out: ExpectedTensor[] = [];
	let inputs = 3;
	const bn = (prefix: string, width: number) => {
		for (const [field] of bnFields) out.push({ name: `${prefix}.${field}`, shape: [width] });
	};
	for (const [index, layer] of convLayers.entries()) {
		const outputs = spec.channels[index] as number;
		out.push({ name: `${torchPlaces[layer].weight}.weight`, shape: [outputs, inputs, 3, 3] });
		bn(torchPlaces[layer].bn, outputs);
		inputs = outputs;
	}
	const side = featureMapSizes(spec)[4];
	out.push({ name: 'blocks.5.1.weight', shape: [spec.fcWidth, spec.channels[4] * side * side] });
	bn('blocks.5.2', spec.fcWidth);
	out.push({ name: 'blocks.6.0.weight', shape: [spec.fcWidth, spec.fcWidth] });
	bn('blocks.6.1', spec.fcWidth);
	out.push({ name: 'blocks.7.0.weight', shape: [spec.embeddingDim, spec.fcWidth] });
	out.push({ name: 'blocks.7.0.bias', shape: [spec.embeddingDim] });
	return out;
}

function transpose2d(data: Float32Array, rows: number, columns: number): Float32Array {
	const out = new Float32Array(data.length);
	for (let r = 0; r < rows; r++)
		for (let c = 0; c < columns; c++) out[c * rows + r] = data[r * columns + c] as number;
	return out;
}

function need(tensors: ReadonlyMap<string, HostTensor>, name: string): HostTensor {
	const tensor = tensors.get(name);
	if (!tensor) throw new Error(`The weights have no '${name}'.`);
	return tensor;
}

/**
 * PyTorch tensors → NoiseLab's (`conv1/kernel`, `fc6/bn/running_var`, …). The state dict must
 * hold every {@link smallAlexNetExpectedTensors} entry with its shape (check first).
 */
export function smallAlexNetFromTorch(
	spec: EncoderSpec,
	tensors: ReadonlyMap<string, HostTensor>
): Record<string, HostTensor> {
	const out: Record<string, HostTensor> = {};
	const bn = (layer: string, prefix: string) => {
		for (const [field, ours] of bnFields)
			out[`${layer}/bn/${ours}`] = { ...need(tensors, `${prefix}.${field}`) };
	};
	let inputs = 3;
	for (const [index, layer] of convLayers.entries()) {
		const outputs = spec.channels[index] as number;
		const oihw = need(tensors, `${torchPlaces[layer].weight}.weight`).data;
		const hwio = new Float32Array(oihw.length);
		for (let o = 0; o < outputs; o++)
			for (let i = 0; i < inputs; i++)
				for (let t = 0; t < 9; t++)
					hwio[(t * inputs + i) * outputs + o] = oihw[(o * inputs + i) * 9 + t] as number;
		out[`${layer}/kernel`] = { shape: [3, 3, inputs, outputs], data: hwio };
		bn(layer, torchPlaces[layer].bn);
		inputs = outputs;
	}
	const side = featureMapSizes(spec)[4];
	const channels = spec.channels[4];
	const flat = channels * side * side;
	const fc6 = need(tensors, 'blocks.5.1.weight').data;
	const kernel = new Float32Array(fc6.length);
	// PyTorch column c·H·W + h·W + w becomes our row (h·W + w)·C + c.
	for (let f = 0; f < spec.fcWidth; f++)
		for (let c = 0; c < channels; c++)
			for (let p = 0; p < side * side; p++)
				kernel[(p * channels + c) * spec.fcWidth + f] = fc6[
					f * flat + c * side * side + p
				] as number;
	out['fc6/kernel'] = { shape: [flat, spec.fcWidth], data: kernel };
	bn('fc6', 'blocks.5.2');
	out['fc7/kernel'] = {
		shape: [spec.fcWidth, spec.fcWidth],
		data: transpose2d(need(tensors, 'blocks.6.0.weight').data, spec.fcWidth, spec.fcWidth)
	};
	bn('fc7', 'blocks.6.1');
	out['fc8/kernel'] = {
		shape: [spec.fcWidth, spec.embeddingDim],
		data: transpose2d(need(tensors, 'blocks.7.0.weight').data, spec.embeddingDim, spec.fcWidth)
	};
	out['fc8/bias'] = { ...need(tensors, 'blocks.7.0.bias') };
	return out;
}

/** NoiseLab tensors → the PyTorch state dict, in the module's order (the inverse of {@link smallAlexNetFromTorch}). */
export function smallAlexNetToTorch(
	spec: EncoderSpec,
	tensors: Readonly<Record<string, HostTensor>>
): Map<string, HostTensor> {
	const ours = new Map(Object.entries(tensors));
	const out = new Map<string, HostTensor>();
	const bn = (layer: string, prefix: string) => {
		for (const [field, name] of bnFields)
			out.set(`${prefix}.${field}`, { ...need(ours, `${layer}/bn/${name}`) });
	};
	let inputs = 3;
	for (const [index, layer] of convLayers.entries()) {
		const outputs = spec.channels[index] as number;
		const hwio = need(ours, `${layer}/kernel`).data;
		const oihw = new Float32Array(hwio.length);
		for (let o = 0; o < outputs; o++)
			for (let i = 0; i < inputs; i++)
				for (let t = 0; t < 9; t++)
					oihw[(o * inputs + i) * 9 + t] = hwio[(t * inputs + i) * outputs + o] as number;
		out.set(`${torchPlaces[layer].weight}.weight`, { shape: [outputs, inputs, 3, 3], data: oihw });
		bn(layer, torchPlaces[layer].bn);
		inputs = outputs;
	}
	const side = featureMapSizes(spec)[4];
	const channels = spec.channels[4];
	const flat = channels * side * side;
	const kernel = need(ours, 'fc6/kernel').data;
	const fc6 = new Float32Array(kernel.length);
	for (let f = 0; f < spec.fcWidth; f++)
		for (let c = 0; c < channels; c++)
			for (let p = 0; p < side * side; p++)
				fc6[f * flat + c * side * side + p] = kernel[
					(p * channels + c) * spec.fcWidth + f
				] as number;
	out.set('blocks.5.1.weight', { shape: [spec.fcWidth, flat], data: fc6 });
	bn('fc6', 'blocks.5.2');
	out.set('blocks.6.0.weight', {
		shape: [spec.fcWidth, spec.fcWidth],
		data: transpose2d(need(ours, 'fc7/kernel').data, spec.fcWidth, spec.fcWidth)
	});
	bn('fc7', 'blocks.6.1');
	out.set('blocks.7.0.weight', {
		shape: [spec.embeddingDim, spec.fcWidth],
		data: transpose2d(need(ours, 'fc8/kernel').data, spec.fcWidth, spec.embeddingDim)
	});
	out.set('blocks.7.0.bias', { ...need(ours, 'fc8/bias') });
	return out;
}
