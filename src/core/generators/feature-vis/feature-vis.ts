/**
 * Feature visualisation (§2.4): images optimised by gradient ascent so that a network's pooled
 * units respond strongly. Image `index` maximises one unit or a pair of units of the avgpool
 * layer ({@link targetUnits}), starting from a random Lucid "fft + decorrelate" image and
 * applying random jitter, scale and rotation at every Adam step.
 *
 * Differences from the paper's run, all deliberate:
 * - it optimised batches of 64 images; here each image is optimised alone. The per-image loss
 *   −(sum of targeted activations)/(number targeted) is the paper's up to a constant factor,
 *   which Adam's update ignores (apart from its ε), so the result is the same process;
 * - its randomness (init and transforms) was unseeded; here it comes from `Random(seed, index)`
 *   so image `index` is reproducible, and the network from `seed` alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import { defineGenerator, type GeneratorPreset } from '../generator';
import { createImage, type RgbImage } from '../image';
import type { BooleanSpec, ChoiceSpec, IntegerSpec, NumberSpec } from '../params';
import { Random } from '../random';
import { imagenetNormalisation, type FeatureNetwork } from './feature-network';
import { ensureFeatureVisGradients } from './gradients';
import { targetUnits } from './objective';
import { FftImage } from './parametrisation';
import { acquireRandomNetwork, randomNetworkKinds, type RandomNetworkKind } from './random-cnn';
import { augment, drawTransform, type TransformDraw } from './transforms';

/** How one image is optimised. */
export interface FeatureVisOptions {
	/** Side of the optimised (and returned) image. */
	size: number;
	/** Adam steps (the paper: 128). */
	steps: number;
	/** Adam learning rate (the paper: 0.05). */
	learningRate: number;
	/** Apply the random pad/jitter/scale/rotate at every step (the paper does). */
	transforms: boolean;
	/** Side of the network input after the final resize; `size` when absent (the paper: 256). */
	inputSize?: number;
	/** Also measure the targeted activation of the plain image before and after optimising. */
	measure?: boolean;
}

/** The optimised image and, when measured, the objective before and after. */
export interface FeatureVisResult {
	image: RgbImage;
	/** Mean targeted activation of the untransformed initial image, or null. */
	activationBefore: number | null;
	/** The same for the final image, or null. */
	activationAfter: number | null;
}

/**
 * Optimises one image for the mean activation of `units` of `network`'s pooled output. Draws
 * the initial spectrum, then each step's transforms, from `random`. Every tensor it creates is
 * freed before it returns (the network is the caller's).
 */
export async function renderFeatureVis(
	network: FeatureNetwork,
	units: readonly number[],
	options: FeatureVisOptions,
	random: Random
): Promise<FeatureVisResult> {
	if (units.length === 0) throw new RangeError('feature visualisation needs at least one unit');
	for (const unit of units) {
		if (!Number.isInteger(unit) || unit < 0 || unit >= network.pooledWidth) {
			throw new RangeError(`unit ${unit} is outside the ${network.pooledWidth} pooled units`);
		}
	}
	ensureFeatureVisGradients();
	const normalisation = network.normalisation ?? imagenetNormalisation;
	const inputSize = options.inputSize ?? options.size;
	const weights = new Float32Array(network.pooledWidth);
	for (const unit of units) weights[unit] = (weights[unit] as number) + 1 / units.length;
	const unitWeights = tf.tensor2d(weights, [1, network.pooledWidth]);
	const fftImage = new FftImage(options.size, random);
	// torch.optim.Adam's defaults; tfjs would otherwise use the backend's ε (1e-7 on float32).
	const optimizer = tf.train.adam(options.learningRate, 0.9, 0.999, 1e-8);
	const objective = (draw: TransformDraw | null): tf.Scalar =>
		tf.sum(
			tf.mul(
				network.forward(augment(fftImage.image(), draw, normalisation, inputSize)),
				unitWeights
			)
		);
	const measure = async (): Promise<number> => {
		const value = tf.tidy(() => objective(null));
		const [activation] = await value.data();
		value.dispose();
		return activation as number;
	};
	try {
		const activationBefore = options.measure ? await measure() : null;
		for (let step = 0; step < options.steps; step++) {
			const draw = options.transforms ? drawTransform(random) : null;
			tf.tidy(() => {
				optimizer.minimize(() => tf.neg(objective(draw)), false, [fftImage.spectrum]);
			});
			// Lets the worker handle messages (progress, cancellation) between steps.
			await tf.nextFrame();
		}
		const activationAfter = options.measure ? await measure() : null;
		const pixels = tf.tidy(() => fftImage.image());
		const values = (await pixels.data()) as Float32Array;
		pixels.dispose();
		return { image: minMaxToImage(values, options.size), activationBefore, activationAfter };
	} finally {
		optimizer.dispose();
		fftImage.dispose();
		unitWeights.dispose();
	}
}

