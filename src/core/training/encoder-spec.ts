/**
 * The encoder's shape, free of tfjs so that the contract and the UI can use it: the presets,
 * the block names, the feature-map sizes and the parameter count. `model.ts` builds the
 * network from this.
 */
import type { ModelPresetId } from './config';

/** The shape of a SmallAlexNet: input resolution and layer widths. */
export interface EncoderSpec {
	/** Side of the square input image in pixels (the paper: 64). */
	inputSize: number;
	/** Output channels of conv1..conv5 (the paper: 96, 192, 384, 384, 192). */
	channels: readonly [number, number, number, number, number];
	/** Width of fc6 and fc7 (the paper: 4096). */
	fcWidth: number;
	/** Width of fc8, the L2-normalised embedding (the paper: 128). */
	embeddingDim: number;
}

/** The encoder presets a run can choose (`TrainConfig.model`). */
export const modelPresets: Record<
	ModelPresetId,
	EncoderSpec & { label: string; description: string }
> = {
	alexnet: {
		label: 'SmallAlexNet (paper)',
		description:
			'The paper’s encoder: 64 px input, conv 96/192/384/384/192, fc 4096, 128-d output; about 58.7M parameters. Needs a GPU to train at a useful speed.',
		inputSize: 64,
		channels: [96, 192, 384, 384, 192],
		fcWidth: 4096,
		embeddingDim: 128
	},
	small: {
		label: 'SmallAlexNet, half width',
		description:
			'64 px input, conv 48/96/192/192/96, fc 2048, 128-d output; about 14.8M parameters.',
		inputSize: 64,
		channels: [48, 96, 192, 192, 96],
		fcWidth: 2048,
		embeddingDim: 128
	},
	tiny: {
		label: 'SmallAlexNet, tiny (CPU)',
		description:
			'32 px input, conv 24/48/96/96/48, fc 1024, 128-d output; about 1.8M parameters. Trains on a laptop CPU.',
		inputSize: 32,
		channels: [24, 48, 96, 96, 48],
		fcWidth: 1024,
		embeddingDim: 128
	}
};

/** The encoder's blocks in order; a block's index is the paper's `layer_index` (0..7). */
export const encoderLayers = [
	'conv1',
	'conv2',
	'conv3',
	'conv4',
	'conv5',
	'fc6',
	'fc7',
	'fc8'
] as const;

/** One of {@link encoderLayers}. */
export type EncoderLayer = (typeof encoderLayers)[number];

/** The conv blocks, in order. */
export const convLayers = ['conv1', 'conv2', 'conv3', 'conv4', 'conv5'] as const;

function pooledSize(size: number): number {
	return Math.floor((size - 3) / 2) + 1;
}

/**
 * The spatial side of each conv block's output (after its pool, if any): 31, 15, 15, 15, 7 for
 * a 64 px input. Throws when the input is too small to leave at least one pixel.
 */
export function featureMapSizes(spec: EncoderSpec): [number, number, number, number, number] {
	const afterFirst = pooledSize(spec.inputSize);
	const afterSecond = pooledSize(afterFirst);
	const afterFifth = pooledSize(afterSecond);
	if (!Number.isInteger(spec.inputSize) || afterFifth < 1) {
		throw new Error(
			`An encoder input of ${spec.inputSize} px is too small: three 3/2 max pools need at least 15 px.`
		);
	}
	return [afterFirst, afterSecond, afterSecond, afterSecond, afterFifth];
}

/** One trainable tensor of the encoder and how it is initialised. */
export interface TensorPlan {
	name: string;
	shape: number[];
	init: 'normal' | 'zeros' | 'ones';
}

/** Every trainable tensor of the encoder, in a fixed order (the order of the init streams). */
export function trainablePlan(spec: EncoderSpec): TensorPlan[] {
	const plan: TensorPlan[] = [];
	const batchNorm = (layer: string, width: number) => {
		plan.push({ name: `${layer}/bn/gamma`, shape: [width], init: 'ones' });
		plan.push({ name: `${layer}/bn/beta`, shape: [width], init: 'zeros' });
	};
	let inChannels = 3;
	for (const [index, layer] of convLayers.entries()) {
		const outChannels = spec.channels[index] as number;
		plan.push({ name: `${layer}/kernel`, shape: [3, 3, inChannels, outChannels], init: 'normal' });
		batchNorm(layer, outChannels);
		inChannels = outChannels;
	}
	const finalSide = featureMapSizes(spec)[4];
	const flattened = finalSide * finalSide * spec.channels[4];
	plan.push({ name: 'fc6/kernel', shape: [flattened, spec.fcWidth], init: 'normal' });
	batchNorm('fc6', spec.fcWidth);
	plan.push({ name: 'fc7/kernel', shape: [spec.fcWidth, spec.fcWidth], init: 'normal' });
	batchNorm('fc7', spec.fcWidth);
	plan.push({ name: 'fc8/kernel', shape: [spec.fcWidth, spec.embeddingDim], init: 'normal' });
	plan.push({ name: 'fc8/bias', shape: [spec.embeddingDim], init: 'zeros' });
	return plan;
}

/** Trainable parameters: conv/linear weights, BN γ and β, and fc8's bias. */
export function parameterCount(spec: EncoderSpec): number {
	let total = 0;
	for (const entry of trainablePlan(spec)) total += entry.shape.reduce((a, b) => a * b, 1);
	return total;
}

/**
 * Bytes of the largest activation one training pair (two views) adds to a step, float32: the
 * widest conv output before its pool. A step's largest tensor at batch B is about
 * `max(B · this, largestWeightBytes)`; a GPU adapter must bind it in one buffer.
 */
export function activationBytesPerPair(spec: EncoderSpec): number {
	const sides = [spec.inputSize, ...featureMapSizes(spec).slice(0, 4)];
	let widest = 0;
	for (const [index, channels] of spec.channels.entries()) {
		const side = sides[index] as number;
		widest = Math.max(widest, side * side * channels);
	}
	return 2 * widest * 4;
}

/** Bytes of the encoder's largest weight tensor (fc6's kernel), float32. */
export function largestWeightBytes(spec: EncoderSpec): number {
	let largest = 0;
	for (const entry of trainablePlan(spec)) {
		largest = Math.max(largest, entry.shape.reduce((a, b) => a * b, 1) * 4);
	}
	return largest;
}

/**
 * The encoder's weights as a checkpoint stores them, by name: every trainable tensor and each
 * batch-norm layer's running mean and variance (shaped like its γ).
 */
export function weightShapes(spec: EncoderSpec): Map<string, number[]> {
	const shapes = new Map(trainablePlan(spec).map((entry) => [entry.name, entry.shape]));
	for (const [name, shape] of [...shapes]) {
		if (!name.endsWith('/bn/gamma')) continue;
		const layer = name.slice(0, -'/bn/gamma'.length);
		shapes.set(`${layer}/bn/running_mean`, shape);
		shapes.set(`${layer}/bn/running_var`, shape);
	}
	return shapes;
}
