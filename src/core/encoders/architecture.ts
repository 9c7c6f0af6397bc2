/**
 * Encoder architectures beyond the training presets, free of tfjs so the contract and the UI
 * can use them: what an imported (or exported) encoder is, its layers and its input.
 */
import { z } from 'zod';
import { encoderLayers } from '../training/encoder-spec';

/** The feature layers of a ResNet encoder: the four stages (spatial) and the pooled output. */
export const resNetLayers = ['layer1', 'layer2', 'layer3', 'layer4', 'avgpool'] as const;

/** Every layer any encoder has: SmallAlexNet's blocks, then ResNet's. */
export const featureLayers = [...encoderLayers, ...resNetLayers] as const;

/** One of {@link featureLayers}. */
export type FeatureLayer = (typeof featureLayers)[number];

/** Per-channel input normalisation, `(x / 255 − mean) / std`. */
export const normalisationSchema = z.object({
	mean: z.tuple([z.number(), z.number(), z.number()]),
	std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()])
});

/** See {@link normalisationSchema}. */
export type Normalisation = z.infer<typeof normalisationSchema>;

/** torchvision's ImageNet statistics (torchvision's and MoCo's ResNet-50 expect them). */
export const imagenetNormalisation: Normalisation = {
	mean: [0.485, 0.456, 0.406],
	std: [0.229, 0.224, 0.225]
};

/** The paper's STL-10 statistics, with which NoiseLab normalises every image it feeds an encoder. */
export const stl10Normalisation: Normalisation = {
	mean: [0.44087801806139126, 0.42790631331699347, 0.3867879370752931],
	std: [0.26826768628079806, 0.2610450402318512, 0.26866836876860795]
};

const width = z.number().int().min(1).max(8192);

/** The architecture of an encoder: a SmallAlexNet of any widths, or a torchvision ResNet-50. */
export const encoderArchitectureSchema = z.discriminatedUnion('kind', [
	z.object({
		kind: z.literal('smallalexnet'),
		inputSize: z.number().int().min(15).max(1024),
		channels: z.tuple([width, width, width, width, width]),
		fcWidth: width,
		embeddingDim: width
	}),
	z.object({
		kind: z.literal('resnet50'),
		inputSize: z.number().int().min(32).max(1024),
		stemWidth: width,
		/** Inner widths of the four bottleneck stages (torchvision: 64, 128, 256, 512). */
		widths: z.tuple([width, width, width, width])
	})
]);

/** See {@link encoderArchitectureSchema}. */
export type EncoderArchitecture = z.infer<typeof encoderArchitectureSchema>;

/** The architecture ids users type (`noiselab import --arch`). */
export const architectureKinds = ['smallalexnet', 'resnet50'] as const;

/** One of {@link architectureKinds}. */
export type ArchitectureKind = (typeof architectureKinds)[number];

/** The layers of an architecture in order, and which of them have a spatial map. */
export function layersOf(architecture: EncoderArchitecture): {
	all: readonly FeatureLayer[];
	spatial: readonly FeatureLayer[];
	/** The layer the linear probe reads by default (the paper: fc6; ResNet: the pooled output). */
	probe: FeatureLayer;
	/** The layer Grad-CAM uses by default (the last spatial one). */
	cam: FeatureLayer;
} {
	if (architecture.kind === 'smallalexnet') {
		return { all: encoderLayers, spatial: encoderLayers.slice(0, 5), probe: 'fc6', cam: 'conv5' };
	}
	return { all: resNetLayers, spatial: resNetLayers.slice(0, 4), probe: 'avgpool', cam: 'layer4' };
}

/** A short description, e.g. "ResNet-50 (width 1/8), 224 px". */
export function describeArchitecture(architecture: EncoderArchitecture): string {
	if (architecture.kind === 'resnet50') {
		const scale = architecture.widths[0] / 64;
		const widthNote =
			scale === 1 ? '' : ` (width ${scale < 1 ? `1/${Math.round(1 / scale)}` : `×${scale}`})`;
		return `ResNet-50${widthNote}, ${architecture.inputSize} px`;
	}
	return `SmallAlexNet ${architecture.channels.join('/')}, fc ${architecture.fcWidth}, ${architecture.embeddingDim}-d, ${architecture.inputSize} px`;
}

/** Where each layer of one architecture sits in the other (by depth: the last conv block is layer4). */
const correspondences: Readonly<Record<FeatureLayer, readonly [FeatureLayer, FeatureLayer]>> = {
	// [SmallAlexNet's, ResNet's]
	conv1: ['conv1', 'layer1'],
	conv2: ['conv2', 'layer2'],
	conv3: ['conv3', 'layer3'],
	conv4: ['conv4', 'layer3'],
	conv5: ['conv5', 'layer4'],
	fc6: ['fc6', 'avgpool'],
	fc7: ['fc7', 'avgpool'],
	fc8: ['fc8', 'avgpool'],
	layer1: ['conv1', 'layer1'],
	layer2: ['conv2', 'layer2'],
	layer3: ['conv3', 'layer3'],
	layer4: ['conv5', 'layer4'],
	avgpool: ['fc8', 'avgpool']
};

/**
 * `layer` itself when the architecture has it, else the layer at the same depth in this
 * architecture (conv5 ↔ layer4, fc6/fc7/fc8 ↔ avgpool, …): one Explain request can then
 * compare a SmallAlexNet run with an imported ResNet-50, each map naming its own layer.
 */
export function correspondingLayer(
	architecture: EncoderArchitecture,
	layer: FeatureLayer
): FeatureLayer {
	return correspondences[layer][architecture.kind === 'smallalexnet' ? 0 : 1];
}

/** The spatial layers of every architecture: where a CAM or an activation map can be taken. */
export const spatialLayers = [...encoderLayers.slice(0, 5), ...resNetLayers.slice(0, 4)] as const;
