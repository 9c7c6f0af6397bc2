/**
 * Dead leaves (paper §2.1): opaque random shapes ("leaves") with a power-law size distribution,
 * each drawn on top of the previous ones until the black canvas is covered.
 *
 * Leaves are sampled in the paper's order (painter's order, later on top), but rendered
 * front-to-back: a forward pass only tracks which pixels are covered, to find where the paper's
 * "stop when no pixel is black" rule ends the sequence, then a backward pass gives each pixel
 * to the last leaf that covers it. Each pixel is written once per pass instead of once per leaf
 * covering it, and the output equals the back-to-front painting of the same leaf sequence.
 */
import { defineGenerator, type GeneratorDefinition, type GeneratorPreset } from '../generator';
import { createImage, type RgbImage } from '../image';
import type { ParamSchema, ParamValues } from '../params';
import { Random } from '../random';
import { SpanList, rasteriseDisc, rasterisePolygon, rasteriseRectangle } from './rasterise';

/** The leaf shapes of the paper's generator (its `mixed` mode draws one of all six per leaf). */
export const deadLeavesShapes = [
	'circle',
	'square',
	'oriented_square',
	'rectangle',
	'triangle',
	'quadrilateral'
] as const;

/** One of {@link deadLeavesShapes}. */
export type DeadLeavesShape = (typeof deadLeavesShapes)[number];

/** How leaf colours are drawn. */
export const deadLeavesColourLaws = ['paper', 'full_range'] as const;

/**
 * Where region textures come from: texture `textureIndex` (0 ≤ index < pool size) at `size`×`size`
 * pixels. The same arguments must always give the same image; the paper uses a pool of 10,000
 * pre-generated `stat-spectrum_color_wmm` images. Injected so that this family does not depend
 * on the statistical family; a source should cache, since one image uses hundreds of textures.
 */
export type TextureSource = (textureIndex: number, size: number) => RgbImage;

/** The parameters of the dead-leaves generator. */
export const deadLeavesParams = {
	sigma: {
		kind: 'number',
		label: 'Size exponent σ',
		help: 'Leaf radii follow the density r^-σ − rmax^-σ (zero at rmax); larger σ gives more small leaves. The paper uses σ = 3.',
		min: 0,
		max: 6,
		step: 0.1,
		default: 3
	},
	rmin: {
		kind: 'number',
		label: 'Smallest radius',
		help: 'Smallest leaf radius as a fraction of the image size (at least 1 pixel). The paper uses 0.03; must be below the largest radius.',
		min: 0.005,
		max: 1,
		step: 0.005,
		default: 0.03
	},
	rmax: {
		kind: 'number',
		label: 'Largest radius',
		help: 'Largest leaf radius as a fraction of the image size. Radii are discretised to 200 values from rmin to rmax, as in the paper (rmax = 1).',
		min: 0.01,
		max: 2,
		step: 0.01,
		default: 1
	},
	shapes: {
		kind: 'set',
		label: 'Leaf shapes',
		help: 'Each leaf takes one of these shapes uniformly at random. Squares have side R·√2; oriented squares add a uniform rotation; rectangles and triangles/quadrilaterals are inscribed in the circle of radius R. The paper uses one shape (squares, oriented squares) or all six (mixed).',
		options: deadLeavesShapes,
		default: deadLeavesShapes
	},
	colourLaw: {
		kind: 'choice',
		label: 'Colour law',
		help: 'paper: each channel floor(U·255), so 0–254 as in the released code (255 never occurs); full_range: each channel uniform over 0–255.',
		options: deadLeavesColourLaws,
		default: 'paper'
	},
	leafBudget: {
		kind: 'integer',
		label: 'Leaf budget',
		help: 'Drawing stops when no pixel is black any more or after this many leaves, whichever comes first (the paper: 5000). Pixels still uncovered stay black.',
		min: 1,
		max: 50000,
		step: 1,
		default: 5000
	},
	textured: {
		kind: 'boolean',
		label: 'Textured leaves',
		help: 'Replace each visible leaf (and the uncovered background, if any) by a texture drawn uniformly from the pool, copied at the same coordinates (the paper’s dead_leaves-textures, with stat-spectrum_color_wmm textures). Regions are leaves, not colours: the paper keys on colour, which would merge leaves of equal colour.',
		default: false
	},
	texturePoolSize: {
		kind: 'integer',
		label: 'Texture pool size',
		help: 'Number of distinct textures leaves draw from. The paper pre-generates 10,000; the default 1000 keeps the pool’s memory and generation time small.',
		min: 1,
		max: 10000,
		step: 1,
		default: 1000
	}
} as const satisfies ParamSchema;

