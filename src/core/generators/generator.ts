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
	/**
	 * The version every variant records at least: bump it when the output of every variant
	 * changes. When only some variants' bytes change, add a {@link VariantBump} instead, so the
	 * others keep their recorded version and their half-finished exports still resume.
	 */
	version: number;
	/** Bumps that changed the bytes of only some variants; see {@link outputVersion}. */
	variantBumps?: readonly VariantBump<S>[];
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

/** A version bump that changed the output of only the variants whose params it `concerns`. */
export interface VariantBump<S extends ParamSchema = ParamSchema> {
	version: number;
	/** Whether the output for these (complete, validated) params changed at this version. */
	concerns(params: ParamValues<S>): boolean;
	/** What changed, for the record. */
	reason: string;
}

/**
 * The version recorded for images drawn with `params`: the generator's `version`, or the latest
 * {@link VariantBump} that concerns them when that is later.
 */
export function outputVersion(
	generator: GeneratorDefinition,
	params: Record<string, unknown>
): number {
	let version = generator.version;
	for (const bump of generator.variantBumps ?? []) {
		if (bump.version > version && bump.concerns(params as ParamValues<ParamSchema>))
			version = bump.version;
	}
	return version;
}

/**
 * Whether images recorded under generator version `recorded` are byte-identical to what the
 * generator draws today with `params`: no bump since `recorded` changed them. A version that is
 * not a variant bump (`1`, and every plain bump of `version`) changed every variant.
 */
export function sameOutputSince(
	generator: GeneratorDefinition,
	params: Record<string, unknown>,
	recorded: number
): boolean {
	if (!Number.isInteger(recorded) || recorded < 1) return false;
	if (recorded > outputVersion(generator, params)) return false;
	const bumps = generator.variantBumps ?? [];
	for (let version = recorded + 1; version <= generator.version; version++) {
		if (!bumps.some((bump) => bump.version === version)) return false;
	}
	return !bumps.some(
		(bump) => bump.version > recorded && bump.concerns(params as ParamValues<ParamSchema>)
	);
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
