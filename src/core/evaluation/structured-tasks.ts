/**
 * Built-in structured evaluation tasks, in the spirit of VTAB's structured group (CLEVR count,
 * dSprites location and orientation, SmallNORB azimuth): procedurally drawn, seeded, offline
 * labelled sets of flat shapes, so there is always something to evaluate on.
 *
 * Each task asks for one geometric property. Everything else is a random distractor: the
 * background colour, a low-frequency background texture (flat, gradient or blobs) with a random
 * tint and amplitude, per-pixel noise of a random level, and the colour, kind, rotation and
 * placement of the shapes. Shape and background colours are drawn symmetrically about mid-grey,
 * so the mean colour of an image carries no information about its label.
 *
 * Geometry is exact and not anti-aliased: a pixel belongs to a shape when its centre lies inside
 * it (pixel column `i` spans `[i, i + 1)`, its centre is `i + 0.5`). Shapes are scan-converted
 * row by row from their analytic outline, so positions, sizes and angles are continuous.
 *
 * Every image is a pure function of (task, seed, split, index, size): image `index` of a split
 * draws from `new Random(seed, taskKey, splitKey, index)`, and labels from streams no image
 * uses, so train and test come from disjoint random streams.
 */
import type { EvalDataset, LabelledSplit } from './dataset';
import { imageSizeRange } from '../generators/image';
import { Random } from '../generators/random';

/** What a structured task is, for lists and reports. */
export interface StructuredTaskInfo {
	/** Stable id; the dataset is named `structured:<id>`. */
	id: string;
	/** Short human name. */
	label: string;
	/** What the label means and what varies as a distractor. */
	description: string;
	/** Class names, in label order. */
	classes: string[];
}

/** How large a structured task to generate. */
export interface StructuredTaskOptions {
	/** Number of training images (an integer ≥ 1). */
	train: number;
	/** Number of test images (an integer ≥ 1). */
	test: number;
	/** Width and height in pixels; 64 by default. */
	size?: number;
	/** Any safe integer; 0 by default. */
	seed?: number;
}

/** The kinds of shape the tasks draw. */
export type StructuredShapeKind = 'disc' | 'square' | 'triangle' | 'bar' | 'ellipse';

/** One drawn shape, in pixel units (x to the right, y downwards, pixel centres at `i + 0.5`). */
export interface StructuredShape {
	kind: StructuredShapeKind;
	/** Centre (also the centroid) of the shape. */
	centreX: number;
	/** See {@link StructuredShape.centreX}. */
	centreY: number;
	/** Radius of the disc with the same area: `sqrt(area / π)`. */
	equivalentRadius: number;
	/** Radius of the smallest circle about the centre that contains the shape. */
	circumradius: number;
	/**
	 * Rotation in radians, counter-clockwise on screen from the +x axis. For bars and
	 * ellipses it is the direction of the long axis, in `[0, π)`.
	 */
	angle: number;
	/** RGB, 0–255. */
	colour: [number, number, number];
	/** Long-axis length of a bar or ellipse (absent for other kinds). */
	length?: number;
	/** Short-axis width of a bar or ellipse (absent for other kinds). */
	width?: number;
}

/** One image of a structured task with what was drawn in it. */
export interface StructuredSample {
	/** `size * size * 3` bytes, RGB interleaved. */
	pixels: Uint8Array;
	/** Per pixel, 0 for background or `k + 1` where shape `k` of {@link shapes} covers it. */
	shapeMask: Uint8Array;
	label: number;
	/** The background's base colour (unrounded), before texture and noise. */
	background: [number, number, number];
	shapes: StructuredShape[];
}

/**
 * Guaranteed separation between background and shapes, as Euclidean RGB distance from the
 * background's base colour: every background pixel is within `backgroundMaxDistance` of it, and
 * every shape pixel at least `shapeMinDistance` away, whatever the texture and noise. A
 * threshold between the two segments any image exactly, which is what makes the count visible.
 */
export const structuredSeparation = { backgroundMaxDistance: 64, shapeMinDistance: 118 } as const;

