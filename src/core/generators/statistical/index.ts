/** The statistical image models family: generator, presets and the pieces its tests use. */
export {
	correlate,
	decorrelate,
	principalAxes,
	sampleColourModel,
	type ColourModel
} from './colour-model';
export { HistogramTarget, uniformHistogram, type UniformHistogram } from './histogram-match';
export { sampleSpectrum, type SpectrumModel } from './spectrum';
export {
	generateStatistical,
	pyramidFor,
	pyramidScalesFor,
	sampleStatisticalModel,
	startingPlanes,
	statistical,
	statisticalParams,
	statisticalPresets,
	statisticalTexture,
	synthesizeStatisticalPlanes,
	type StatisticalModel,
	type StatisticalParams
} from './statistical';
export { SteerablePyramid, type BandVisitor } from './steerable-pyramid';
export {
	imposeBandMarginal,
	sampleWaveletMarginals,
	setMoments,
	type BandMarginal
} from './wavelet-marginal';
