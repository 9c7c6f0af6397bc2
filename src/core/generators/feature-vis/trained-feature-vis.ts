/**
 * Feature visualisation of a trained encoder (§2.4, `feature_vis-dead_leaves`): the same
 * optimisation as {@link featureVis}, on the units of an encoder the app has trained, named by
 * a parameter. The paper used a ResNet-50 trained with MoCo v2 on 1.3M dead-leaves images; the
 * stand-in is the SmallAlexNet (`tiny`, `small` or `alexnet`) of the newest run trained here on
 * `dead_leaves-mixed` (see `trained-network.ts` for how it is visualised).
 *
 * The weights come from an injected {@link EncoderWeightsSource}, so this family reads no files
 * and imports no other family; the app pins the encoder to one checkpoint by its SHA-256 before
 * generating, and a dataset is reproducible from (params, seed) and that checkpoint.
 */
import { defineGenerator, type GeneratorDefinition, type GeneratorPreset } from '../generator';
import type { ChoiceSpec, EncoderParamSpec } from '../params';
import { Random } from '../random';
import {
	encoderReferenceForms,
	pinnedEncoder,
	type EncoderWeightsSource
} from '../trained-encoders';
import { learningRateSpec, renderFeatureVis, stepsSpec, transformsSpec } from './feature-vis';
import { targetUnits } from './objective';
import {
	acquireTrainedNetwork,
	trainedFeatureLayers,
	type TrainedFeatureLayer
} from './trained-network';

/** The preset the paper's trained feature-visualisation network learned from. */
export const deadLeavesEncoderPreset = 'dead_leaves-mixed';

const encoderSpec: EncoderParamSpec = {
	kind: 'encoder',
	label: 'Encoder',
	help: `The trained encoder whose units are visualised: ${encoderReferenceForms}. newest:dead_leaves-mixed is the newest completed run trained on dead_leaves-mixed (the paper: a MoCo v2 ResNet-50 trained on 1.3M dead-leaves images); NoiseLab pins it to that run's checkpoint by its SHA-256, so a dataset stays reproducible.`,
	default: `newest:${deadLeavesEncoderPreset}`
};

const layerSpec: ChoiceSpec<TrainedFeatureLayer> = {
	kind: 'choice',
	label: 'Layer',
	help: 'Whose units are maximised: conv5 averaged over its map (the counterpart of the paper’s ResNet-50 avgpool; 48 units for tiny, 192 for alexnet), or fc6 / fc7 (the linear probe’s layer; 1024 or 4096 units), whose units see a fixed position.',
	options: trainedFeatureLayers,
	default: 'conv5'
};

/** The feature-visualisation generator over a trained encoder, drawing weights from `weights`. */
export function createTrainedFeatureVisGenerator(
	weights: EncoderWeightsSource
): GeneratorDefinition {
	return defineGenerator({
		id: 'feature_vis_trained',
		family: 'feature_vis',
		label: 'Feature visualisation (trained encoder)',
		description:
			'Images optimised by gradient ascent (Adam, Lucid fft + decorrelate parametrisation, random jitter/scale/rotation) to excite one unit or a pair of units of an encoder trained in NoiseLab. The paper visualised a ResNet-50 trained with MoCo v2 on dead leaves; here it is the SmallAlexNet of a run, seeing the image averaged down to its 32 or 64 px input. Slow: every image runs `steps` forward and backward passes.',
		version: 1,
		speed: 'slow',
		params: {
			encoder: encoderSpec,
			layer: layerSpec,
			steps: stepsSpec,
			learningRate: learningRateSpec,
			transforms: transformsSpec
		},
		generate: async (params, seed, index, size) => {
			const encoder = pinnedEncoder(params.encoder);
			if (!encoder) {
				throw new Error(
					`The encoder "${params.encoder}" is not pinned to a checkpoint (run:ID@SHA256); NoiseLab resolves it before generating, so generate through the app or the CLI.`
				);
			}
			const lease = acquireTrainedNetwork(encoder, params.layer, weights);
			try {
				const result = await renderFeatureVis(
					lease.network,
					targetUnits(index, lease.network.pooledWidth),
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
}

/** The paper's feature visualisations of an encoder trained on dead leaves. */
export const trainedFeatureVisPresets: GeneratorPreset[] = [
	{
		name: 'feature_vis-dead_leaves',
		generator: 'feature_vis_trained',
		params: { encoder: `newest:${deadLeavesEncoderPreset}`, steps: 128 },
		size: 256,
		description:
			'Feature visualisations of an encoder trained on dead_leaves-mixed: the newest such run, 128 Adam steps at 256², as the paper (which used a MoCo v2 ResNet-50 trained at large scale). Needs a run trained on dead_leaves-mixed; very slow on a CPU.'
	}
];