// The separation above follows from these bounds: per channel, background texture ≤ 24 and
// noise ≤ 12 give at most √3·36 + rounding ≈ 63.2; shape colours ≥ 140 from the base, minus
// √3·12 of noise and rounding, stay ≥ 118.3. Clamping to 0–255 only moves a pixel towards
// either colour, both of which lie inside the cube.
const maxTextureAmplitude = 24;
const maxNoiseAmplitude = 12;
const minShapeContrast = 140;

const countClasses = ['1', '2', '3', '4', '5', '6'];
const positionClasses = ['left', 'centre-left', 'centre-right', 'right'];
const orientationBins = 8;
const orientationClasses = Array.from(
	{ length: orientationBins },
	(_, bin) => `${(bin * 180) / orientationBins}°`
);
const sizeClasses = ['small', 'medium', 'large', 'huge'];

// Equivalent-radius bin edges of the size task, as fractions of the image size: geometric, so
// each bin is the same relative step (×1.58) and no bin is much easier to tell apart.
const sizeBinEdges = [0.04, 0.0632, 0.1, 0.158, 0.25];

/** The built-in structured tasks. */
export const structuredTasks: readonly StructuredTaskInfo[] = [
	{
		id: 'count-shapes',
		label: 'Count shapes',
		description:
			'How many shapes (1–6) are in the image. Discs, squares and triangles of random colour and rotation, never touching, on a random textured, noisy background; in half the images each shape has a random size, in the other half their total area is random, so area alone does not give the count.',
		classes: countClasses
	},
	{
		id: 'position-x',
		label: 'Horizontal position',
		description:
			'Which quarter of the image width holds the centre of the one shape. Its height, size, kind, rotation and colour are random; the background is random, textured and noisy.',
		classes: positionClasses
	},
	{
		id: 'orientation',
		label: 'Orientation',
		description:
			'Direction of one thin bar or ellipse, in 8 bins of 22.5° over 180° (class k is centred on k·22.5°, counter-clockwise from horizontal). Position, length, width and colours are random.',
		classes: orientationClasses
	},
	{
		id: 'size',
		label: 'Size',
		description:
			'Area of one shape, in 4 geometric bins of equivalent radius (4–6.3, 6.3–10, 10–16 and 16–25 % of the image size). Kind, rotation, position and colours are random.',
		classes: sizeClasses
	}
];

// Distinct per task so that two tasks with the same seed do not share random streams.
const taskKeys: Record<string, number> = {
	'count-shapes': 0x636f756e,
	'position-x': 0x706f7378,
	orientation: 0x6f726965,
	size: 0x73697a65
};
const splitKeys = { train: 1, test: 2 } as const;

/** Which split of a structured task an image belongs to. */
export type StructuredSplit = keyof typeof splitKeys;

/** Which image of a structured task to reproduce (see {@link structuredSample}). */
export interface StructuredSampleOptions {
	split: StructuredSplit;
	/** Position in the split, from 0. */
	index: number;
	/** As in {@link StructuredTaskOptions}; 64 by default. */
	size?: number;
	/** As in {@link StructuredTaskOptions}; 0 by default. */
	seed?: number;
}

function taskInfo(id: string): StructuredTaskInfo {
	const info = structuredTasks.find((task) => task.id === id);
	if (!info) {
		const known = structuredTasks.map((task) => task.id).join(', ');
		throw new RangeError(`Unknown structured task "${id}". Use one of: ${known}.`);
	}
	return info;
}

function checkCount(name: string, value: number): void {
	if (!Number.isInteger(value) || value < 1) {
		throw new RangeError(
			`Structured task option "${name}" must be a whole number of images ≥ 1, got ${value}.`
		);
	}
}

function checkSizeAndSeed(size: number, seed: number): void {
	if (!Number.isInteger(size) || size < imageSizeRange.min || size > imageSizeRange.max) {
		throw new RangeError(
			`Structured task size must be a whole number of pixels from ${imageSizeRange.min} to ${imageSizeRange.max}, got ${size}.`
		);
	}
	if (!Number.isSafeInteger(seed)) {
		throw new RangeError(`Structured task seed must be an integer, got ${seed}.`);
	}
}

