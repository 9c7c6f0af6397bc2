/**
 * Builds any encoder NoiseLab can evaluate or explain from a recipe (architecture, input
 * normalisation, seed) and the weights of a checkpoint, or at random init when there are none.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { HostTensor } from '../interop/tensors';
import { modelPresets, type EncoderSpec } from '../training/encoder-spec';
import { modelPresetIds, type ModelPresetId } from '../training/config';
import { SmallAlexNet } from '../training/model';
import {
	encoderArchitectureSchema,
	normalisationSchema,
	stl10Normalisation,
	type EncoderArchitecture
} from './architecture';
import { withInputNormalisation, type Encoder } from './encoder';
import { ResNetEncoder } from './resnet';

/** Everything needed to build an encoder besides its weights. */
export const encoderRecipeSchema = z.object({
	architecture: encoderArchitectureSchema,
	normalisation: normalisationSchema,
	/** The random-init weights' seed (a run's seed; 0 for imported encoders). */
	seed: z.number().int().min(0)
});

/** See {@link encoderRecipeSchema}. */
export type EncoderRecipe = z.infer<typeof encoderRecipeSchema>;

/** The recipe of a trained run's encoder: its preset, STL-10 normalisation, its seed. */
export function presetRecipe(model: ModelPresetId, seed: number): EncoderRecipe {
	const spec = modelPresets[model];
	return {
		architecture: {
			kind: 'smallalexnet',
			inputSize: spec.inputSize,
			channels: [...spec.channels],
			fcWidth: spec.fcWidth,
			embeddingDim: spec.embeddingDim
		},
		normalisation: stl10Normalisation,
		seed
	};
}

/**
 * The model preset whose architecture `architecture` is (a run's own encoder, or an imported
 * SmallAlexNet of a preset's shape), or null for any other (ResNet-50, a custom width). `auto`
 * measures backends on presets only: its speed probe trains a preset.
 */
export function presetOfArchitecture(architecture: EncoderArchitecture): ModelPresetId | null {
	if (architecture.kind !== 'smallalexnet') return null;
	const id = modelPresetIds.find((preset) => {
		const spec = modelPresets[preset];
		return (
			spec.inputSize === architecture.inputSize &&
			spec.fcWidth === architecture.fcWidth &&
			spec.embeddingDim === architecture.embeddingDim &&
			spec.channels.every((width, index) => width === architecture.channels[index])
		);
	});
	return id ?? null;
}

/**
 * The encoder of `recipe` with `tensors` (NoiseLab's checkpoint names: SmallAlexNet's own,
 * ResNet's torchvision names), or at random init from the recipe's seed when `tensors` is null
 * (the random-init control). A tensor missing or of the wrong shape is an error.
 */
export function buildEncoder(
	recipe: EncoderRecipe,
	tensors: Readonly<Record<string, HostTensor>> | null
): Encoder {
	const { architecture } = recipe;
	let encoder: Encoder;
	if (architecture.kind === 'resnet50') {
		encoder = tensors
			? ResNetEncoder.fromTensors(architecture, new Map(Object.entries(tensors)))
			: ResNetEncoder.random(architecture, recipe.seed);
	} else {
		const { inputSize, channels, fcWidth, embeddingDim } = architecture;
		encoder = loadSmallAlexNet(
			{ inputSize, channels, fcWidth, embeddingDim },
			recipe.seed,
			tensors
		);
	}
	return withInputNormalisation(encoder, recipe.normalisation);
}

/**
 * A bare SmallAlexNet (no input normalisation) of `spec` with `tensors`, or at random init from
 * `seed` when `tensors` is null. A tensor missing or of the wrong shape is an error.
 */
export function loadSmallAlexNet(
	spec: EncoderSpec,
	seed: number,
	tensors: Readonly<Record<string, HostTensor>> | null
): SmallAlexNet {
	const network = SmallAlexNet.create(spec, seed);
	if (!tensors) return network;
	try {
		for (const [name, variable] of [...network.trainable, ...network.buffers]) {
			const entry = tensors[name];
			if (!entry || !tf.util.arraysEqual(entry.shape, variable.shape)) {
				throw new Error(
					`The checkpoint has no '${name}' of shape [${variable.shape.join(', ')}]; it was written for another architecture.`
				);
			}
			tf.tidy(() => variable.assign(tf.tensor(entry.data, entry.shape, 'float32')));
		}
	} catch (error) {
		network.dispose();
		throw error;
	}
	return network;
}

/** The recipe of any run's encoder: an imported encoder's own, else its training preset's. */
export function recipeOfRun(run: {
	config: { model: ModelPresetId; seed: number };
	imported: {
		architecture: EncoderRecipe['architecture'];
		normalisation: EncoderRecipe['normalisation'];
	} | null;
}): EncoderRecipe {
	if (run.imported) {
		return {
			architecture: run.imported.architecture,
			normalisation: run.imported.normalisation,
			seed: 0
		};
	}
	return presetRecipe(run.config.model, run.config.seed);
}

/**
 * The identity of an encoder's weights, for cache keys shared by Evaluate and Explain: the
 * checkpoint's SHA-256, or the random-init recipe.
 */
export function weightsKey(recipe: EncoderRecipe, checkpoint: { sha256: string } | null): string {
	return checkpoint?.sha256 ?? `random-init:${JSON.stringify(recipe)}`;
}