/** One min-max over all channels of an HWC float image, as the paper saves its images. */
function minMaxToImage(values: Float32Array, size: number): RgbImage {
	let lo = Infinity;
	let hi = -Infinity;
	for (let i = 0; i < values.length; i++) {
		const value = values[i] as number;
		if (value < lo) lo = value;
		if (value > hi) hi = value;
	}
	const image = createImage(size);
	const scale = hi > lo ? 255 / (hi - lo) : 0;
	for (let i = 0; i < values.length; i++) {
		image.data[i] = scale === 0 ? 128 : Math.round(((values[i] as number) - lo) * scale);
	}
	return image;
}

const networkSpec: ChoiceSpec<RandomNetworkKind> = {
	kind: 'choice',
	label: 'Network',
	help: 'The randomly initialised CNN whose avgpool units are visualised; its weights depend only on the seed, so a dataset shares one network. resnet50 is the paper’s (torchvision ResNet-50, 2048 units, ~4.1 G multiply-adds per 224² image); resnet18 (512 units, ~1.8 G) and small (a half-width ResNet-18 with one block per stage, 256 units, ~0.25 G) are cheaper stand-ins that are not in the paper.',
	options: randomNetworkKinds,
	default: 'resnet50'
};

/** Adam steps per image; shared with the trained-encoder generator. */
export const stepsSpec: IntegerSpec = {
	kind: 'integer',
	label: 'Steps',
	help: 'Adam steps per image (the paper: 128). Time grows linearly with it; fewer steps give smoother, less structured images.',
	min: 1,
	max: 512,
	step: 1,
	default: 128
};

/** Adam's learning rate; shared with the trained-encoder generator. */
export const learningRateSpec: NumberSpec = {
	kind: 'number',
	label: 'Learning rate',
	help: 'Adam learning rate on the spectrum parameters (the paper: 0.05).',
	min: 0.001,
	max: 0.5,
	step: 0.001,
	default: 0.05
};

/** The random transforms switch; shared with the trained-encoder generator. */
export const transformsSpec: BooleanSpec = {
	kind: 'boolean',
	label: 'Random transforms',
	help: 'Pad, jitter, scale and rotate the image randomly at every step, as the paper (Lucent’s standard transforms). Off optimises the plain image, which gives high-frequency patterns.',
	default: true
};

/** The feature-visualisation generator over a random ResNet. */
export const featureVis = defineGenerator({
	id: 'feature_vis',
	family: 'feature_vis',
	label: 'Feature visualisation',
	description:
		'Images optimised by gradient ascent (Adam, Lucid fft + decorrelate parametrisation, random jitter/scale/rotation) to excite one unit or a pair of units of a randomly initialised ResNet’s avgpool layer. Slow: every image runs `steps` forward and backward passes, about a minute per 128 px image with the small network and many minutes with ResNet-50 on a CPU (wasm); use a GPU backend for whole datasets.',
	version: 1,
	speed: 'slow',
	params: {
		network: networkSpec,
		steps: stepsSpec,
		learningRate: learningRateSpec,
		transforms: transformsSpec
	},
	generate: async (params, seed, index, size) => {
		const lease = acquireRandomNetwork(params.network, seed);
		try {
			const units = targetUnits(index, lease.network.pooledWidth);
			const result = await renderFeatureVis(
				lease.network,
				units,
				{
					size,
					steps: params.steps,
					learningRate: params.learningRate,
					transforms: params.transforms
				},
				new Random(seed, index)
			);
			return result.image;
		} finally {
			lease.release();
		}
	}
});

/** The paper's feature-visualisation dataset that needs no trained encoder. */
export const featureVisPresets: GeneratorPreset[] = [
	{
		name: 'feature_vis-random',
		generator: 'feature_vis',
		params: { network: 'resnet50', steps: 128 },
		size: 256,
		description:
			'Feature visualisations of a randomly initialised ResNet-50’s avgpool units, 128 Adam steps at 256², as in the paper. Very slow on a CPU.'
	}
];