/**
 * The labels of images `block·K … block·K + K − 1` of a split with K classes: a seeded
 * permutation of the classes. Blocks make a label depend on its index only, so a split is
 * balanced to within one image per class at any length and a longer split extends a shorter
 * one. Image streams use indices ≥ 0, so these negative keys never coincide with one.
 */
function labelBlock(
	seed: number,
	taskKey: number,
	splitKey: number,
	block: number,
	classes: number
): number[] {
	return new Random(seed, taskKey, splitKey, -1 - block).shuffle(
		Array.from({ length: classes }, (_, label) => label)
	);
}

/**
 * Generates a labelled train/test set of task `id` (see {@link structuredTasks}). Labels are
 * balanced (each class gets `floor(n / classes)` or one more image per split) in a seeded
 * random order. Image `index` depends only on (id, seed, split, index, size), so the same
 * options always give the same bytes and a larger split starts with the smaller one.
 */
export function generateStructuredTask(id: string, options: StructuredTaskOptions): EvalDataset {
	const info = taskInfo(id);
	const size = options.size ?? 64;
	const seed = options.seed ?? 0;
	checkCount('train', options.train);
	checkCount('test', options.test);
	checkSizeAndSeed(size, seed);
	const taskKey = taskKeys[id] as number;
	const classes = info.classes.length;
	const split = (count: number, splitKey: number): LabelledSplit => {
		const labels = new Int32Array(count);
		const imageBytes = size * size * 3;
		const data = new Uint8Array(count * imageBytes);
		const shapeMask = new Uint8Array(size * size);
		let block: number[] = [];
		for (let index = 0; index < count; index++) {
			if (index % classes === 0) {
				block = labelBlock(seed, taskKey, splitKey, index / classes, classes);
			}
			const label = block[index % classes] as number;
			labels[index] = label;
			const random = new Random(seed, taskKey, splitKey, index);
			const pixels = data.subarray(index * imageBytes, (index + 1) * imageBytes);
			drawSample(id, label, size, random, pixels, shapeMask);
		}
		return { images: { count, width: size, height: size, channels: 3, data }, labels };
	};
	return {
		name: `structured:${id}`,
		classes: [...info.classes],
		train: split(options.train, splitKeys.train),
		test: split(options.test, splitKeys.test),
		notes: [
			`Generated procedurally: ${options.train} train and ${options.test} test images of ${size}×${size} px, seed ${seed}, classes balanced; train and test come from disjoint random streams.`
		]
	};
}

/**
 * Image `index` of a split exactly as {@link generateStructuredTask} draws it, with its label
 * and what was drawn: for previews, and for checking that each label is really visible.
 */
export function structuredSample(id: string, options: StructuredSampleOptions): StructuredSample {
	const info = taskInfo(id);
	const size = options.size ?? 64;
	const seed = options.seed ?? 0;
	checkSizeAndSeed(size, seed);
	const { split, index } = options;
	if (!Number.isInteger(index) || index < 0) {
		throw new RangeError(`Structured sample index must be a whole number ≥ 0, got ${index}.`);
	}
	const taskKey = taskKeys[id] as number;
	const splitKey = splitKeys[split];
	const classes = info.classes.length;
	const block = labelBlock(seed, taskKey, splitKey, Math.floor(index / classes), classes);
	const label = block[index % classes] as number;
	const pixels = new Uint8Array(size * size * 3);
	const shapeMask = new Uint8Array(size * size);
	const random = new Random(seed, taskKey, splitKey, index);
	const drawn = drawSample(id, label, size, random, pixels, shapeMask);
	return { pixels, shapeMask, label, ...drawn };
}

interface DrawnScene {
	background: [number, number, number];
	shapes: StructuredShape[];
}

