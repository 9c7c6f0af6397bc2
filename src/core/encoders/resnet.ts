/**
 * A torchvision ResNet-50 (v1.5: the stride on the 3×3 conv of a bottleneck) as a frozen
 * encoder on tfjs-core ops, NHWC, for imported checkpoints: the paper's MoCo v2 encoders and
 * torchvision's ImageNet weights. Weights are named as torchvision names them (`conv1.weight`,
 * `layer4.2.bn3.running_var`, `layer1.0.downsample.0.weight`, …) and given in PyTorch's layouts
 * (conv OIHW); eval-mode batch norm is folded into a per-channel scale and shift. The output is
 * the pooled `avgpool` features (the fc head is not part of an encoder).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Random } from '../generators/random';
import type { HostTensor } from '../interop/tensors';
import { resNetLayers, type EncoderArchitecture, type FeatureLayer } from './architecture';
import type { Encoder, EncoderForwardOptions } from './encoder';

/** A ResNet-50's architecture record. */
export type ResNetArchitecture = Extract<EncoderArchitecture, { kind: 'resnet50' }>;

/** Bottleneck blocks per stage in ResNet-50. */
export const resNet50Blocks = [3, 4, 6, 3] as const;

/** torchvision BatchNorm2d's epsilon. */
const batchNormEpsilon = 1e-5;

/** One weight the architecture needs: its torchvision name and PyTorch shape. */
export interface ExpectedTensor {
	name: string;
	shape: number[];
}

interface ConvPlan {
	/** The torchvision prefix of the conv (`layer1.0.conv2`) and of its batch norm. */
	conv: string;
	bn: string;
	inputs: number;
	outputs: number;
	size: number;
	stride: number;
}

interface BlockPlan {
	convs: ConvPlan[];
	downsample: ConvPlan | null;
	stage: number;
}

function planOf(architecture: ResNetArchitecture): { stem: ConvPlan; blocks: BlockPlan[] } {
	const stem: ConvPlan = {
		conv: 'conv1',
		bn: 'bn1',
		inputs: 3,
		outputs: architecture.stemWidth,
		size: 7,
		stride: 2
	};
	const blocks: BlockPlan[] = [];
	let channels = architecture.stemWidth;
	architecture.widths.forEach((width, stage) => {
		for (let b = 0; b < (resNet50Blocks[stage] as number); b++) {
			const prefix = `layer${stage + 1}.${b}`;
			const stride = stage > 0 && b === 0 ? 2 : 1;
			const outputs = width * 4;
			const conv = (
				index: number,
				inputs: number,
				out: number,
				size: number,
				s: number
			): ConvPlan => ({
				conv: `${prefix}.conv${index}`,
				bn: `${prefix}.bn${index}`,
				inputs,
				outputs: out,
				size,
				stride: s
			});
			blocks.push({
				stage,
				convs: [
					conv(1, channels, width, 1, 1),
					conv(2, width, width, 3, stride),
					conv(3, width, outputs, 1, 1)
				],
				downsample:
					b === 0
						? {
								conv: `${prefix}.downsample.0`,
								bn: `${prefix}.downsample.1`,
								inputs: channels,
								outputs,
								size: 1,
								stride
							}
						: null
			});
			channels = outputs;
		}
	});
	return { stem, blocks };
}

/** Every tensor a ResNet-50 state dict holds (without `num_batches_tracked` and fc), in torchvision's order. */
export function resNetExpectedTensors(architecture: ResNetArchitecture): ExpectedTensor[] {
	const { stem, blocks } = planOf(architecture);
	const out: ExpectedTensor[] = [];
	const add = (plan: ConvPlan) => {
		out.push({
			name: `${plan.conv}.weight`,
			shape: [plan.outputs, plan.inputs, plan.size, plan.size]
		});
		for (const field of ['weight', 'bias', 'running_mean', 'running_var']) {
			out.push({ name: `${plan.bn}.${field}`, shape: [plan.outputs] });
		}
	};
	add(stem);
	for (const block of blocks) {
		for (const conv of block.convs) add(conv);
		if (block.downsample) add(block.downsample);
	}
	return out;
}

interface FoldedConv {
	plan: ConvPlan;
	/** HWIO. */
	filter: tf.Tensor4D;
	scale: tf.Tensor1D;
	shift: tf.Tensor1D;
}

interface Block {
	convs: FoldedConv[];
	downsample: FoldedConv | null;
	stage: number;
}

