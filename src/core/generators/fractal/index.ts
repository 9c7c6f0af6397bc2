/** The FractalDB family: generator, presets and the pieces its tests and tools use. */
export {
	findCategory,
	fillRatio,
	maxSearchAttempts,
	renderSearchCanvas,
	searchCanvas,
	searchCategory,
	searchStreams,
	type FractalCategory
} from './category-search';
export {
	fractal,
	fractalLayout,
	fractalParams,
	fractalPresets,
	fractalWeights,
	identityWeightIndex,
	imageIndex,
	imageKey,
	layoutSize,
	pointCount,
	renderFractal,
	type FractalImageKey,
	type FractalLayout,
	type FractalParams
} from './fractal';
export {
	drawIfs,
	selectionProbabilities,
	type AffineMap,
	type CoefficientWeights,
	type IfsSystem
} from './ifs';
export { fractalFlips, type FractalFlip } from './render';
