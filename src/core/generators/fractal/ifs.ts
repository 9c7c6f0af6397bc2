/**
 * Iterated function systems as FractalDB draws them (Kataoka et al., `param_search/ifs_search.py`
 * and `fractal_renderer/ifs_function.py`): 2–7 random affine maps, chosen at each step with
 * probability proportional to |det|, iterated from the origin by the chaos game.
 */
import type { Random } from '../random';

/** One affine map: x' = a x + b y + e, y' = c x + d y + f. */
export interface AffineMap {
	a: number;
	b: number;
	c: number;
	d: number;
	e: number;
	f: number;
}

/** A FractalDB category: its maps and their selection probabilities (summing to 1). */
export interface IfsSystem {
	maps: readonly AffineMap[];
	probabilities: readonly number[];
}

/** Multipliers of (a, b, c, d, e, f), applied to every map: one FractalDB "weight" row. */
export type CoefficientWeights = readonly [number, number, number, number, number, number];

/** The identity weight row: the category exactly as found by the search. */
export const unitWeights: CoefficientWeights = [1, 1, 1, 1, 1, 1];

/** Fewest and most maps a category may have (numpy `randint(2, 8)`). */
export const mapCountRange = { min: 2, max: 7 } as const;

/**
 * Points kept off the image when the orbit overflows: the original drops the 100 points before
 * the first NaN because they are already huge and would squash the rest of the fractal.
 */
const overflowDiscard = 100;

/** Selection probabilities ∝ |ad − bc|, normalised; uniform if every map is singular. */
export function selectionProbabilities(maps: readonly AffineMap[]): number[] {
	const determinants = maps.map((map) => Math.abs(map.a * map.d - map.b * map.c));
	const total = determinants.reduce((sum, value) => sum + value, 0);
	return total > 0 ? determinants.map((value) => value / total) : maps.map(() => 1 / maps.length);
}

/** Draws a candidate category: n ~ U{2..7} maps with (a, b, c, d, e, f) ~ U(−1, 1)^6. */
export function drawIfs(random: Random): IfsSystem {
	const count = mapCountRange.min + random.int(mapCountRange.max - mapCountRange.min + 1);
	const maps: AffineMap[] = [];
	for (let i = 0; i < count; i++) {
		maps.push({
			a: random.range(-1, 1),
			b: random.range(-1, 1),
			c: random.range(-1, 1),
			d: random.range(-1, 1),
			e: random.range(-1, 1),
			f: random.range(-1, 1)
		});
	}
	return { maps, probabilities: selectionProbabilities(maps) };
}

/** The orbit's points, in growable scratch buffers shared by all synchronous callers. */
export interface Orbit {
	xs: Float64Array;
	ys: Float64Array;
	/** How many leading entries of `xs`/`ys` are points. */
	count: number;
	/** The bounding box of those points. */
	minX: number;
	maxX: number;
	minY: number;
	maxY: number;
}

let scratchXs = new Float64Array(0);
let scratchYs = new Float64Array(0);

/**
 * Runs the chaos game for `points` points, the origin included as the first (as the original
 * does). Each step takes one uniform u and applies the first map whose cumulative probability
 * is ≥ u. Probabilities are the category's own: weights scale the coefficients but, as in the
 * original renderer, not the selection probabilities.
 *
 * The returned buffers are reused by the next call; copy them to keep them.
 */