/** Values for {@link deadLeavesParams}. */
export type DeadLeavesParams = ParamValues<typeof deadLeavesParams>;

/** The paper's discretised radius law: `radii[k]` (fractions of the image size) and its CDF. */
export interface RadiusLaw {
	radii: Float64Array;
	/** Normalised cumulative sum of the unnormalised density, as the paper computes it. */
	cdf: Float64Array;
}

/** Number of radius values the paper discretises the law into. */
export const radiusSteps = 200;

/**
 * The radius law: `radiusSteps` radii `linspace(rmin, rmax)`, density `r^-σ − rmax^-σ` (only
 * for σ > 0, as in the paper), CDF = cumsum / max.
 */
export function createRadiusLaw(sigma: number, rmin: number, rmax: number): RadiusLaw {
	if (!(rmin < rmax)) {
		throw new RangeError(`rmin (${rmin}) must be smaller than rmax (${rmax})`);
	}
	const radii = new Float64Array(radiusSteps);
	const cdf = new Float64Array(radiusSteps);
	const step = (rmax - rmin) / (radiusSteps - 1);
	const tail = sigma > 0 ? 1 / rmax ** sigma : 0;
	let sum = 0;
	for (let k = 0; k < radiusSteps; k++) {
		// numpy's linspace: start + k·step, with the last value exactly rmax.
		const radius = k === radiusSteps - 1 ? rmax : rmin + k * step;
		radii[k] = radius;
		sum += 1 / radius ** sigma - tail;
		cdf[k] = sum;
	}
	let max = -Infinity;
	for (let k = 0; k < radiusSteps; k++) max = Math.max(max, cdf[k] as number);
	for (let k = 0; k < radiusSteps; k++) cdf[k] = (cdf[k] as number) / max;
	return { radii, cdf };
}

/**
 * The paper's sampler: the index of the CDF value nearest to `u` (the first one on ties, like
 * `np.argmin`).
 */
export function sampleRadiusIndex(law: RadiusLaw, u: number): number {
	const cdf = law.cdf;
	let low = 0;
	let high = cdf.length - 1;
	while (low < high) {
		const middle = (low + high) >> 1;
		if ((cdf[middle] as number) < u) low = middle + 1;
		else high = middle;
	}
	if (low > 0 && u - (cdf[low - 1] as number) <= Math.abs((cdf[low] as number) - u)) return low - 1;
	return low;
}

/** A leaf radius in pixels, as the paper rounds it: `max(floor(r·size), 1)`. */
export function pixelRadius(radius: number, size: number): number {
	return Math.max(Math.trunc(radius * size), 1);
}

/** One leaf as drawn, for tests and analyses (see {@link DrawOptions.onLeaf}). */
export interface LeafRecord {
	shape: DeadLeavesShape;
	/** 0xRRGGBB. */
	colour: number;
	radiusIndex: number;
	/** In pixels. */
	radius: number;
	centreX: number;
	centreY: number;
	/** The polygon's integer corners `[x, y]` as passed to fillPoly; empty for circles. */
	vertices: [number, number][];
}

/** Options of {@link drawDeadLeaves}. */
export interface DrawOptions {
	/** Required when `params.textured`. */
	textures?: TextureSource;
	/** Called for every leaf of the sequence, in painter's order, before it is rasterised. */
	onLeaf?: (leaf: LeafRecord) => void;
}

/** An image with how it was made. */
export interface DeadLeavesResult {
	image: RgbImage;
	/** Leaves in the sequence (the last one completed the coverage, or the budget ran out). */
	leafCount: number;
	/** The visible leaf of each pixel (row-major), or -1 where the canvas stayed uncovered. */
	regions: Int32Array;
}

/**
 * Supplies the next leaf of a sequence: appends its clipped spans to `spans` and returns its
 * colour as 0xRRGGBB (0 is black, which does not count as covering).
 */
export type LeafSupplier = (spans: SpanList) => number;

/** The visible leaf per pixel of a leaf sequence, and the sequence's colours. */
export interface LeafRendering {
	leafCount: number;
	/** Per pixel: the index of the last leaf covering it, or -1. A scratch buffer: copy it to keep it. */
	regions: Int32Array;
	/** Per leaf: 0xRRGGBB. A scratch buffer of at least `leafCount` entries. */
	colours: Int32Array;
}

