/**
 * The order in which a run visits its dataset. The data is an endless sequence of epochs, each a
 * fresh seeded permutation of the dataset (the paper's `shuffle=True` loader), laid end to end:
 * step `s` takes positions `[s·batch, (s+1)·batch)` of that sequence. Batches therefore straddle
 * epoch boundaries instead of dropping or padding a last partial batch, and the order is a pure
 * function of (step, batch, count, seed), so a resumed run sees exactly the batches it would have.
 */
import { Random } from '../generators/random';

/** Separates the permutation stream from other uses of (seed, epoch) keys. */
const permutationStream = 0x0de7;

/**
 * Permutations are recomputed rather than stored per run; a step needs at most two epochs, and
 * consecutive steps need the same ones, so a tiny cache makes the common case free.
 */
const cacheSize = 2;
const permutationCache: { key: string; permutation: Int32Array }[] = [];

/** The seeded permutation of `0..count-1` that epoch `epoch` visits (Fisher–Yates). */
export function epochPermutation(epoch: number, count: number, seed: number): Int32Array {
	const key = `${seed}:${count}:${epoch}`;
	const cached = permutationCache.find((entry) => entry.key === key);
	if (cached) return cached.permutation;
	const permutation = new Int32Array(count);
	for (let i = 0; i < count; i++) permutation[i] = i;
	const random = new Random(seed, epoch, permutationStream);
	for (let i = count - 1; i > 0; i--) {
		const j = random.int(i + 1);
		const swap = permutation[i] as number;
		permutation[i] = permutation[j] as number;
		permutation[j] = swap;
	}
	permutationCache.unshift({ key, permutation });
	permutationCache.length = Math.min(permutationCache.length, cacheSize);
	return permutation;
}

/**
 * The image indices of step `step`: the data is an endless sequence of epochs, each a fresh
 * seeded permutation of 0..count-1 (`Random(seed, epoch, …)`); step s takes positions
 * [s·batch, (s+1)·batch) of it. Pure function of its arguments, so a resumed run sees the same
 * order. The returned array is the caller's to keep.
 */
export function indicesForStep(
	step: number,
	batch: number,
	count: number,
	seed: number
): Int32Array {
	checkWhole('step', step, 0);
	checkWhole('batch', batch, 1);
	checkWhole('count', count, 1);
	const indices = new Int32Array(batch);
	// Positions can pass 2^53 only after ~10^15 images; plain numbers are exact well beyond any run.
	const first = step * batch;
	let filled = 0;
	while (filled < batch) {
		const position = first + filled;
		const epoch = Math.floor(position / count);
		const offset = position - epoch * count;
		const take = Math.min(batch - filled, count - offset);
		indices.set(epochPermutation(epoch, count, seed).subarray(offset, offset + take), filled);
		filled += take;
	}
	return indices;
}

/** Epochs done after `step` steps, fractional: `step·batch / count`. */
export function epochAt(step: number, batch: number, count: number): number {
	return (step * batch) / count;
}

function checkWhole(name: string, value: number, minimum: number): void {
	if (!Number.isSafeInteger(value) || value < minimum) {
		throw new RangeError(`${name} must be a whole number of at least ${minimum}; got ${value}.`);
	}
}
