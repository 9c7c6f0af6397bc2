/**
 * FractalDB (Kataoka et al., ACCV 2020), the formula-driven baseline of the paper's bar chart
 * (spec §2.5): IFS categories found by a fill-ratio search, each rendered with 25 coefficient
 * weights × instances × 4 flips, as in the released FractalDB-1k.
 *
 * Reading of the original renderer (`fractal_renderer/`): `calculate` reseeds numpy with 100
 * before every render, so every image of every category follows the same map-selection
 * sequence; weights scale the coefficients but keep the category's selection probabilities.
 * The 10 `patch_gray` instances therefore differ only in their 3×3 patterns (Python `random`,
 * unseeded), and the `point_*` draw types render one instance per weight. The fixed seed belongs
 * to the renderer: the search (`param_search/ifs_simple.py`) draws each candidate's orbit from
 * the running numpy stream instead.
 */
import { defineGenerator, type GeneratorPreset } from '../generator';
import type { ParamSchema, ParamValues } from '../params';
import { Random } from '../random';
import { findCategory } from './category-search';
import { fitToCanvas, iterateIfs, type CoefficientWeights } from './ifs';
import {
	canvasToImage,
	fractalFlips,
	hsiColour,
	plotPoints,
	pointHuePalette,
	singleColourPalette,
	stampPatches,
	type FractalFlip
} from './render';

/**
 * The 25 weight rows of `weights/weights_0.4.csv`, in file order: a scaled by 0.2, 0.6, 1 (the
 * identity), 1.4, 1.8, then b, c, d, e, f scaled by 0.2, 0.6, 1.4, 1.8.
 */
export const fractalWeights: readonly CoefficientWeights[] = (() => {
	const rows: CoefficientWeights[] = [];
	const scales = [0.2, 0.6, 1.4, 1.8];
	for (let coefficient = 0; coefficient < 6; coefficient++) {
		for (const scale of coefficient === 0 ? [0.2, 0.6, 1, 1.4, 1.8] : scales) {
			const row: [number, number, number, number, number, number] = [1, 1, 1, 1, 1, 1];
			row[coefficient] = scale;
			rows.push(row);
		}
	}
	return rows;
})();

/** Index of the identity row in {@link fractalWeights}: the only weight used without weights. */
export const identityWeightIndex = 2;

/** The original's image size and iteration count, which `iterations` is quoted at. */
export const originalRender = { size: 362, iterations: 200_000 } as const;