function drawSample(
	id: string,
	label: number,
	size: number,
	random: Random,
	pixels: Uint8Array,
	shapeMask: Uint8Array
): DrawnScene {
	// Uniform over the cube: symmetric about mid-grey, as are shape colours given it.
	const background: [number, number, number] = [
		random.range(0, 255),
		random.range(0, 255),
		random.range(0, 255)
	];
	let shapes: StructuredShape[];
	if (id === 'count-shapes') shapes = countScene(label + 1, size, random);
	else if (id === 'position-x') shapes = [positionShape(label, size, random)];
	else if (id === 'orientation') shapes = [orientedShape(label, size, random)];
	else shapes = [sizedShape(label, size, random)];
	for (const shape of shapes) shape.colour = contrastingColour(background, random);
	shapeMask.fill(0);
	shapes.forEach((shape, k) => rasteriseShape(shape, size, shapeMask, k + 1));
	paint(pixels, shapeMask, shapes, background, size, random);
	return { background, shapes };
}

/** A colour at least {@link minShapeContrast} from `background`, uniform over that region. */
function contrastingColour(
	background: readonly number[],
	random: Random
): [number, number, number] {
	const [br, bg, bb] = background as [number, number, number];
	// Any point of the cube has a corner ≥ 220 away; at worst (mid-grey) a third of draws pass.
	for (let attempt = 0; attempt < 1000; attempt++) {
		const r = random.range(0, 255);
		const g = random.range(0, 255);
		const b = random.range(0, 255);
		if ((r - br) ** 2 + (g - bg) ** 2 + (b - bb) ** 2 >= minShapeContrast ** 2) return [r, g, b];
	}
	return [br < 127.5 ? 255 : 0, bg < 127.5 ? 255 : 0, bb < 127.5 ? 255 : 0];
}

const areaShapes = ['disc', 'square', 'triangle'] as const;

/** A disc, square or triangle of the given area-equivalent radius, rotation random. */
function areaShape(equivalentRadius: number, random: Random): StructuredShape {
	const kind = random.pick(areaShapes);
	// Sizes are equal-area, so that the kind of a shape does not shift its size class.
	const circumradius =
		kind === 'disc'
			? equivalentRadius
			: kind === 'square'
				? equivalentRadius * Math.sqrt(Math.PI / 2)
				: equivalentRadius * Math.sqrt((4 * Math.PI) / (3 * Math.sqrt(3)));
	return {
		kind,
		centreX: 0,
		centreY: 0,
		equivalentRadius,
		circumradius,
		angle: random.range(0, 2 * Math.PI),
		colour: [0, 0, 0]
	};
}

/** A centre coordinate that keeps a shape of this circumradius one pixel clear of the edges. */
function insideCoordinate(circumradius: number, size: number, random: Random): number {
	return random.range(circumradius + 1, size - circumradius - 1);
}

function countScene(count: number, size: number, random: Random): StructuredShape[] {
	// As in numerosity studies, half the images hold the size of each shape in a range and half
	// hold their total area in a range (shapes shrink as they multiply), so neither the
	// foreground area nor the size of the shapes alone gives the count.
	const totalAreaHeld = random.uniform() < 0.5;
	const commonRadius = random.range(0.04, 0.085) * size * Math.sqrt(3.5 / count);
	// A random layout can leave no room for the last shape; shrink everything and start over.
	for (let scale = 1; ; scale *= 0.9) {
		const shapes: StructuredShape[] = [];
		for (let k = 0; k < count; k++) {
			const drawn = totalAreaHeld
				? commonRadius * random.range(0.85, 1.15)
				: random.range(0.04, 0.085) * size;
			// Never below 2.5 px, so small images still draw solid, connected shapes.
			const radius = Math.max(2.5, drawn) * scale;
			const shape = areaShape(radius, random);
			for (let attempt = 0; attempt < 200; attempt++) {
				shape.centreX = insideCoordinate(shape.circumradius, size, random);
				shape.centreY = insideCoordinate(shape.circumradius, size, random);
				// Two pixels between bounding circles: no two shapes' pixels are 8-neighbours.
				const clear = shapes.every(
					(other) =>
						Math.hypot(other.centreX - shape.centreX, other.centreY - shape.centreY) >=
						other.circumradius + shape.circumradius + 2
				);
				if (clear) {
					shapes.push(shape);
					break;
				}
			}
			if (shapes.length <= k) break;
		}
		if (shapes.length === count) return shapes;
	}
}

