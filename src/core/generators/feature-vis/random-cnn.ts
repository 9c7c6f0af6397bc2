/**
 * Randomly initialised ResNets for `feature_vis-random` (§2.4): torchvision's default init
 * (conv weights kaiming-normal, fan_out, ReLU gain; BN γ = 1, β = 0) in eval mode. Eval-mode BN
 * with its initial running statistics (mean 0, variance 1) is y = x / √(1 + 1e-5), so it is
 * folded exactly into the preceding conv's weights. The weights depend only on (architecture,
 * seed): every image of a dataset sees the same random network, as in the paper.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Random } from '../random';
import type { FeatureNetwork } from './feature-network';

/** The random networks on offer. */
export const randomNetworkKinds = ['resnet50', 'resnet18', 'small'] as const;

/** One of {@link randomNetworkKinds}. */
export type RandomNetworkKind = (typeof randomNetworkKinds)[number];

/** A ResNet's shape: block type, blocks per stage, stem and stage widths. */
export interface ResNetArchitecture {
	block: 'bottleneck' | 'basic';
	blocks: readonly [number, number, number, number];
	stemWidth: number;
	/** The inner width of each stage; bottleneck stages output 4× this. */
	widths: readonly [number, number, number, number];
}

/**
 * `resnet50`: torchvision ResNet-50 (bottleneck [3, 4, 6, 3], 2048-d avgpool), the paper's.
 * `resnet18`: torchvision ResNet-18 (basic [2, 2, 2, 2], 512-d), about 2.3× fewer multiply-adds.
 * `small`: a ResNet-18 layout at half width with one block per stage (256-d), roughly 7× fewer
 * multiply-adds than ResNet-18; for previews and CPUs, not in the paper.
 */
export const resNetArchitectures: Readonly<Record<RandomNetworkKind, ResNetArchitecture>> = {
	resnet50: {
		block: 'bottleneck',
		blocks: [3, 4, 6, 3],
		stemWidth: 64,
		widths: [64, 128, 256, 512]
	},
	resnet18: { block: 'basic', blocks: [2, 2, 2, 2], stemWidth: 64, widths: [64, 128, 256, 512] },
	small: { block: 'basic', blocks: [1, 1, 1, 1], stemWidth: 32, widths: [32, 64, 128, 256] }
};

/** The pooled feature width of an architecture. */
export function pooledWidthOf(architecture: ResNetArchitecture): number {
	return architecture.widths[3] * (architecture.block === 'bottleneck' ? 4 : 1);
}

/** torchvision BatchNorm2d's default epsilon. */
const batchNormEpsilon = 1e-5;

interface Conv {
	filter: tf.Tensor4D;
	stride: number;
	padding: number;
}

interface Block {
	convs: Conv[];
	downsample: Conv | null;
}

/** Keeps the network's stream apart from the images' (seed, index) streams. */
const networkStream = 0x6e657477;

/** A random ResNet; owns its weights. */
export class RandomResNet implements FeatureNetwork {
	readonly pooledWidth: number;
	private readonly stem: Conv;
	private readonly blocks: Block[] = [];

	constructor(
		readonly kind: RandomNetworkKind,
		readonly seed: number
	) {
		const architecture = resNetArchitectures[kind];
		const random = new Random(seed, networkStream, randomNetworkKinds.indexOf(kind));
		const conv = (size: number, inputs: number, outputs: number, stride: number): Conv => ({
			filter: kaimingFanOut(random, size, inputs, outputs),
			stride,
			padding: (size - 1) / 2
		});
		this.stem = conv(7, 3, architecture.stemWidth, 2);
		let channels = architecture.stemWidth;
		const expansion = architecture.block === 'bottleneck' ? 4 : 1;
		architecture.widths.forEach((width, stage) => {
			const count = architecture.blocks[stage] as number;
			for (let b = 0; b < count; b++) {
				const stride = stage > 0 && b === 0 ? 2 : 1;
				const outputs = width * expansion;
				// torchvision ResNet v1.5: the stride sits on the 3×3 conv of a bottleneck.
				const convs =
					architecture.block === 'bottleneck'
						? [
								conv(1, channels, width, 1),
								conv(3, width, width, stride),
								conv(1, width, outputs, 1)
							]
						: [conv(3, channels, width, stride), conv(3, width, width, 1)];
				const downsample =
					stride !== 1 || channels !== outputs ? conv(1, channels, outputs, stride) : null;
				this.blocks.push({ convs, downsample });
				channels = outputs;
			}
		});
		this.pooledWidth = channels;
	}