/** FractalDB parameters. */
export const fractalParams = {
	categories: {
		kind: 'integer',
		label: 'Categories',
		help: 'Number of IFS categories (FractalDB-1k: 1000). Category k depends only on the seed and k, so changing this keeps the others.',
		min: 1,
		max: 10_000,
		step: 1,
		default: 1000
	},
	fillThreshold: {
		kind: 'number',
		label: 'Fill threshold',
		help: 'A random IFS becomes a category if its 100k-point orbit lights at least this fraction of a 512² canvas (paper: 0.2). About 2% of candidates pass at 0.2, so each new category costs roughly 50 trial renders (a few hundred ms); at 0.25 only 0.2% pass.',
		min: 0,
		max: 0.25,
		step: 0.01,
		default: 0.2
	},
	useWeights: {
		kind: 'boolean',
		label: 'Weight variants',
		help: 'Render each category with the 25 coefficient weights of FractalDB-1k (identity, and each of a–f scaled by 0.2/0.6/1.4/1.8). Off: the identity only.',
		default: true
	},
	instances: {
		kind: 'integer',
		label: 'Instances per weight',
		help: 'Images per category and weight before flips (FractalDB-1k: 10). See “Point sequence” for what differs between instances.',
		min: 1,
		max: 100,
		step: 1,
		default: 10
	},
	useFlips: {
		kind: 'boolean',
		label: 'Flips',
		help: 'Emit each rendering 4 times: as is, flipped top–bottom, left–right, and both (FractalDB-1k). Off: as is only.',
		default: true
	},
	order: {
		kind: 'choice',
		label: 'Image order',
		help: 'How an image index maps to (category, weight, instance, flip). interleaved: category varies fastest, then weight, instance, flip, so the first N images cover every category evenly (how the paper cut FractalDB to 105k images is unstated). category_major: the FractalDB-1k file order, category slowest and flip fastest.',
		options: ['interleaved', 'category_major'],
		default: 'interleaved'
	},
	drawing: {
		kind: 'choice',
		label: 'Drawing',
		help: 'patch_gray (FractalDB-1k): every point pastes a random non-empty 3×3 binary pattern. plain: every point sets one pixel.',
		options: ['patch_gray', 'plain'],
		default: 'patch_gray'
	},
	pointSequence: {
		kind: 'choice',
		label: 'Point sequence',
		help: 'shared (original): every image uses the same map-selection sequence (the original reseeds numpy with 100 for each render), so instances differ only in their random patch patterns and plain instances are identical (the original draws one plain instance per weight). per_instance: instance i has its own sequence, shared by all categories and weights.',
		options: ['shared', 'per_instance'],
		default: 'shared'
	},
	iterations: {
		kind: 'integer',
		label: 'Iterations at 362 px',
		help: 'Chaos-game points for a 362-px image (FractalDB-1k: 200,000), scaled by image area to keep the same points per pixel: about 25,000 at 128 px, 400,000 at 512 px.',
		min: 1000,
		max: 2_000_000,
		step: 1000,
		default: originalRender.iterations
	},
	padding: {
		kind: 'integer',
		label: 'Padding (px)',
		help: 'Margin the fractal is scaled to fit within, in pixels at every size (the original uses 6 px at both 362 and 512). At most a quarter of the image.',
		min: 0,
		max: 32,
		step: 1,
		default: 6
	},
	colour: {
		kind: 'choice',
		label: 'Colour',
		help: 'grey (FractalDB-1k): 127 on black. category: one random hue per category. point_hue: the original *_color draw types, hue cycling with the point index every 128 points.',
		options: ['grey', 'category', 'point_hue'],
		default: 'grey'
	}
} as const satisfies ParamSchema;

/** Values of {@link fractalParams}. */
export type FractalParams = ParamValues<typeof fractalParams>;

/** The shape of a FractalDB dataset: how many of each variation, and their order. */
export interface FractalLayout {
	categories: number;
	/** Indices into {@link fractalWeights} in use. */
	weights: readonly number[];
	instances: number;
	flips: readonly FractalFlip[];
	order: 'interleaved' | 'category_major';
}

/** What one image of the dataset shows. */
export interface FractalImageKey {
	category: number;
	/** Index into {@link fractalWeights}. */
	weight: number;
	instance: number;
	flip: FractalFlip;
}

/** The dataset layout the parameters describe. */
export function fractalLayout(
	params: Pick<FractalParams, 'categories' | 'useWeights' | 'instances' | 'useFlips' | 'order'>
): FractalLayout {
	return {
		categories: params.categories,
		weights: params.useWeights ? fractalWeights.map((_, index) => index) : [identityWeightIndex],
		instances: params.instances,
		flips: params.useFlips ? fractalFlips : ['none'],
		order: params.order === 'category_major' ? 'category_major' : 'interleaved'
	};
}

/** Distinct images in the layout: categories × weights × instances × flips. */
export function layoutSize(layout: FractalLayout): number {
	return layout.categories * layout.weights.length * layout.instances * layout.flips.length;
}

/** Digits of an index, least significant first, for the layout's order. */
function radices(layout: FractalLayout): number[] {
	const sizes = [layout.categories, layout.weights.length, layout.instances, layout.flips.length];
	return layout.order === 'interleaved' ? sizes : sizes.reverse();
}

/**
 * The image at `index`. interleaved: index = c + C·(w + W·(i + I·f)); category_major: index =
 * f + F·(i + I·(w + W·c)), with w and f positions in the layout's weight and flip lists. Indices
 * past {@link layoutSize} wrap around, repeating the dataset.
 */
export function imageKey(layout: FractalLayout, index: number): FractalImageKey {
	if (!Number.isSafeInteger(index) || index < 0) {
		throw new RangeError(`A FractalDB image index is a whole number ≥ 0; got ${index}.`);
	}
	let rest = index % layoutSize(layout);
	const digits = radices(layout).map((radix) => {
		const digit = rest % radix;
		rest = Math.floor(rest / radix);
		return digit;
	});
	const [category, weight, instance, flip] = (
		layout.order === 'interleaved' ? digits : digits.reverse()
	) as [number, number, number, number];
	return {
		category,
		weight: layout.weights[weight] as number,
		instance,
		flip: layout.flips[flip] as FractalFlip
	};
}

