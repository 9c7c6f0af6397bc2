/** The untrained StyleGAN2 family (spec §2.3). */
export {
	clearStyleganCache,
	normaliseColours,
	stylegan,
	styleganModule,
	styleganNetworkFor,
	styleganNetworkKey,
	styleganParams,
	styleganPlanes,
	styleganPresets,
	styleganSettings,
	synthesisResolution,
	type StyleganParams
} from './stylegan';
export { synthesizeFast } from './fast-synthesis';
export { synthesizeDirect } from './synthesis';
export {
	installStyleganConvolutions,
	javascriptConvolutions,
	type StyleganConvolutions
} from './convolutions';
export {
	buildStyleganNetwork,
	sampleImagePlan,
	styleganVariants,
	type StyleganNetwork
} from './network';
export { pilRotateBilinear, waveletBankV1, waveletBankV3 } from './filter-banks';
export { lanczosResize, pinkNoise } from './pink-noise';