/** A frozen ResNet-50 encoder; see the file comment. */
export class ResNetEncoder implements Encoder {
	readonly inputSize: number;
	readonly embeddingDim: number;
	private readonly stem: FoldedConv;
	private readonly blocks: Block[];

	private constructor(
		readonly architecture: ResNetArchitecture,
		tensors: ReadonlyMap<string, HostTensor>
	) {
		this.inputSize = architecture.inputSize;
		this.embeddingDim = architecture.widths[3] * 4;
		const plan = planOf(architecture);
		const created: FoldedConv[] = [];
		try {
			const fold = (conv: ConvPlan): FoldedConv => {
				const folded = foldConv(conv, tensors);
				created.push(folded);
				return folded;
			};
			this.stem = fold(plan.stem);
			this.blocks = plan.blocks.map((block) => ({
				stage: block.stage,
				convs: block.convs.map(fold),
				downsample: block.downsample ? fold(block.downsample) : null
			}));
		} catch (error) {
			for (const conv of created) disposeConv(conv);
			throw error;
		}
	}

	/**
	 * The encoder of `tensors` (torchvision names and shapes, exactly
	 * {@link resNetExpectedTensors}; check with `matchStateDict` first for a readable report).
	 */
	static fromTensors(
		architecture: ResNetArchitecture,
		tensors: ReadonlyMap<string, HostTensor>
	): ResNetEncoder {
		return new ResNetEncoder(architecture, tensors);
	}

	/**
	 * A randomly initialised encoder (the random-init control): torchvision's init, conv
	 * weights kaiming-normal (fan_out, ReLU gain), BN γ = 1, β = 0, running mean 0, variance 1.
	 */
	static random(architecture: ResNetArchitecture, seed: number): ResNetEncoder {
		const tensors = new Map<string, HostTensor>();
		for (const [index, { name, shape }] of resNetExpectedTensors(architecture).entries()) {
			const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
			if (name.endsWith('running_var') || (name.endsWith('.weight') && shape.length === 1))
				data.fill(1);
			if (shape.length === 4) {
				const [outputs, , k] = shape as [number, number, number, number];
				const std = Math.sqrt(2 / (outputs * k * k));
				const random = new Random(seed, 0x7265736e, index);
				for (let i = 0; i < data.length; i++) data[i] = std * random.normal();
			}
			tensors.set(name, { shape, data });
		}
		return new ResNetEncoder(architecture, tensors);
	}

	forward(x: tf.Tensor4D, options: EncoderForwardOptions): tf.Tensor2D {
		this.checkInput(x);
		const stopAt = this.layerIndex(options.layer ?? 'avgpool');
		return tf.tidy(() => pooled(this.run(this.stemForward(x), 0, stopAt)));
	}

	convActivation(
		x: tf.Tensor4D,
		layer: FeatureLayer,
		_options: { training: boolean }
	): tf.Tensor4D {
		this.checkInput(x);
		const index = this.spatialIndex(layer);
		return tf.tidy(() => this.run(this.stemForward(x), 0, index));
	}

	forwardFrom(
		activation: tf.Tensor4D,
		fromLayer: FeatureLayer,
		options: EncoderForwardOptions
	): tf.Tensor2D {
		const from = this.spatialIndex(fromLayer);
		const stopAt = this.layerIndex(options.layer ?? 'avgpool');
		if (stopAt < from)
			throw new Error(`Cannot run from ${fromLayer} to the earlier layer ${options.layer}.`);
		return tf.tidy(() => pooled(this.run(activation, from + 1, stopAt)));
	}

	rawEmbeddingFrom(activation: tf.Tensor4D, fromLayer: FeatureLayer): tf.Tensor2D {
		return this.forwardFrom(activation, fromLayer, { training: false });
	}

	firstLayerKernel(): tf.Tensor4D {
		return tf.clone(this.stem.filter);
	}

	channelsAt(layer: FeatureLayer): number {
		return (this.architecture.widths[this.spatialIndex(layer)] as number) * 4;
	}

	weightCount(): number {
		const convs = [
			this.stem,
			...this.blocks.flatMap((b) => [...b.convs, ...(b.downsample ? [b.downsample] : [])])
		];
		return convs.reduce((sum, conv) => sum + conv.filter.size + 2 * conv.scale.size, 0);
	}

	dispose(): void {
		disposeConv(this.stem);
		for (const block of this.blocks) {
			for (const conv of block.convs) disposeConv(conv);
			if (block.downsample) disposeConv(block.downsample);
		}
	}