	/** The avgpool features `[batch, pooledWidth]` of an ImageNet-normalised NHWC batch. */
	forward(x: tf.Tensor4D): tf.Tensor2D {
		return tf.tidy(() => {
			let h = tf.relu(applyConv(x, this.stem));
			// After a ReLU every 3×3 window holds a value ≥ 0, so the zero padding of maxPool
			// equals PyTorch's −∞ padding.
			h = tf.maxPool(h, 3, 2, 1);
			for (const block of this.blocks) {
				let y = h;
				block.convs.forEach((conv, i) => {
					y = applyConv(y, conv);
					if (i < block.convs.length - 1) y = tf.relu(y);
				});
				const shortcut = block.downsample ? applyConv(h, block.downsample) : h;
				h = tf.relu(tf.add(y, shortcut));
			}
			return tf.mean(h, [1, 2]) as tf.Tensor2D;
		});
	}

	/** The number of weights (for reports). */
	parameterCount(): number {
		const convs = [
			this.stem,
			...this.blocks.flatMap((b) => [...b.convs, ...(b.downsample ? [b.downsample] : [])])
		];
		return convs.reduce((sum, conv) => sum + conv.filter.size, 0);
	}

	/** Frees every weight. */
	dispose(): void {
		this.stem.filter.dispose();
		for (const block of this.blocks) {
			for (const conv of block.convs) conv.filter.dispose();
			block.downsample?.filter.dispose();
		}
	}
}

function applyConv(x: tf.Tensor4D, conv: Conv): tf.Tensor4D {
	const p = conv.padding;
	return tf.conv2d(x, conv.filter, conv.stride, [
		[0, 0],
		[p, p],
		[p, p],
		[0, 0]
	]);
}

/**
 * A `[size, size, inputs, outputs]` filter ~ N(0, 2 / (outputs·size²)), times the folded
 * eval-mode BN factor 1/√(1 + ε).
 */
function kaimingFanOut(random: Random, size: number, inputs: number, outputs: number): tf.Tensor4D {
	const std = Math.sqrt(2 / (outputs * size * size)) / Math.sqrt(1 + batchNormEpsilon);
	const values = new Float32Array(size * size * inputs * outputs);
	for (let i = 0; i < values.length; i++) values[i] = std * random.normal();
	return tf.tensor4d(values, [size, size, inputs, outputs]);
}

interface CacheEntry {
	network: RandomResNet;
	users: number;
}

const cache = new Map<string, CacheEntry>();

/** A network borrowed from the cache; call `release()` when done with it. */
export interface NetworkLease {
	network: RandomResNet;
	release(): void;
}

/**
 * The random network for (kind, seed), built once and shared by every image of the dataset.
 * Building a different one first frees the idle ones (a ResNet-50 holds ~94 MB of weights);
 * one still in use stays cached until a later build finds it idle.
 */
export function acquireRandomNetwork(kind: RandomNetworkKind, seed: number): NetworkLease {
	const key = `${kind}:${seed}`;
	let entry = cache.get(key);
	if (!entry) {
		for (const [otherKey, other] of cache) {
			if (other.users === 0) {
				other.network.dispose();
				cache.delete(otherKey);
			}
		}
		entry = { network: new RandomResNet(kind, seed), users: 0 };
		cache.set(key, entry);
	}
	const held = entry;
	held.users++;
	let released = false;
	return {
		network: held.network,
		release: () => {
			if (released) return;
			released = true;
			held.users--;
		}
	};
}

/** Frees every idle cached network (e.g. when generation ends). */
export function clearRandomNetworkCache(): void {
	for (const [key, entry] of cache) {
		if (entry.users === 0) {
			entry.network.dispose();
			cache.delete(key);
		}
	}
}
