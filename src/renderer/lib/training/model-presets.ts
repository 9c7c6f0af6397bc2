/**
 * What each encoder preset is, computed from its layer shapes so that the New run form can say
 * how big a model is before a worker builds it. The shapes mirror `paper-protocol.md` §3.2: five
 * 3×3 convolutions without bias, each followed by batch norm (γ and β are parameters; running
 * statistics are buffers and are not counted), max-pooling 3/2 after conv 1, 2 and 5, then fc6 and
 * fc7 without bias plus batch norm, and fc8 with bias onto the embedding.
 */
import type { ModelPresetId } from '../../../core/training/config';

/** The layer widths of one preset. */
export interface ModelPresetShape {
	/** Side of the square network input, in pixels. */
	inputSize: number;
	/** Output channels of conv1..conv5. */
	convChannels: readonly [number, number, number, number, number];
	/** Width of fc6 and fc7. */
	fcWidth: number;
	/** Size of the L2-normalised output. */
	embedding: number;
}

/** The shapes of every preset; `alexnet` is the paper's SmallAlexNet. */
export const modelPresetShapes: Record<ModelPresetId, ModelPresetShape> = {
	tiny: { inputSize: 32, convChannels: [24, 48, 96, 96, 48], fcWidth: 1024, embedding: 128 },
	small: { inputSize: 64, convChannels: [48, 96, 192, 192, 96], fcWidth: 2048, embedding: 128 },
	alexnet: { inputSize: 64, convChannels: [96, 192, 384, 384, 192], fcWidth: 4096, embedding: 128 }
};

/** How the UI names each preset, in the order the form lists them. */
export const modelPresetLabels: Record<ModelPresetId, string> = {
	tiny: 'Tiny (for laptops)',
	small: 'Small (half width)',
	alexnet: 'SmallAlexNet (the paper)'
};

/** Side of a max-pool 3, stride 2, no padding output (PyTorch's floor rule). */
function pooled(side: number): number {
	return Math.floor((side - 3) / 2) + 1;
}

/**
 * Side of the last feature map, which fc6 flattens: the 'same' convolutions keep the size and
 * three pools shrink it, 64 → 31 → 15 → 7 and 32 → 15 → 7 → 3.
 */
export function finalFeatureSide(inputSize: number): number {
	return pooled(pooled(pooled(inputSize)));
}

/** Trainable parameters of a preset (weights, biases, BN γ and β). */
export function parameterCount(shape: ModelPresetShape): number {
	let total = 0;
	let inChannels = 3;
	for (const channels of shape.convChannels) {
		total += inChannels * channels * 3 * 3 + 2 * channels;
		inChannels = channels;
	}
	const side = finalFeatureSide(shape.inputSize);
	const flattened = inChannels * side * side;
	total += flattened * shape.fcWidth + 2 * shape.fcWidth; // fc6 + BN
	total += shape.fcWidth * shape.fcWidth + 2 * shape.fcWidth; // fc7 + BN
	total += shape.fcWidth * shape.embedding + shape.embedding; // fc8 with bias
	return total;
}

/** A parameter count as people say it: `58.7 M`, `412 k`. */
export function formatParameterCount(count: number): string {
	if (count >= 1e6) return `${(count / 1e6).toFixed(count >= 1e8 ? 0 : 1)} M`;
	if (count >= 1e3) return `${Math.round(count / 1e3)} k`;
	return String(count);
}

/** One line that says what a preset is: `32 px input, 3.9 M parameters`. */
export function describeModelPreset(id: ModelPresetId): string {
	const shape = modelPresetShapes[id];
	return `${shape.inputSize} px input, ${formatParameterCount(parameterCount(shape))} parameters`;
}