/** The inverse of {@link imageKey}: the first index showing `key`. */
export function imageIndex(layout: FractalLayout, key: FractalImageKey): number {
	const weight = layout.weights.indexOf(key.weight);
	const flip = layout.flips.indexOf(key.flip);
	if (
		weight < 0 ||
		flip < 0 ||
		key.category >= layout.categories ||
		key.instance >= layout.instances
	) {
		throw new RangeError(`Image ${JSON.stringify(key)} is not in this FractalDB layout.`);
	}
	const digits = [key.category, weight, key.instance, flip];
	const ordered = layout.order === 'interleaved' ? digits : digits.reverse();
	const sizes = radices(layout);
	let index = 0;
	for (let d = ordered.length - 1; d >= 0; d--) {
		index = index * (sizes[d] as number) + (ordered[d] as number);
	}
	return index;
}

/** Chaos-game points for an image of `size` px: `iterations` scaled from 362² by area. */
export function pointCount(iterations: number, size: number): number {
	return Math.max(1, Math.round((iterations * size * size) / originalRender.size ** 2));
}

const pointStreamTag = 0x46445054;
const patchStreamTag = 0x46445041;
const colourStreamTag = 0x4644434c;

let canvas = new Uint8Array(0);

/** Renders one image of the dataset; see {@link fractal}. */
export function renderFractal(
	params: FractalParams,
	seed: number,
	index: number,
	size: number
): ReturnType<typeof canvasToImage> {
	const key = imageKey(fractalLayout(params), index);
	const category = findCategory(seed, key.category, params.fillThreshold);
	const sequence = new Random(
		seed,
		pointStreamTag,
		params.pointSequence === 'per_instance' ? key.instance : 0
	);
	const orbit = iterateIfs(
		category,
		fractalWeights[key.weight] as CoefficientWeights,
		pointCount(params.iterations, size),
		sequence
	);
	const pixels = fitToCanvas(orbit, size, Math.min(params.padding, Math.floor(size / 4)));
	if (canvas.length !== size * size) canvas = new Uint8Array(size * size);
	else canvas.fill(0);
	const cycleHues = params.colour === 'point_hue';
	if (params.drawing === 'plain') {
		plotPoints(pixels, canvas, size, cycleHues);
	} else {
		const patches = new Random(seed, patchStreamTag, key.category, key.weight, key.instance);
		stampPatches(pixels, canvas, size, cycleHues, patches);
	}
	const palette =
		params.colour === 'point_hue'
			? pointHuePalette
			: singleColourPalette(
					params.colour === 'category'
						? hsiColour(new Random(seed, colourStreamTag, key.category).uniform())
						: [127, 127, 127]
				);
	return canvasToImage(canvas, size, palette, key.flip);
}

/** The FractalDB generator. */
export const fractal = defineGenerator({
	id: 'fractal',
	family: 'fractal',
	label: 'FractalDB',
	description:
		'Formula-driven fractals (FractalDB): random IFS categories accepted by a fill-ratio search, each drawn with 25 coefficient weights, several instances and 4 flips.',
	version: 1,
	speed: 'fast',
	params: fractalParams,
	generate: renderFractal
});

/** The FractalDB presets, at the small-scale resolution of the paper (the original is 362 px). */
export const fractalPresets: GeneratorPreset[] = [
	{
		name: 'fractaldb-1k',
		generator: 'fractal',
		params: { drawing: 'patch_gray', pointSequence: 'shared', colour: 'grey' },
		size: 128,
		description:
			'FractalDB-1k as released: 1000 categories × 25 weights × 10 instances × 4 flips, 3×3 grey patches (the original renders at 362 px).'
	},
	{
		name: 'fractaldb-plain',
		generator: 'fractal',
		params: { drawing: 'plain', pointSequence: 'per_instance', colour: 'grey' },
		size: 128,
		description:
			'FractalDB with one grey pixel per point; each instance has its own point sequence, since shared sequences would make the plain instances identical.'
	}
];
