/**
 * The first conv layer's kernels as small RGB images: the paper's "visualizing features" figure
 * (Fig. 6 of Baradad et al. 2021), which shows what an encoder trained on noise learns to look
 * for at the pixel level.
 */
import type { Encoder } from '../encoders/encoder';
import { readAndDispose } from '../compute/read';

/** conv1's filters as images. */
export interface FirstLayerFilters {
	/** Side of a filter in pixels (3 for SmallAlexNet, 7 for ResNet-50). */
	kernel: number;
	/** How many filters (conv1's output channels). */
	count: number;
	/**
	 * `count × kernel² × 3` bytes: filter after filter, each row-major with RGB interleaved, and
	 * each scaled to 0–255 on its own minimum and maximum.
	 */
	rgb: Uint8Array;
}

/**
 * conv1's kernels (HWIO, `[k, k, 3, count]`) as `count` RGB images of `k × k`.
 *
 * The encoder's input channels are R, G, B, each standardised with STL-10's mean and std, so a
 * kernel's input channels map to R, G, B directly. Each filter is scaled to 0–255 on its own
 * min–max (torchvision's `make_grid(normalize=True, scale_each=True)`, as in the paper's figure
 * and AlexNet's): weights of different filters differ in scale by orders of magnitude, and a
 * shared scale would leave most filters flat grey. The price is that the figure shows each
 * filter's pattern, not its strength. A constant filter becomes mid-grey (128).
 */
export async function firstLayerFilters(encoder: Encoder): Promise<FirstLayerFilters> {
	const variable = encoder.firstLayerKernel();
	const [kernel, kernelWidth, inputs, count] = variable.shape as [number, number, number, number];
	const weights = await readAndDispose(variable);
	if (kernel !== kernelWidth || inputs !== 3) {
		throw new Error(
			`The first conv kernel should be [k, k, 3, filters]; it is [${variable.shape.join(', ')}].`
		);
	}
	const pixels = kernel * kernel * 3;
	const rgb = new Uint8Array(count * pixels);
	for (let filter = 0; filter < count; filter++) {
		// HWIO: the value for (tap, input channel) of this filter sits at (tap·3 + c)·count + filter,
		// so the filter's own pixels in RGB order are every `count`-th weight.
		let min = Infinity;
		let max = -Infinity;
		for (let i = 0; i < pixels; i++) {
			const value = weights[i * count + filter] as number;
			min = Math.min(min, value);
			max = Math.max(max, value);
		}
		const range = max - min;
		for (let i = 0; i < pixels; i++) {
			const value = weights[i * count + filter] as number;
			rgb[filter * pixels + i] = range > 0 ? Math.round(((value - min) / range) * 255) : 128;
		}
	}
	return { kernel, count, rgb };
}
