/** The dead-leaves family (paper §2.1). */
export {
	createDeadLeavesGenerator,
	createRadiusLaw,
	deadLeavesColourLaws,
	deadLeavesParams,
	deadLeavesPresets,
	deadLeavesShapes,
	drawDeadLeaves,
	pixelRadius,
	radiusSteps,
	renderLeafSequence,
	sampleRadiusIndex,
	type DeadLeavesParams,
	type DeadLeavesResult,
	type DeadLeavesShape,
	type DrawOptions,
	type LeafRecord,
	type LeafRendering,
	type LeafSupplier,
	type RadiusLaw,
	type TextureSource
} from './dead-leaves';
export {
	SpanList,
	discHalfWidthTable,
	rasteriseDisc,
	rasterisePolygon,
	rasteriseRectangle
} from './rasterise';
