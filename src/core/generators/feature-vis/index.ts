/**
 * Feature visualisation (§2.4): the generator over a random ResNet, the one over a trained
 * encoder, their presets, and the shared pieces (a {@link FeatureNetwork} is what
 * {@link renderFeatureVis} optimises for).
 */
export {
	featureVis,
	featureVisPresets,
	renderFeatureVis,
	type FeatureVisOptions,
	type FeatureVisResult
} from './feature-vis';
export {
	imagenetNormalisation,
	type FeatureNetwork,
	type InputNormalisation
} from './feature-network';
export { targetCount, targetUnits } from './objective';
export { FftImage, normalisedColourMatrix } from './parametrisation';
export {
	acquireRandomNetwork,
	clearRandomNetworkCache,
	RandomResNet,
	randomNetworkKinds,
	resNetArchitectures,
	type NetworkLease,
	type RandomNetworkKind
} from './random-cnn';
export {
	createTrainedFeatureVisGenerator,
	deadLeavesEncoderPreset,
	trainedFeatureVisPresets
} from './trained-feature-vis';
export {
	acquireTrainedNetwork,
	areaResize,
	clearTrainedNetworkCache,
	stl10Normalisation,
	TrainedEncoderNetwork,
	trainedFeatureLayers,
	type TrainedFeatureLayer,
	type TrainedNetworkLease
} from './trained-network';