	private checkInput(x: tf.Tensor4D): void {
		const [, height, width, depth] = x.shape;
		if (height !== this.inputSize || width !== this.inputSize || depth !== 3) {
			throw new Error(
				`The encoder expects [N, ${this.inputSize}, ${this.inputSize}, 3] images, got [${x.shape.join(', ')}].`
			);
		}
	}

	/** 0–3 for layer1–layer4, 4 for avgpool. */
	private layerIndex(layer: FeatureLayer): number {
		const index = (resNetLayers as readonly string[]).indexOf(layer);
		if (index < 0)
			throw new Error(`A ResNet has no layer ${layer}; its layers are ${resNetLayers.join(', ')}.`);
		return index;
	}

	private spatialIndex(layer: FeatureLayer): number {
		const index = this.layerIndex(layer);
		if (index > 3) throw new Error(`${layer} has no spatial map; choose layer1–layer4.`);
		return index;
	}

	private stemForward(x: tf.Tensor4D): tf.Tensor4D {
		// After a ReLU every window holds a value ≥ 0, so zero padding equals PyTorch's −∞ padding.
		return tf.maxPool(tf.relu(applyConv(x, this.stem)), 3, 2, 1);
	}

	/** Stages `from..min(to, 3)` on `h`, the input of stage `from`. */
	private run(h: tf.Tensor4D, from: number, to: number): tf.Tensor4D {
		let out = h;
		for (const block of this.blocks) {
			if (block.stage < from || block.stage > to) continue;
			let y = out;
			block.convs.forEach((conv, i) => {
				y = applyConv(y, conv);
				if (i < block.convs.length - 1) y = tf.relu(y);
			});
			const shortcut = block.downsample ? applyConv(out, block.downsample) : out;
			out = tf.relu(tf.add(y, shortcut));
		}
		return out;
	}
}

function pooled(map: tf.Tensor4D): tf.Tensor2D {
	return tf.mean(map, [1, 2]) as tf.Tensor2D;
}

function applyConv(x: tf.Tensor4D, conv: FoldedConv): tf.Tensor4D {
	const p = (conv.plan.size - 1) / 2;
	const convolved = tf.conv2d(x, conv.filter, conv.plan.stride, [
		[0, 0],
		[p, p],
		[p, p],
		[0, 0]
	]);
	return tf.add(tf.mul(convolved, conv.scale), conv.shift);
}

function tensorOf(
	tensors: ReadonlyMap<string, HostTensor>,
	name: string,
	shape: number[]
): Float32Array {
	const tensor = tensors.get(name);
	if (!tensor || tensor.shape.join(',') !== shape.join(',')) {
		throw new Error(
			`The weights have no '${name}' of shape [${shape.join(', ')}]${tensor ? ` (it is [${tensor.shape.join(', ')}])` : ''}.`
		);
	}
	return tensor.data;
}

/** A conv's OIHW weight as HWIO, and its batch norm as scale and shift. */
function foldConv(plan: ConvPlan, tensors: ReadonlyMap<string, HostTensor>): FoldedConv {
	const { inputs, outputs, size } = plan;
	const oihw = tensorOf(tensors, `${plan.conv}.weight`, [outputs, inputs, size, size]);
	const hwio = new Float32Array(oihw.length);
	for (let o = 0; o < outputs; o++)
		for (let i = 0; i < inputs; i++)
			for (let y = 0; y < size; y++)
				for (let x = 0; x < size; x++)
					hwio[((y * size + x) * inputs + i) * outputs + o] = oihw[
						((o * inputs + i) * size + y) * size + x
					] as number;
	const gamma = tensorOf(tensors, `${plan.bn}.weight`, [outputs]);
	const beta = tensorOf(tensors, `${plan.bn}.bias`, [outputs]);
	const mean = tensorOf(tensors, `${plan.bn}.running_mean`, [outputs]);
	const variance = tensorOf(tensors, `${plan.bn}.running_var`, [outputs]);
	const scale = new Float32Array(outputs);
	const shift = new Float32Array(outputs);
	for (let c = 0; c < outputs; c++) {
		scale[c] = (gamma[c] as number) / Math.sqrt((variance[c] as number) + batchNormEpsilon);
		shift[c] = (beta[c] as number) - (mean[c] as number) * (scale[c] as number);
	}
	return {
		plan,
		filter: tf.tensor4d(hwio, [size, size, inputs, outputs]),
		scale: tf.tensor1d(scale),
		shift: tf.tensor1d(shift)
	};
}

function disposeConv(conv: FoldedConv): void {
	conv.filter.dispose();
	conv.scale.dispose();
	conv.shift.dispose();
}
