/**
 * Trivial controls that researchers compare the noise families against: i.i.d. white noise
 * (no structure at all) and a flat image of one plausible mean colour (no spatial structure).
 */
import { defineGenerator, type GeneratorPreset } from './generator';
import { createImage } from './image';
import { Random } from './random';

/** Per-image channel means of natural images (the StyleGAN colour prior of the paper, §2.3.1). */
const naturalMean = { mean: [0.483, 0.455, 0.401], std: [0.145, 0.142, 0.161] } as const;

/** Uniform i.i.d. noise in every pixel and channel. */
export const whiteNoise = defineGenerator({
	id: 'white_noise',
	family: 'control',
	label: 'White noise',
	description: 'Every pixel and channel drawn independently and uniformly from 0–255.',
	version: 1,
	speed: 'fast',
	params: {},
	generate: (_params, seed, index, size) => {
		const random = new Random(seed, index);
		const image = createImage(size);
		for (let i = 0; i < image.data.length; i += 4) {
			const bits = random.uint32();
			image.data[i] = bits & 255;
			image.data[i + 1] = (bits >>> 8) & 255;
			image.data[i + 2] = (bits >>> 16) & 255;
			if (i + 3 < image.data.length) image.data[i + 3] = bits >>> 24;
		}
		return image;
	}
});

/** One flat colour per image, drawn from the distribution of natural images' mean colours. */
export const meanColour = defineGenerator({
	id: 'mean_colour',
	family: 'control',
	label: 'Mean colour',
	description:
		'A flat image of one colour, drawn per image from the distribution of natural images’ mean colours (N(μ, σ²) per channel, clipped).',
	version: 1,
	speed: 'fast',
	params: {},
	generate: (_params, seed, index, size) => {
		const random = new Random(seed, index);
		const colour = naturalMean.mean.map((mean, c) =>
			Math.round(
				255 * Math.min(1, Math.max(0, mean + (naturalMean.std[c] as number) * random.normal()))
			)
		);
		const [red = 0, green = 0, blue = 0] = colour;
		const image = createImage(size);
		for (let i = 0; i < image.data.length; i += 3) {
			image.data[i] = red;
			image.data[i + 1] = green;
			image.data[i + 2] = blue;
		}
		return image;
	}
});

/** The control presets. */
export const controlPresets: GeneratorPreset[] = [
	{
		name: 'control-white_noise',
		generator: 'white_noise',
		params: {},
		size: 128,
		description: 'Uniform white noise.'
	},
	{
		name: 'control-mean_colour',
		generator: 'mean_colour',
		params: {},
		size: 128,
		description: 'One flat, natural mean colour per image.'
	}
];
