/**
 * The FractalDB category search (`param_search/ifs_search.py`): draw random IFS until one covers
 * enough of a 512² canvas. Unlike the original, which walks one numpy stream (seed 1) through
 * all categories in order, category k here is searched on its own streams keyed by (seed, k,
 * attempt), so any category can be found without finding the ones before it.
 */
import { jsonCodec, persisted } from '../persistent-cache';
import { Random } from '../random';
import { axisFit, drawIfs, fitToCanvas, iterateIfs, unitWeights, type IfsSystem } from './ifs';

/** The search canvas of the original: 100k points, 512² pixels, 6 px pad, one pixel per point. */
export const searchCanvas = { size: 512, pad: 6, points: 100_000 } as const;

/**
 * Attempts per category before the search gives up. At the paper's fill threshold 0.2 about one
 * candidate in 50 is accepted (about 1 in 500 at 0.25), so the bound is only hit by thresholds
 * that (almost) no IFS reaches.
 */
export const maxSearchAttempts = 10_000;

/** An accepted category. */
export interface FractalCategory extends IfsSystem {
	/** The attempt (0-based) whose candidate was accepted. */
	attempt: number;
	/** Fraction of non-zero pixels on the search canvas. */
	fillRatio: number;
}

/** Stream tags, so the map draw and the search orbit never share random numbers. */
const mapStreamTag = 0x46444d50;
const orbitStreamTag = 0x46444f52;

/** The random streams of one search attempt: one for the maps, one for the chaos game. */
export function searchStreams(
	seed: number,
	category: number,
	attempt: number
): { maps: Random; orbit: Random } {
	return {
		maps: new Random(seed, mapStreamTag, category, attempt),
		orbit: new Random(seed, orbitStreamTag, category, attempt)
	};
}

let searchPixels = new Uint8Array(0);

/**
 * Plots the system's orbit on the search canvas, one pixel per point, and returns the canvas
 * (row-major, 1 where a point landed). The buffer is reused by the next call.
 */
export function renderSearchCanvas(system: IfsSystem, orbitRandom: Random): Uint8Array {
	const { size, pad, points } = searchCanvas;
	if (searchPixels.length !== size * size) searchPixels = new Uint8Array(size * size);
	searchPixels.fill(0);
	const pixels = fitToCanvas(iterateIfs(system, unitWeights, points, orbitRandom), size, pad);
	for (let i = 0; i < pixels.count; i++) {
		searchPixels[(pixels.rows[i] as number) * size + (pixels.columns[i] as number)] = 1;
	}
	return searchPixels;
}

/** The fraction of non-zero entries, as `cal_pix` counts them. */
export function fillRatio(canvas: Uint8Array): number {
	let lit = 0;
	for (let i = 0; i < canvas.length; i++) if (canvas[i] !== 0) lit++;
	return lit / canvas.length;
}

let litEpochs = new Uint32Array(0);
let epoch = 0;

/**
 * The fill ratio of the search canvas, as {@link fillRatio} of {@link renderSearchCanvas} gives
 * it, in one pass: pixels are marked with the attempt's epoch, so the canvas is never cleared or
 * rescanned (a third of the search cost).
 */
function searchFill(system: IfsSystem, orbitRandom: Random): number {
	const { size, pad, points } = searchCanvas;
	if (litEpochs.length !== size * size) litEpochs = new Uint32Array(size * size);
	if (++epoch === 2 ** 32) {
		litEpochs.fill(0);
		epoch = 1;
	}
	const orbit = iterateIfs(system, unitWeights, points, orbitRandom);
	const [scaleX, shiftX] = axisFit(orbit.minX, orbit.maxX, size, pad);
	const [scaleY, shiftY] = axisFit(orbit.minY, orbit.maxY, size, pad);
	const { xs, ys, count, minX, minY } = orbit;
	let lit = 0;
	for (let i = 0; i < count; i++) {
		const column = Math.trunc(((xs[i] as number) - minX) * scaleX + shiftX);
		const row = Math.trunc(((ys[i] as number) - minY) * scaleY + shiftY);
		const at = row * size + column;
		if (litEpochs[at] !== epoch) {
			litEpochs[at] = epoch;
			lit++;
		}
	}
	return lit / (size * size);
}

const cache = new Map<string, FractalCategory>();
/** Plenty for a million-image dataset; the cache is cleared whole when it fills up. */
const cacheLimit = 20_000;

/**
 * Searches category `category` of the dataset `seed` without the cache: the first attempt whose
 * candidate fills at least `threshold` of the search canvas.
 *
 * @throws RangeError when none of the first `maxAttempts` candidates is accepted.
 */
export function searchCategory(
	seed: number,
	category: number,
	threshold: number,
	maxAttempts: number = maxSearchAttempts
): FractalCategory {
	for (let attempt = 0; attempt < maxAttempts; attempt++) {
		const streams = searchStreams(seed, category, attempt);
		const candidate = drawIfs(streams.maps);
		const ratio = searchFill(candidate, streams.orbit);
		if (ratio >= threshold) return { ...candidate, attempt, fillRatio: ratio };
	}
	throw new RangeError(
		`FractalDB search: no IFS filled ${threshold} of the ${searchCanvas.size}² search canvas in ` +
			`${maxAttempts} attempts (category ${category}, seed ${seed}). Lower the fill threshold; ` +
			`the paper uses 0.2.`
	);
}

/**
 * {@link searchCategory}, cached per (seed, category, threshold). The result does not depend on
 * `maxAttempts` once found, so the cache only saves time.
 */
export function findCategory(
	seed: number,
	category: number,
	threshold: number,
	maxAttempts: number = maxSearchAttempts
): FractalCategory {
	const key = `${seed}:${category}:${threshold}`;
	const cached = cache.get(key);
	if (cached) return cached;
	// The search costs ~0.2 s per category; the persistent cache keeps results across processes.
	const found = persisted<FractalCategory>(
		`fractal/categories-v1/${seed}/${threshold}/${maxAttempts}/${category}`,
		() => searchCategory(seed, category, threshold, maxAttempts),
		jsonCodec
	);
	if (cache.size >= cacheLimit) cache.clear();
	cache.set(key, found);
	return found;
}
