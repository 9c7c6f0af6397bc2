/**
 * The 3×3 filter banks of the randomized StyleGAN variants (spec §2.3.4). Each oriented filter
 * is the central 3×3 crop of an 11×11 pattern rotated counter-clockwise about its centre with
 * PIL's bilinear `Image.rotate` on a float (`F`, 32-bit) image; the rotation is emulated here
 * step by step (PIL's affine matrix rounded to 15 decimals, its half-pixel sampling, its
 * clamped bilinear taps and float32 storage) so the banks match the reference code's values.
 */

/** A 3×3 filter, row-major, rows top to bottom. */
export type Filter3x3 = Float64Array;

const patternSize = 11;
const cropStart = 4;

/** Python's `round(x, 15)`, as PIL applies it to the rotation matrix. */
function round15(x: number): number {
	return Math.round(x * 1e15) / 1e15;
}

/**
 * PIL's `Image.rotate(deg, resample=BILINEAR)` of a square float image (no expand, default
 * centre), returning float32-rounded values. Angles of 0/90/180/270° take PIL's exact
 * transpose shortcuts.
 */
export function pilRotateBilinear(
	pattern: Float64Array,
	size: number,
	degrees: number
): Float64Array {
	const out = new Float64Array(size * size);
	const angle = ((degrees % 360) + 360) % 360;
	const at = (y: number, x: number) => Math.fround(pattern[y * size + x] as number);
	if (angle === 0 || angle === 90 || angle === 180 || angle === 270) {
		for (let y = 0; y < size; y++) {
			for (let x = 0; x < size; x++) {
				const last = size - 1;
				out[y * size + x] =
					angle === 0
						? at(y, x)
						: angle === 90
							? at(x, last - y)
							: angle === 180
								? at(last - y, last - x)
								: at(last - x, y);
			}
		}
		return out;
	}
	const radians = (-angle * Math.PI) / 180;
	const a = round15(Math.cos(radians));
	const b = round15(Math.sin(radians));
	const d = round15(-Math.sin(radians));
	const e = round15(Math.cos(radians));
	const centre = size / 2;
	const c = a * -centre + b * -centre + 0 + centre;
	const f = d * -centre + e * -centre + 0 + centre;
	const clamp = (v: number) => (v < 0 ? 0 : v > size - 1 ? size - 1 : v);
	for (let y = 0; y < size; y++) {
		for (let x = 0; x < size; x++) {
			const xs = a * (x + 0.5) + b * (y + 0.5) + c;
			const ys = d * (x + 0.5) + e * (y + 0.5) + f;
			if (xs < 0 || xs >= size || ys < 0 || ys >= size) continue;
			const xi = xs - 0.5;
			const yi = ys - 0.5;
			const x0 = Math.floor(xi);
			const y0 = Math.floor(yi);
			const dx = xi - x0;
			const dy = yi - y0;
			const row = clamp(y0);
			const left = clamp(x0);
			const right = clamp(x0 + 1);
			const top = at(row, left) + (at(row, right) - at(row, left)) * dx;
			let bottom = top;
			if (y0 + 1 >= 0 && y0 + 1 < size) {
				bottom = at(y0 + 1, left) + (at(y0 + 1, right) - at(y0 + 1, left)) * dx;
			}
			out[y * size + x] = Math.fround(top + (bottom - top) * dy);
		}
	}
	return out;
}

/** The central 3×3 of a rotated 11×11 pattern, float32 as numpy keeps it. */
function rotatedCrop(pattern: Float64Array, degrees: number): Float64Array {
	const rotated = pilRotateBilinear(pattern, patternSize, degrees);
	const crop = new Float64Array(9);
	for (let y = 0; y < 3; y++) {
		for (let x = 0; x < 3; x++) {
			crop[y * 3 + x] = rotated[(y + cropStart) * patternSize + x + cropStart] as number;
		}
	}
	return crop;
}

/** `crop -= crop.mean()` in float32, as numpy does on the float32 crop. */
function subtractMeanFloat32(crop: Float64Array): Float64Array {
	let sum = 0;
	for (const value of crop) sum = Math.fround(sum + value);
	const mean = Math.fround(sum / crop.length);
	return crop.map((value) => Math.fround(value - mean));
}

/** +1 left half, 0 centre column, −1 right half: the oriented edge pattern. */
function edgePattern(): Float64Array {
	const pattern = new Float64Array(patternSize * patternSize);
	for (let y = 0; y < patternSize; y++) {
		for (let x = 0; x < patternSize; x++) {
			pattern[y * patternSize + x] = x < 5 ? 1 : x === 5 ? 0 : -1;
		}
	}
	return pattern;
}

/** −1 centre column, +1 elsewhere: the oriented line pattern. */
function linePattern(): Float64Array {
	const pattern = new Float64Array(patternSize * patternSize);
	for (let y = 0; y < patternSize; y++) {
		for (let x = 0; x < patternSize; x++) pattern[y * patternSize + x] = x === 5 ? -1 : 1;
	}
	return pattern;
}

/** Impulse, centre-surround, plus, and plus with negative corners (spec §2.3.4). */
function sparseFilters(): Float64Array[] {
	return [
		[0, 0, 0, 0, 1, 0, 0, 0, 0],
		[-1, -1, -1, -1, 1, -1, -1, -1, -1],
		[0, 1, 0, 1, 1, 1, 0, 1, 0],
		[-1, 1, -1, 1, 1, 1, -1, 1, -1]
	].map((values) => Float64Array.from(values));
}

/**
 * The v1 bank (32 filters) of the `highfreq` and v2 `sparse` modules: 16 binarised edges at
 * k·22.5° over 360° (mean removed, then sign), 4 binarised lines at 0/45/90/135° with their
 * negations, and the 4 sparse filters with their negations.
 */
export function waveletBankV1(): Filter3x3[] {
	const bank: Filter3x3[] = [];
	const edge = edgePattern();
	for (let k = 0; k < 16; k++)
		bank.push(subtractMeanFloat32(rotatedCrop(edge, (k * 360) / 16)).map(Math.sign));
	const line = linePattern();
	for (let k = 0; k < 4; k++) {
		const filter = rotatedCrop(line, (k * 180) / 4).map(Math.sign);
		bank.push(
			filter,
			filter.map((value) => -value || 0)
		);
	}
	for (const filter of sparseFilters())
		bank.push(
			filter,
			filter.map((value) => -value || 0)
		);
	return bank;
}

/**
 * The v3 bank (40 filters) of the `oriented` module: 8 edges and 8 lines at k·22.5° over 180°,
 * mean removed but not binarised, the 4 sparse filters, then the negations of all 20.
 */
export function waveletBankV3(): Filter3x3[] {
	const base: Filter3x3[] = [];
	const edge = edgePattern();
	for (let k = 0; k < 8; k++) base.push(subtractMeanFloat32(rotatedCrop(edge, (k * 180) / 8)));
	const line = linePattern();
	for (let k = 0; k < 8; k++) base.push(subtractMeanFloat32(rotatedCrop(line, (k * 180) / 8)));
	base.push(...sparseFilters());
	return [...base, ...base.map((filter) => filter.map((value) => -value || 0))];
}