function positionShape(bin: number, size: number, random: Random): StructuredShape {
	const shape = areaShape(random.range(0.05, 0.1) * size, random);
	const binWidth = size / positionClasses.length;
	// A margin keeps the centre clear of bin edges, where one pixel would flip the label.
	const margin = 0.1 * binWidth;
	const low = Math.max(bin * binWidth + margin, shape.circumradius + 1);
	const high = Math.min((bin + 1) * binWidth - margin, size - shape.circumradius - 1);
	shape.centreX = random.range(low, high);
	shape.centreY = insideCoordinate(shape.circumradius, size, random);
	return shape;
}

function orientedShape(bin: number, size: number, random: Random): StructuredShape {
	const binWidth = Math.PI / orientationBins;
	// Angles stay in the middle 60 % of their bin so rasterisation cannot move them across.
	const angle = (bin * binWidth + random.range(-0.3, 0.3) * binWidth + Math.PI) % Math.PI;
	const length = random.range(0.45, 0.8) * size;
	const width = random.range(0.06, 0.1) * size;
	const kind = random.uniform() < 0.5 ? 'bar' : 'ellipse';
	const halfX = (Math.abs(Math.cos(angle)) * length + Math.abs(Math.sin(angle)) * width) / 2;
	const halfY = (Math.abs(Math.sin(angle)) * length + Math.abs(Math.cos(angle)) * width) / 2;
	const area = kind === 'bar' ? length * width : (Math.PI * length * width) / 4;
	return {
		kind,
		centreX: random.range(halfX + 1, size - halfX - 1),
		centreY: random.range(halfY + 1, size - halfY - 1),
		equivalentRadius: Math.sqrt(area / Math.PI),
		circumradius: kind === 'bar' ? Math.hypot(length, width) / 2 : length / 2,
		angle,
		colour: [0, 0, 0],
		length,
		width
	};
}

function sizedShape(bin: number, size: number, random: Random): StructuredShape {
	const low = Math.log(sizeBinEdges[bin] as number);
	const high = Math.log(sizeBinEdges[bin + 1] as number);
	// The middle 70 % of the bin in log radius, so pixel rounding cannot change the class.
	const span = high - low;
	const radius = Math.exp(random.range(low + 0.15 * span, high - 0.15 * span)) * size;
	const shape = areaShape(radius, random);
	shape.centreX = insideCoordinate(shape.circumradius, size, random);
	shape.centreY = insideCoordinate(shape.circumradius, size, random);
	return shape;
}

const polygonXs = new Float64Array(4);
const polygonYs = new Float64Array(4);

function rasteriseShape(shape: StructuredShape, size: number, mask: Uint8Array, id: number): void {
	const { centreX, centreY, angle } = shape;
	// Screen angles turn counter-clockwise, image y points down: direction (cos, −sin).
	const cos = Math.cos(angle);
	const sin = -Math.sin(angle);
	const vertex = (k: number, along: number, across: number) => {
		polygonXs[k] = centreX + along * cos - across * sin;
		polygonYs[k] = centreY + along * sin + across * cos;
	};
	switch (shape.kind) {
		case 'disc':
			fillEllipse(centreX, centreY, shape.circumradius, shape.circumradius, 0, size, mask, id);
			return;
		case 'ellipse': {
			const { length = 0, width = 0 } = shape;
			fillEllipse(centreX, centreY, length / 2, width / 2, angle, size, mask, id);
			return;
		}
		case 'square': {
			const half = shape.circumradius / Math.SQRT2;
			vertex(0, half, half);
			vertex(1, -half, half);
			vertex(2, -half, -half);
			vertex(3, half, -half);
			fillConvexPolygon(4, size, mask, id);
			return;
		}
		case 'bar': {
			const { length = 0, width = 0 } = shape;
			vertex(0, length / 2, width / 2);
			vertex(1, -length / 2, width / 2);
			vertex(2, -length / 2, -width / 2);
			vertex(3, length / 2, -width / 2);
			fillConvexPolygon(4, size, mask, id);
			return;
		}
		case 'triangle':
			for (let k = 0; k < 3; k++) {
				const turn = (2 * Math.PI * k) / 3;
				vertex(k, shape.circumradius * Math.cos(turn), shape.circumradius * Math.sin(turn));
			}
			fillConvexPolygon(3, size, mask, id);
			return;
	}
}

