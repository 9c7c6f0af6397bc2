/**
 * Which pooled units image `index` maximises (§2.4): the first `units` images each target one
 * unit, the following ones target the pairs (i, j), i < j, in lexicographic order. The paper
 * stops at N = 105k (2048 singles + 102,952 pairs of ResNet-50's avgpool); a narrower network
 * has fewer combinations, so past the last pair the list starts again from unit 0 and the
 * repeats differ only through their random initialisation and transforms.
 */

/** How many distinct targets a layer of `units` units has: the singles plus the pairs. */
export function targetCount(units: number): number {
	return units + (units * (units - 1)) / 2;
}

/** The number of pairs (a, b), a < b < units, whose first unit is below `row`. */
function pairsBeforeRow(row: number, units: number): number {
	return (row * (2 * units - row - 1)) / 2;
}

/**
 * The units image `index` targets, in O(1): `[i]` for a single, `[i, j]` (i < j) for a pair.
 * The pair's row comes from inverting the triangular count, then one correction step absorbs
 * floating-point error in the square root.
 */
export function targetUnits(index: number, units: number): [number] | [number, number] {
	if (!Number.isInteger(units) || units < 1)
		throw new RangeError(`units must be ≥ 1, got ${units}`);
	if (!Number.isInteger(index) || index < 0) throw new RangeError(`bad image index ${index}`);
	const position = index % targetCount(units);
	if (position < units) return [position];
	const pair = position - units;
	const b = 2 * units - 1;
	let row = Math.floor((b - Math.sqrt(b * b - 8 * pair)) / 2);
	while (row > 0 && pairsBeforeRow(row, units) > pair) row--;
	while (pairsBeforeRow(row + 1, units) <= pair) row++;
	return [row, row + 1 + pair - pairsBeforeRow(row, units)];
}
