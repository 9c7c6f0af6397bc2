import { AppFailure } from '../api/errors';
import type { RgbImage } from './image';
import type { ParamSchema, ParamValues } from './params';

/** The generator families of the paper, plus trivial controls. */
export const generatorFamilies = [
	'dead_leaves',
	'statistical',
	'stylegan',
	'feature_vis',
	'fractal',
	'control'
] as const;

/** One of {@link generatorFamilies}. */
export type GeneratorFamily = (typeof generatorFamilies)[number];

/**
 * A noise-image generator: a pure function of (params, seed, index, size). The same inputs give
 * the same bytes on every machine and in every worker; a generator may cache internal state
 * (a StyleGAN network, a texture) as long as that never changes its output.
 */
export interface GeneratorDefinition<S extends ParamSchema = ParamSchema> {
	/** Stable id used in presets, manifests and the CLI, e.g. `dead_leaves`. */
	id: string;
	family: GeneratorFamily;
	label: string;
	/** What it draws, for the UI and `--help`. */
	description: string;
	/** Bump when the output for the same inputs changes; manifests record it. */
	version: number;
	/** `slow` generators (feature visualisation) say so in the UI. */
	speed: 'fast' | 'slow';
	params: S;
	/** Draws image `index` of the dataset with this `seed`, `size`×`size` pixels. */
	generate(
		params: ParamValues<S>,
		seed: number,
		index: number,
		size: number
	): RgbImage | Promise<RgbImage>;
}

/** Widens a typed definition for lists and registries. */
export function defineGenerator<S extends ParamSchema>(
	definition: GeneratorDefinition<S>
): GeneratorDefinition {
	return definition as unknown as GeneratorDefinition;
}

/** A named configuration of a generator: the paper's datasets and the app's controls. */
export interface GeneratorPreset {
	/** e.g. `dead_leaves-mixed`, as in the paper's dataset folders. */
	name: string;
	generator: string;
	/** Overrides of the generator's defaults. */
	params: Record<string, unknown>;
	/** The resolution of the paper's small-scale dataset. */
	size: number;
	description: string;
}

/**
 * Draws an image, turning a generator's refusal of its settings (a RangeError: the smallest
 * radius above the largest, no leaf shape ticked) into an INVALID_REQUEST that names the
 * generator and its parameters by their labels, instead of an "Unexpected error".
 */
export async function generateOrExplain<S extends ParamSchema>(
	generator: GeneratorDefinition<S>,
	params: ParamValues<S>,
	seed: number,
	index: number,
	size: number
): Promise<RgbImage> {
	try {
		return await generator.generate(params, seed, index, size);
	} catch (error) {
		if (!(error instanceof RangeError)) throw error;
		let message = error.message;
		for (const [name, spec] of Object.entries(generator.params)) {
			message = message.replace(new RegExp(`\\b${name}\\b`, 'g'), `${spec.label} (${name})`);
		}
		throw new AppFailure(
			'INVALID_REQUEST',
			`${generator.label} cannot draw these settings: ${message}. Change the parameters it names, or reset them to the preset’s.`
		);
	}
}
