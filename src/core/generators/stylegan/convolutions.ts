/**
 * The port through which the direct synthesis runs its modulated 3×3 convolutions, the whole
 * cost of `original` (stylegan-random): O(C_in·C_out·9) multiply-adds per pixel per layer. Core
 * holds the plain JavaScript implementation; a host may install a faster one (src/main installs
 * a SIMD WebAssembly kernel), which must return the same bits: every output value is the float64
 * sum, from +0, of weight·input products in the order (input channel, then tap in row-major
 * order), each product and each sum rounded as JavaScript rounds them. Padding taps may be summed
 * as products with 0 or skipped alike: a sum that starts at +0 never becomes −0, so adding ±0
 * leaves it unchanged.
 */
import { addCorrelate3x3, addTransposedConv3x3 } from './ops';

/** The two convolutions of the synthesis network, on planar float64 channels. */
export interface StyleganConvolutions {
	/**
	 * The plain conv: for each o < `outChannels`, Σ_i weights[o,i] ⋆ planes[i] with zero padding
	 * 1, planes of side `size`. `weights` is out × in × 9.
	 */
	correlate3x3(
		planes: readonly Float64Array[],
		size: number,
		weights: Float64Array,
		outChannels: number
	): Float64Array[];
	/**
	 * The up-conv's stride-2 transposed 3×3 convolution (no padding, unflipped weights): for each
	 * o, a plane of side 2·size+1 with out[2p+k] = Σ_i weights[o,i,k]·planes[i][p].
	 */
	transposed3x3(
		planes: readonly Float64Array[],
		size: number,
		weights: Float64Array,
		outChannels: number
	): Float64Array[];
}

/** The reference implementation: one plane pass per (output, input) pair. */
export const javascriptConvolutions: StyleganConvolutions = {
	correlate3x3(planes, size, weights, outChannels) {
		const inChannels = planes.length;
		return Array.from({ length: outChannels }, (_, o) => {
			const out = new Float64Array(size * size);
			for (let i = 0; i < inChannels; i++) {
				const at = (o * inChannels + i) * 9;
				addCorrelate3x3(planes[i] as Float64Array, size, weights.subarray(at, at + 9), 1, out);
			}
			return out;
		});
	},
	transposed3x3(planes, size, weights, outChannels) {
		const inChannels = planes.length;
		return Array.from({ length: outChannels }, (_, o) => {
			const out = new Float64Array((2 * size + 1) ** 2);
			for (let i = 0; i < inChannels; i++) {
				const at = (o * inChannels + i) * 9;
				const kernel = weights.subarray(at, at + 9);
				addTransposedConv3x3(planes[i] as Float64Array, size, kernel, 1, out);
			}
			return out;
		});
	}
};

let installed: StyleganConvolutions = javascriptConvolutions;

/**
 * Installs the process's convolutions (call once at thread start-up); null restores the
 * JavaScript ones. Since every implementation returns the same bits, this never changes output.
 */
export function installStyleganConvolutions(convolutions: StyleganConvolutions | null): void {
	installed = convolutions ?? javascriptConvolutions;
}

/** The convolutions in use. */
export function styleganConvolutions(): StyleganConvolutions {
	return installed;
}
