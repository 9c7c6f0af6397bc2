/**
 * Feature visualisation (§2.4): the generator, its presets, and the pieces a trained-encoder
 * variant will reuse (implement {@link FeatureNetwork} and call {@link renderFeatureVis}).
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