export function iterateIfs(
	system: IfsSystem,
	weights: CoefficientWeights,
	points: number,
	random: Random
): Orbit {
	if (scratchXs.length < points) {
		scratchXs = new Float64Array(points);
		scratchYs = new Float64Array(points);
	}
	const xs = scratchXs;
	const ys = scratchYs;
	const mapCount = system.maps.length;
	if (mapCount < 1 || mapCount > mapCountRange.max) {
		throw new RangeError(`An IFS has 1 to ${mapCountRange.max} maps; got ${mapCount}.`);
	}
	const coefficients = new Float64Array(mapCount * 6);
	// Padded to 6 entries with 2 (> any u) so the map index can be summed without branches.
	const cumulative = new Float64Array(mapCountRange.max - 1).fill(2);
	let running = 0;
	system.maps.forEach((map, i) => {
		coefficients.set(
			[
				map.a * weights[0],
				map.b * weights[1],
				map.c * weights[2],
				map.d * weights[3],
				map.e * weights[4],
				map.f * weights[5]
			],
			i * 6
		);
		running += system.probabilities[i] as number;
		if (i < cumulative.length) cumulative[i] = running;
	});
	// Rounding can leave the total just under 1; the last map takes what is left.
	if (mapCount - 1 < cumulative.length) cumulative[mapCount - 1] = 1;
	const [c0, c1, c2, c3, c4, c5] = cumulative as unknown as [
		number,
		number,
		number,
		number,
		number,
		number
	];

	let x = 0;
	let y = 0;
	let minX = 0;
	let maxX = 0;
	let minY = 0;
	let maxY = 0;
	xs[0] = 0;
	ys[0] = 0;
	let count = 1;
	for (; count < points; count++) {
		const u = random.uniform();
		// The first map whose cumulative probability is ≥ u, without a mispredicted branch per
		// point; this halves the cost of the loop.
		const o = 6 * (+(u > c0) + +(u > c1) + +(u > c2) + +(u > c3) + +(u > c4) + +(u > c5));
		const nextX =
			x * (coefficients[o] as number) +
			y * (coefficients[o + 1] as number) +
			(coefficients[o + 4] as number);
		y =
			x * (coefficients[o + 2] as number) +
			y * (coefficients[o + 3] as number) +
			(coefficients[o + 5] as number);
		x = nextX;
		xs[count] = x;
		ys[count] = y;
		if (x < minX) minX = x;
		if (x > maxX) maxX = x;
		if (y < minY) minY = y;
		if (y > maxY) maxY = y;
	}
	// Overflow is absorbing (±∞ times a non-zero coefficient stays infinite, NaN stays NaN), so
	// one check after the loop finds it, and the first bad point by bisection.
	if (!Number.isFinite(x + y)) {
		let good = 0;
		let bad = count - 1;
		while (bad - good > 1) {
			const middle = (good + bad) >>> 1;
			if (Number.isFinite((xs[middle] as number) + (ys[middle] as number))) good = middle;
			else bad = middle;
		}
		count = Math.max(1, bad - overflowDiscard);
		minX = maxX = minY = maxY = 0;
		for (let i = 1; i < count; i++) {
			const px = xs[i] as number;
			const py = ys[i] as number;
			if (px < minX) minX = px;
			if (px > maxX) maxX = px;
			if (py < minY) minY = py;
			if (py > maxY) maxY = py;
		}
	}
	return { xs, ys, count, minX, maxX, minY, maxY };
}

/** Pixel positions of an orbit fitted to a canvas; shared scratch like {@link Orbit}. */
export interface PixelOrbit {
	columns: Uint16Array;
	rows: Uint16Array;
	count: number;
}

let scratchColumns = new Uint16Array(0);
let scratchRows = new Uint16Array(0);

/**
 * Scales the orbit to fill `size − 2·pad` pixels on each axis independently (aspect ratio is not
 * kept, as in the original) and truncates to whole pixels, so coordinates land in [pad, size −
 * pad]. Rows grow with y here; the renderer flips the canvas top to bottom as the original does.
 * A degenerate axis (all points equal) is centred.
 */
export function fitToCanvas(orbit: Orbit, size: number, pad: number): PixelOrbit {
	const { xs, ys, count } = orbit;
	if (scratchColumns.length < count) {
		scratchColumns = new Uint16Array(count);
		scratchRows = new Uint16Array(count);
	}
	const [scaleX, shiftX] = axisFit(orbit.minX, orbit.maxX, size, pad);
	const [scaleY, shiftY] = axisFit(orbit.minY, orbit.maxY, size, pad);
	const { minX, minY } = orbit;
	for (let i = 0; i < count; i++) {
		scratchColumns[i] = ((xs[i] as number) - minX) * scaleX + shiftX;
		scratchRows[i] = ((ys[i] as number) - minY) * scaleY + shiftY;
	}
	return { columns: scratchColumns, rows: scratchRows, count };
}

/**
 * One axis of the fit as [scale, shift]: pixel = ⌊(v − lo)·scale + shift⌋. A degenerate axis
 * (all points equal) maps to the middle of the canvas.
 */
export function axisFit(lo: number, hi: number, size: number, pad: number): [number, number] {
	return hi > lo ? [(size - 2 * pad) / (hi - lo), pad] : [0, Math.floor(size / 2)];
}