/** Marks with `id` every pixel whose centre is inside the convex polygon in `polygonXs/Ys`. */
function fillConvexPolygon(count: number, size: number, mask: Uint8Array, id: number): void {
	let top = Infinity;
	let bottom = -Infinity;
	for (let k = 0; k < count; k++) {
		top = Math.min(top, polygonYs[k] as number);
		bottom = Math.max(bottom, polygonYs[k] as number);
	}
	const firstRow = Math.max(0, Math.ceil(top - 0.5));
	const lastRow = Math.min(size - 1, Math.floor(bottom - 0.5));
	for (let row = firstRow; row <= lastRow; row++) {
		const y = row + 0.5;
		let left = Infinity;
		let right = -Infinity;
		for (let k = 0; k < count; k++) {
			const next = (k + 1) % count;
			const ya = polygonYs[k] as number;
			const yb = polygonYs[next] as number;
			if ((y < ya && y < yb) || (y > ya && y > yb) || ya === yb) continue;
			const xa = polygonXs[k] as number;
			const x = xa + ((y - ya) * ((polygonXs[next] as number) - xa)) / (yb - ya);
			if (x < left) left = x;
			if (x > right) right = x;
		}
		fillRow(row, left, right, size, mask, id);
	}
}

/** Marks pixels whose centre is inside an ellipse with semi-axes `a` (along `angle`) and `b`. */
function fillEllipse(
	centreX: number,
	centreY: number,
	a: number,
	b: number,
	angle: number,
	size: number,
	mask: Uint8Array,
	id: number
): void {
	const cos = Math.cos(angle);
	const sin = -Math.sin(angle);
	// (dx, dy) is inside when qxx·dx² + 2·qxy·dx·dy + qyy·dy² ≤ 1; per row, solve for dx.
	const qxx = (cos * cos) / (a * a) + (sin * sin) / (b * b);
	const qxy = cos * sin * (1 / (a * a) - 1 / (b * b));
	const qyy = (sin * sin) / (a * a) + (cos * cos) / (b * b);
	// The ellipse's vertical half-extent is 1 / sqrt(qyy − qxy² / qxx).
	const reach = 1 / Math.sqrt(qyy - (qxy * qxy) / qxx);
	const firstRow = Math.max(0, Math.ceil(centreY - reach - 0.5));
	const lastRow = Math.min(size - 1, Math.floor(centreY + reach - 0.5));
	for (let row = firstRow; row <= lastRow; row++) {
		const dy = row + 0.5 - centreY;
		const discriminant = qxy * qxy * dy * dy - qxx * (qyy * dy * dy - 1);
		if (discriminant < 0) continue;
		const root = Math.sqrt(discriminant);
		const middle = centreX - (qxy * dy) / qxx;
		fillRow(row, middle - root / qxx, middle + root / qxx, size, mask, id);
	}
}

/** Marks the pixels of `row` whose centres lie in `[left, right]`. */
function fillRow(
	row: number,
	left: number,
	right: number,
	size: number,
	mask: Uint8Array,
	id: number
): void {
	const first = Math.max(0, Math.ceil(left - 0.5));
	const last = Math.min(size - 1, Math.floor(right - 0.5));
	if (first <= last) mask.fill(id, row * size + first, row * size + last + 1);
}

/**
 * Fills `field` with a smooth random texture in [−1, 1] (a linear ramp or bilinear blobs), or
 * returns false for a flat background.
 */
