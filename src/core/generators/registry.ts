/**
 * Every generator and preset the app knows, by id and name. Families register here; the CLI,
 * the worker and the UI look them up here.
 */
import { controlPresets, meanColour, whiteNoise } from './controls';
import type { GeneratorDefinition, GeneratorPreset } from './generator';
import { defaultParams, paramsValidator, type ParamSchema, type ParamValues } from './params';
import { createDeadLeavesGenerator, deadLeavesPresets } from './dead-leaves/index';
import {
	createTrainedFeatureVisGenerator,
	featureVis,
	featureVisPresets,
	trainedFeatureVisPresets
} from './feature-vis/index';
import { fractal, fractalPresets } from './fractal/index';
import { statistical, statisticalPresets } from './statistical/index';
import { stylegan, styleganPresets } from './stylegan/index';
import { poolTexture } from './textures';
import { installedEncoderWeights } from './trained-encoders';

/** All generators, in the order the UI lists them. */
export const generators: readonly GeneratorDefinition[] = [
	createDeadLeavesGenerator(poolTexture),
	statistical,
	stylegan,
	featureVis,
	createTrainedFeatureVisGenerator(installedEncoderWeights),
	fractal,
	whiteNoise,
	meanColour
];

/** All presets: the paper's 14 small-scale datasets, FractalDB, then the controls. */
export const presets: readonly GeneratorPreset[] = [
	...deadLeavesPresets,
	...statisticalPresets,
	...styleganPresets,
	...featureVisPresets,
	...trainedFeatureVisPresets,
	...fractalPresets,
	...controlPresets
];

/** The generator with this id, or undefined. */
export function findGenerator(id: string): GeneratorDefinition | undefined {
	return generators.find((generator) => generator.id === id);
}

/** The preset with this name, or undefined. */
export function findPreset(name: string): GeneratorPreset | undefined {
	return presets.find((preset) => preset.name === name);
}

/** A fully specified generator configuration: what a dataset manifest records. */
export interface ResolvedConfig {
	generator: GeneratorDefinition;
	/** Every parameter, validated against the generator's schema. */
	params: ParamValues<ParamSchema>;
	preset: string | null;
	size: number;
}

/** A configuration as callers name it: a preset or a generator, overrides and a size. */
export interface ConfigRequest {
	preset?: string | undefined;
	generator?: string | undefined;
	params?: Record<string, unknown>;
	size?: number | undefined;
}

/**
 * Resolves a preset or generator plus overrides into complete, validated params. Errors name
 * what was wrong and list the valid choices.
 */
export function resolveConfig(
	request: ConfigRequest
): { ok: true; value: ResolvedConfig } | { ok: false; message: string } {
	const preset = request.preset === undefined ? undefined : findPreset(request.preset);
	if (request.preset !== undefined && !preset) {
		return {
			ok: false,
			message: `Unknown preset "${request.preset}". Presets: ${presets.map((p) => p.name).join(', ')}.`
		};
	}
	const generatorId = preset?.generator ?? request.generator;
	if (generatorId === undefined) return { ok: false, message: 'Name a preset or a generator.' };
	const generator = findGenerator(generatorId);
	if (!generator) {
		return {
			ok: false,
			message: `Unknown generator "${generatorId}". Generators: ${generators.map((g) => g.id).join(', ')}.`
		};
	}
	if (preset && request.generator !== undefined && request.generator !== preset.generator) {
		return {
			ok: false,
			message: `Preset "${preset.name}" uses generator ${preset.generator}, not ${request.generator}.`
		};
	}
	const merged = { ...defaultParams(generator.params), ...preset?.params, ...request.params };
	const parsed = paramsValidator(generator.params).safeParse(merged);
	if (!parsed.success) {
		const details = parsed.error.issues.map(
			(issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`
		);
		return { ok: false, message: `Invalid parameters for ${generator.id}: ${details.join('; ')}.` };
	}
	const size = request.size ?? preset?.size ?? 128;
	if (!Number.isInteger(size) || size < 32 || size > 512) {
		return { ok: false, message: `Image size must be a whole number from 32 to 512; got ${size}.` };
	}
	return {
		ok: true,
		value: {
			generator,
			params: { ...merged, ...parsed.data } as ParamValues<ParamSchema>,
			preset: preset?.name ?? null,
			size
		}
	};
}