/** Per-size scratch memory, reused from image to image (the output never depends on it). */
class Scratch {
	readonly pixels: number;
	/** 32-bit words per row of {@link taken}. */
	readonly wordsPerRow: number;
	/** One bit per pixel: taken (covered, or claimed by a leaf). */
	readonly taken: Int32Array;
	readonly regions: Int32Array;
	readonly spans = new SpanList(8192);
	spanEnds = new Int32Array(1024);
	colours = new Int32Array(1024);

	constructor(readonly size: number) {
		this.pixels = size * size;
		this.wordsPerRow = (size + 31) >> 5;
		this.taken = new Int32Array(size * this.wordsPerRow);
		this.regions = new Int32Array(this.pixels);
	}

	reserveLeaves(count: number): void {
		if (count <= this.colours.length) return;
		const capacity = Math.max(count, this.colours.length * 2);
		const spanEnds = new Int32Array(capacity);
		spanEnds.set(this.spanEnds);
		this.spanEnds = spanEnds;
		const colours = new Int32Array(capacity);
		colours.set(this.colours);
		this.colours = colours;
	}
}

const scratchBySize = new Map<number, Scratch>();

function scratchFor(size: number): Scratch {
	let scratch = scratchBySize.get(size);
	if (!scratch) {
		scratch = new Scratch(size);
		scratchBySize.set(size, scratch);
	}
	return scratch;
}