function backgroundTexture(size: number, random: Random, field: Float32Array): boolean {
	const style = random.int(3);
	if (style === 0) return false;
	if (style === 1) {
		const direction = random.range(0, 2 * Math.PI);
		const dx = (2 * Math.cos(direction)) / size;
		const dy = (2 * Math.sin(direction)) / size;
		const centre = size / 2;
		// Covers [−1, 1] across the image's inscribed circle; the corners clamp.
		for (let y = 0, p = 0; y < size; y++) {
			const rowTerm = (y + 0.5 - centre) * dy;
			for (let x = 0; x < size; x++, p++) {
				const value = (x + 0.5 - centre) * dx + rowTerm;
				field[p] = value > 1 ? 1 : value < -1 ? -1 : value;
			}
		}
		return true;
	}
	const cells = 2 + random.int(4);
	const stride = cells + 1;
	const grid = new Float64Array(stride * stride);
	for (let i = 0; i < grid.length; i++) grid[i] = random.range(-1, 1);
	const scale = cells / size;
	for (let y = 0, p = 0; y < size; y++) {
		const gy = (y + 0.5) * scale;
		const iy = Math.min(cells - 1, Math.floor(gy));
		const fy = gy - iy;
		for (let x = 0; x < size; x++, p++) {
			const gx = (x + 0.5) * scale;
			const ix = Math.min(cells - 1, Math.floor(gx));
			const fx = gx - ix;
			const at = iy * stride + ix;
			const top = (grid[at] as number) * (1 - fx) + (grid[at + 1] as number) * fx;
			const bottom =
				(grid[at + stride] as number) * (1 - fx) + (grid[at + stride + 1] as number) * fx;
			field[p] = top * (1 - fy) + bottom * fy;
		}
	}
	return true;
}

// Scratch for the background texture, reused across images of the same size.
let textureField = new Float32Array(0);

function paint(
	pixels: Uint8Array,
	shapeMask: Uint8Array,
	shapes: readonly StructuredShape[],
	background: readonly number[],
	size: number,
	random: Random
): void {
	const pixelCount = size * size;
	if (textureField.length !== pixelCount) textureField = new Float32Array(pixelCount);
	const field = textureField;
	const textured = backgroundTexture(size, random, field);
	const amplitude = random.range(0, maxTextureAmplitude);
	const tintR = random.range(-1, 1) * amplitude;
	const tintG = random.range(-1, 1) * amplitude;
	const tintB = random.range(-1, 1) * amplitude;
	const noise = random.range(0, maxNoiseAmplitude);
	// One 32-bit word gives a pixel's three noise bytes; (byte − 127.5) · scale spans ±noise.
	const noiseScale = (2 * noise) / 255;
	// +0.5 so that the store, which truncates, rounds to nearest.
	const offset = 0.5 - 127.5 * noiseScale;
	const [baseR, baseG, baseB] = background as [number, number, number];
	// Per-pixel noise comes from a xorshift32 stream seeded by the image's Random: a method call
	// per pixel took most of the generation time. Non-zero seed, so the stream never sticks at 0.
	let state = random.uint32() | 1;
	for (let p = 0; p < pixelCount; p++) {
		let r = baseR;
		let g = baseG;
		let b = baseB;
		const owner = shapeMask[p] as number;
		if (owner !== 0) {
			const colour = (shapes[owner - 1] as StructuredShape).colour;
			r = colour[0];
			g = colour[1];
			b = colour[2];
		} else if (textured) {
			const t = field[p] as number;
			r += t * tintR;
			g += t * tintG;
			b += t * tintB;
		}
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		const bits = state;
		r += (bits & 255) * noiseScale + offset;
		g += ((bits >>> 8) & 255) * noiseScale + offset;
		b += ((bits >>> 16) & 255) * noiseScale + offset;
		pixels[3 * p] = r > 255 ? 255 : r < 0 ? 0 : r;
		pixels[3 * p + 1] = g > 255 ? 255 : g < 0 ? 0 : g;
		pixels[3 * p + 2] = b > 255 ? 255 : b < 0 ? 0 : b;
	}
}
