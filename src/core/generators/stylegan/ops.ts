/**
 * The linear building blocks of the StyleGAN2-ADA synthesis network on single float planes:
 * the [1,3,3,1] FIR resampler (normalised, gain 4), the stride-2 transposed 3×3 convolution of
 * the up-conv, and the padded 3×3 correlation of the plain conv. Planes are row-major
 * `Float64Array`s; every function accumulates into its output so sums over channels or filter
 * groups need no temporaries.
 */

/** The 1-D factor of the [1,3,3,1]⊗[1,3,3,1] filter, normalised, with per-axis gain 2. */
const fir = [0.25, 0.75, 0.75, 0.25] as const;

/**
 * `upfirdn2d.upsample2d` with the [1,3,3,1] filter: zero insertion, padding (2,1), then the
 * 4×4 filter with gain 4. Per axis, output 2q is (x[q−1] + 3x[q])/4 and 2q+1 is (3x[q] + x[q+1])/4.
 * Adds the upsampled plane (side `size`) into `out` (side 2·size).
 */
export function addUpsampled2x(
	plane: Float64Array,
	size: number,
	out: Float64Array,
	rows: Float64Array
): void {
	const wide = 2 * size;
	for (let y = 0; y < size; y++) {
		const from = y * size;
		const to = y * wide;
		for (let x = 0; x < size; x++) {
			const centre = plane[from + x] as number;
			const left = x > 0 ? (plane[from + x - 1] as number) : 0;
			const right = x < size - 1 ? (plane[from + x + 1] as number) : 0;
			rows[to + 2 * x] = 0.25 * left + 0.75 * centre;
			rows[to + 2 * x + 1] = 0.75 * centre + 0.25 * right;
		}
	}
	for (let y = 0; y < size; y++) {
		const centre = y * wide;
		const up = y > 0 ? centre - wide : -1;
		const down = y < size - 1 ? centre + wide : -1;
		const even = 2 * y * wide;
		const odd = even + wide;
		for (let x = 0; x < wide; x++) {
			const c = rows[centre + x] as number;
			const u = up >= 0 ? (rows[up + x] as number) : 0;
			const d = down >= 0 ? (rows[down + x] as number) : 0;
			out[even + x] = (out[even + x] as number) + 0.25 * u + 0.75 * c;
			out[odd + x] = (out[odd + x] as number) + 0.75 * c + 0.25 * d;
		}
	}
}

/**
 * Accumulates the stride-2 transposed 3×3 convolution (no padding) of `plane` (side `size`)
 * with `kernel` into `out` (side 2·size+1): out[2p+k] += kernel[k]·plane[p], as
 * `conv_transpose2d` does with the unflipped modulated weight in `conv2d_resample`.
 */
export function addTransposedConv3x3(
	plane: Float64Array,
	size: number,
	kernel: ArrayLike<number>,
	weight: number,
	out: Float64Array
): void {
	const wide = 2 * size + 1;
	for (let ky = 0; ky < 3; ky++) {
		for (let kx = 0; kx < 3; kx++) {
			const w = (kernel[ky * 3 + kx] as number) * weight;
			if (w === 0) continue;
			for (let y = 0; y < size; y++) {
				const from = y * size;
				const to = (2 * y + ky) * wide + kx;
				for (let x = 0; x < size; x++)
					out[to + 2 * x] = (out[to + 2 * x] as number) + w * (plane[from + x] as number);
			}
		}
	}
}

/**
 * The FIR step after the transposed convolution: `upfirdn2d` with padding 1 and the 4×4
 * [1,3,3,1] filter (gain 4) turns the (2n+1)² plane into a (2n)² one, added into `out`.
 * `rows` is scratch of (2n+1)·2n values.
 */
export function addFirAfterTransposed(
	plane: Float64Array,
	size: number,
	out: Float64Array,
	rows: Float64Array
): void {
	const wide = 2 * size;
	const tall = wide + 1;
	for (let y = 0; y < tall; y++) {
		const from = y * tall;
		const to = y * wide;
		for (let x = 0; x < wide; x++) {
			let sum = 0;
			for (let b = 0; b < 4; b++) {
				const source = x + b - 1;
				if (source >= 0 && source < tall)
					sum += (fir[b] as number) * (plane[from + source] as number);
			}
			rows[to + x] = sum;
		}
	}
	for (let y = 0; y < wide; y++) {
		const to = y * wide;
		for (let a = 0; a < 4; a++) {
			const source = y + a - 1;
			if (source < 0 || source >= tall) continue;
			const weight = fir[a] as number;
			const from = source * wide;
			for (let x = 0; x < wide; x++)
				out[to + x] = (out[to + x] as number) + weight * (rows[from + x] as number);
		}
	}
}

/**
 * Accumulates weight·(kernel ⋆ plane): the 3×3 correlation with zero padding 1 that
 * `conv2d` performs (flip_weight = True for the non-resampling conv).
 */
export function addCorrelate3x3(
	plane: Float64Array,
	size: number,
	kernel: ArrayLike<number>,
	weight: number,
	out: Float64Array
): void {
	for (let dy = -1; dy <= 1; dy++) {
		const yStart = dy < 0 ? 1 : 0;
		const yEnd = dy > 0 ? size - 1 : size;
		for (let dx = -1; dx <= 1; dx++) {
			const w = (kernel[(dy + 1) * 3 + dx + 1] as number) * weight;
			if (w === 0) continue;
			const xStart = dx < 0 ? 1 : 0;
			const xEnd = dx > 0 ? size - 1 : size;
			const shift = dy * size + dx;
			for (let y = yStart; y < yEnd; y++) {
				const row = y * size;
				for (let x = row + xStart; x < row + xEnd; x++)
					out[x] = (out[x] as number) + w * (plane[x + shift] as number);
			}
		}
	}
}