/** Number of set bits in a 32-bit word. */
function bitCount(word: number): number {
	word -= (word >>> 1) & 0x55555555;
	word = (word & 0x33333333) + ((word >>> 2) & 0x33333333);
	return Math.imul((word + (word >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Marks the pixels of spans `[from, to)` as taken and returns how many were not taken before;
 * with `regions`, also records `leaf` as the owner of those newly taken pixels. Works on 32
 * pixels at a time through the per-row bitset.
 */
function takeFreePixels(
	scratch: Scratch,
	from: number,
	to: number,
	leaf: number,
	regions: Int32Array | null
): number {
	const taken = scratch.taken;
	const spans = scratch.spans.data;
	const wordsPerRow = scratch.wordsPerRow;
	const size = scratch.size;
	let count = 0;
	for (let s = from; s < to; s++) {
		const y = spans[s * 3] as number;
		const x0 = spans[s * 3 + 1] as number;
		const x1 = spans[s * 3 + 2] as number;
		const rowWord = y * wordsPerRow;
		const lastWord = x1 >> 5;
		for (let w = x0 >> 5; w <= lastWord; w++) {
			let mask = -1;
			if (w === x0 >> 5) mask &= -1 << (x0 & 31);
			if (w === lastWord) mask &= -1 >>> (31 - (x1 & 31));
			const word = taken[rowWord + w] as number;
			let fresh = mask & ~word;
			if (fresh === 0) continue;
			taken[rowWord + w] = word | mask;
			count += bitCount(fresh);
			if (regions) {
				const pixelBase = y * size + (w << 5);
				while (fresh !== 0) {
					const bit = fresh & -fresh;
					regions[pixelBase + 31 - Math.clz32(bit)] = leaf;
					fresh ^= bit;
				}
			}
		}
	}
	return count;
}

/**
 * Paints leaves `from..to` back-to-front into `regions`, keeping count of the pixels whose
 * leaf is not black. Only used once a black leaf appears (probability 1/255³ per leaf), where
 * a pixel can be uncovered again and the covered-set shortcut would no longer be exact.
 */
function paintExactly(
	scratch: Scratch,
	from: number,
	to: number,
	nonBlack: number,
	regions: Int32Array
): number {
	const spans = scratch.spans.data;
	const colours = scratch.colours;
	const size = scratch.size;
	for (let leaf = from; leaf <= to; leaf++) {
		const leafIsBlack = colours[leaf] === 0;
		const first = leaf === 0 ? 0 : (scratch.spanEnds[leaf - 1] as number);
		const last = scratch.spanEnds[leaf] as number;
		for (let s = first; s < last; s++) {
			const rowBase = (spans[s * 3] as number) * size;
			const x1 = spans[s * 3 + 2] as number;
			for (let x = spans[s * 3 + 1] as number; x <= x1; x++) {
				const previous = regions[rowBase + x] as number;
				const wasCovered = previous >= 0 && colours[previous] !== 0;
				regions[rowBase + x] = leaf;
				if (wasCovered && leafIsBlack) nonBlack--;
				else if (!wasCovered && !leafIsBlack) nonBlack++;
			}
		}
	}
	return nonBlack;
}

/**
 * Draws leaves from `nextLeaf` in painter's order until no pixel is black or `budget` leaves
 * were drawn, and returns which leaf is visible in each pixel. The result equals painting the
 * same sequence back-to-front and checking for black pixels after every leaf, as the paper does.
 */
export function renderLeafSequence(
	size: number,
	budget: number,
	nextLeaf: LeafSupplier
): LeafRendering {
	const scratch = scratchFor(size);
	const { pixels, regions, spans } = scratch;
	scratch.reserveLeaves(Math.min(budget, 4096));
	spans.clear();
	scratch.taken.fill(0);
	let leafCount = 0;
	let covered = 0;
	let exact = false;
	for (let leaf = 0; leaf < budget; leaf++) {
		scratch.reserveLeaves(leaf + 1);
		const spanStart = spans.length;
		const colour = nextLeaf(spans);
		scratch.colours[leaf] = colour;
		scratch.spanEnds[leaf] = spans.length;
		leafCount = leaf + 1;
		if (!exact && colour === 0) {
			exact = true;
			regions.fill(-1);
			covered = paintExactly(scratch, 0, leaf, 0, regions);
		} else if (exact) {
			covered = paintExactly(scratch, leaf, leaf, covered, regions);
		} else {
			covered += takeFreePixels(scratch, spanStart, spans.length, leaf, null);
		}
		if (covered === pixels) break;
	}

	// Front to back: the first leaf to claim a pixel is the last one painted over it.
	scratch.taken.fill(0);
	regions.fill(-1);
	let claimed = 0;
	for (let leaf = leafCount - 1; leaf >= 0 && claimed < pixels; leaf--) {
		const first = leaf === 0 ? 0 : (scratch.spanEnds[leaf - 1] as number);
		claimed += takeFreePixels(scratch, first, scratch.spanEnds[leaf] as number, leaf, regions);
	}
	return { leafCount, regions, colours: scratch.colours };
}

const shapeCodes: Readonly<Record<DeadLeavesShape, number>> = {
	circle: 0,
	square: 1,
	oriented_square: 2,
	rectangle: 3,
	triangle: 4,
	quadrilateral: 5
};

const radiusLaws = new Map<string, RadiusLaw>();

function cachedRadiusLaw(sigma: number, rmin: number, rmax: number): RadiusLaw {
	const key = `${sigma}|${rmin}|${rmax}`;
	let law = radiusLaws.get(key);
	if (!law) {
		law = createRadiusLaw(sigma, rmin, rmax);
		if (radiusLaws.size > 64) radiusLaws.clear();
		radiusLaws.set(key, law);
	}
	return law;
}

const vertexXs = new Int32Array(4);
const vertexYs = new Int32Array(4);
const angles = new Float64Array(4);
// Corner orders of the paper's squares, (−,−), (+,−), (+,+), (−,+), and rectangles.
const squareSigns = [-1, -1, 1, -1, 1, 1, -1, 1] as const;
const rectangleSigns = [1, 1, 1, -1, -1, -1, -1, 1] as const;

/**
 * Builds the leaf sampler of one image: each call draws the next leaf from `random` in the
 * paper's order (shape, colour, radius, centre, then the shape's angles) and rasterises it.
 */
function createLeafSupplier(
	params: DeadLeavesParams,
	size: number,
	random: Random,
	onLeaf: ((leaf: LeafRecord) => void) | undefined
): LeafSupplier {
	const law = cachedRadiusLaw(params.sigma, params.rmin, params.rmax);
	const pixelRadii = Int32Array.from(law.radii, (radius) => pixelRadius(radius, size));
	// Canonical order, so that the same set of shapes always gives the same images.
	const shapes = deadLeavesShapes.filter((shape) => params.shapes.includes(shape));
	if (shapes.length === 0) throw new RangeError('dead leaves needs at least one shape');
	const codes = Int32Array.from(shapes, (shape) => shapeCodes[shape]);
	const levels = params.colourLaw === 'full_range' ? 256 : 255;

	return (spans) => {
		const code = (codes.length > 1 ? codes[random.int(codes.length)] : codes[0]) as number;
		const red = Math.floor(random.uniform() * levels);
		const green = Math.floor(random.uniform() * levels);
		const blue = Math.floor(random.uniform() * levels);
		const colour = (red << 16) | (green << 8) | blue;
		const radiusIndex = sampleRadiusIndex(law, random.uniform());
		const radius = pixelRadii[radiusIndex] as number;
		const centreX = Math.floor(random.uniform() * size);
		const centreY = Math.floor(random.uniform() * size);
		let vertexCount = 0;
		if (code === 1 || code === 2) {
			// Corner offsets are truncated to integers before the optional rotation.
			const half = Math.trunc((radius * Math.SQRT2) / 2);
			const rotated = code === 2;
			const theta = rotated ? random.uniform() * 2 * Math.PI : 0;
			const cos = Math.cos(theta);
			const sin = Math.sin(theta);
			for (let i = 0; i < 4; i++) {
				const x = (squareSigns[i * 2] as number) * half;
				const y = (squareSigns[i * 2 + 1] as number) * half;
				vertexXs[i] = rotated ? Math.trunc(centreX + (cos * x - sin * y)) : centreX + x;
				vertexYs[i] = rotated ? Math.trunc(centreY + (sin * x + cos * y)) : centreY + y;
			}
			vertexCount = 4;
		} else if (code === 3) {
			const angle = random.uniform() * 0.5 * Math.PI;
			const halfWidth = Math.trunc(radius * Math.cos(angle));
			const halfHeight = Math.trunc(radius * Math.sin(angle));
			for (let i = 0; i < 4; i++) {
				vertexXs[i] = centreX + (rectangleSigns[i * 2] as number) * halfWidth;
				vertexYs[i] = centreY + (rectangleSigns[i * 2 + 1] as number) * halfHeight;
			}
			vertexCount = 4;
		} else if (code >= 4) {
			vertexCount = code === 4 ? 3 : 4;
			for (let i = 0; i < vertexCount; i++) {
				const angle = random.uniform() * 2 * Math.PI;
				let slot = i;
				while (slot > 0 && (angles[slot - 1] as number) > angle) {
					angles[slot] = angles[slot - 1] as number;
					slot--;
				}
				angles[slot] = angle;
			}
			for (let i = 0; i < vertexCount; i++) {
				const angle = angles[i] as number;
				vertexXs[i] = Math.trunc(centreX + radius * Math.cos(angle));
				vertexYs[i] = Math.trunc(centreY + radius * Math.sin(angle));
			}
		}
		onLeaf?.({
			shape: shapes[codes.indexOf(code)] as DeadLeavesShape,
			colour,
			radiusIndex,
			radius,
			centreX,
			centreY,
			vertices: Array.from({ length: vertexCount }, (_, i) => [
				vertexXs[i] as number,
				vertexYs[i] as number
			])
		});
		if (code === 0) rasteriseDisc(centreX, centreY, radius, size, spans);
		else if (code === 1 || code === 3) {
			// Axis-aligned: what fillPoly draws is exactly the rectangle between the corners.
			rasteriseRectangle(
				Math.min(vertexXs[0] as number, vertexXs[2] as number),
				Math.min(vertexYs[0] as number, vertexYs[2] as number),
				Math.max(vertexXs[0] as number, vertexXs[2] as number),
				Math.max(vertexYs[0] as number, vertexYs[2] as number),
				size,
				spans
			);
		} else rasterisePolygon(vertexXs, vertexYs, vertexCount, size, spans);
		return colour;
	};
}

/**
 * Replaces every region (each visible leaf, and the uncovered background if any) by a texture
 * drawn uniformly from the pool, copied pixel for pixel at the same coordinates. Textures are
 * drawn for the background first, then for leaves in sequence order.
 */
function applyTextures(
	image: RgbImage,
	rendering: LeafRendering,
	poolSize: number,
	source: TextureSource,
	random: Random
): void {
	const { size, data } = image;
	const { regions, leafCount } = rendering;
	const visible = new Uint8Array(leafCount);
	let background = false;
	for (let p = 0; p < regions.length; p++) {
		const leaf = regions[p] as number;
		if (leaf < 0) background = true;
		else visible[leaf] = 1;
	}
	const fetched = new Map<number, Uint8Array>();
	const fetch = (textureIndex: number): Uint8Array => {
		let texture = fetched.get(textureIndex);
		if (!texture) {
			const textureImage = source(textureIndex, size);
			if (textureImage.size !== size || textureImage.data.length !== size * size * 3) {
				throw new RangeError(
					`texture ${textureIndex} is ${textureImage.size}×${textureImage.size}, expected ${size}×${size}`
				);
			}
			texture = textureImage.data;
			fetched.set(textureIndex, texture);
		}
		return texture;
	};
	const backgroundTexture = background ? fetch(random.int(poolSize)) : null;
	const leafTextures: (Uint8Array | null)[] = new Array<Uint8Array | null>(leafCount).fill(null);
	for (let leaf = 0; leaf < leafCount; leaf++) {
		if (visible[leaf]) leafTextures[leaf] = fetch(random.int(poolSize));
	}
	for (let p = 0; p < regions.length; p++) {
		const leaf = regions[p] as number;
		const texture = (leaf < 0 ? backgroundTexture : leafTextures[leaf]) as Uint8Array;
		const offset = p * 3;
		data[offset] = texture[offset] as number;
		data[offset + 1] = texture[offset + 1] as number;
		data[offset + 2] = texture[offset + 2] as number;
	}
}

/** Draws dead-leaves image `index` of the dataset with `seed`, with details of how it was made. */
export function drawDeadLeaves(
	params: DeadLeavesParams,
	seed: number,
	index: number,
	size: number,
	options: DrawOptions = {}
): DeadLeavesResult {
	if (params.textured && !options.textures) {
		throw new Error('textured dead leaves need a texture source');
	}
	const random = new Random(seed, index);
	const rendering = renderLeafSequence(
		size,
		params.leafBudget,
		createLeafSupplier(params, size, random, options.onLeaf)
	);
	const image = createImage(size);
	if (params.textured && options.textures) {
		applyTextures(image, rendering, params.texturePoolSize, options.textures, random);
	} else {
		const { regions, colours } = rendering;
		const data = image.data;
		for (let p = 0, offset = 0; p < regions.length; p++, offset += 3) {
			const leaf = regions[p] as number;
			if (leaf < 0) continue;
			const colour = colours[leaf] as number;
			data[offset] = colour >>> 16;
			data[offset + 1] = (colour >>> 8) & 255;
			data[offset + 2] = colour & 255;
		}
	}
	return { image, leafCount: rendering.leafCount, regions: rendering.regions.slice() };
}

/**
 * The dead-leaves generator (id `dead_leaves`), with textures for the textured variant taken
 * from `textures`.
 */
export function createDeadLeavesGenerator(textures: TextureSource): GeneratorDefinition {
	return defineGenerator({
		id: 'dead_leaves',
		family: 'dead_leaves',
		label: 'Dead leaves',
		description:
			'Random opaque shapes with power-law sizes, stacked until the canvas is covered; optionally each leaf filled with a statistical texture.',
		version: 2,
		variantBumps: [
			{
				version: 2,
				concerns: (params) => params.textured,
				reason: "the textured variant's pool textures come from statistical version 3"
			}
		],
		speed: 'fast',
		params: deadLeavesParams,
		generate: (params, seed, index, size) =>
			drawDeadLeaves(params, seed, index, size, { textures }).image
	});
}

const allShapes = [...deadLeavesShapes];

/** The paper's four dead-leaves datasets (small scale, 128 px). */
export const deadLeavesPresets: GeneratorPreset[] = [
	{
		name: 'dead_leaves-squares',
		generator: 'dead_leaves',
		params: { shapes: ['square'], textured: false },
		size: 128,
		description: 'Axis-aligned squares (paper figure e, “square axis align”).'
	},
	{
		name: 'dead_leaves-oriented',
		generator: 'dead_leaves',
		params: { shapes: ['oriented_square'], textured: false },
		size: 128,
		description: 'Randomly rotated squares (paper figure f, “rotated squares”).'
	},
	{
		name: 'dead_leaves-mixed',
		generator: 'dead_leaves',
		params: { shapes: allShapes, textured: false },
		size: 128,
		description: 'All six shapes mixed (paper figure g, “diverse shapes”).'
	},
	{
		name: 'dead_leaves-textures',
		generator: 'dead_leaves',
		params: { shapes: allShapes, textured: true },
		size: 128,
		description:
			'Mixed shapes, each filled with a statistical texture. Follows the released command (--shape-model mixed --textured); the paper figure’s label says squares.'
	}
];
