/**
 * What an Explain map explains: a request's target (`predicted`, `true`, a class, the image's own
 * embedding, a class mean) turned into Grad-CAM's {@link CamTarget}, with the linear probe's
 * prediction for the image when the encoder has a probe on the dataset.
 */
import { featureLayers, type FeatureLayer } from '../encoders/architecture';
import type { Encoder } from '../encoders/encoder';
import * as tf from '@tensorflow/tfjs-core';
import { readAndDispose } from '../compute/read';
import type { z } from 'zod';
import { AppFailure } from '../api/errors';
import type { ExplainTarget, predictionSchema, resolvedTargetSchema } from '../api/explain';
import type { LinearProbe } from '../evaluation/linear-probe';
import type { CamTarget } from './gradcam';

/** What a map actually explains (see `resolvedTargetSchema`). */
export type ResolvedTarget = z.infer<typeof resolvedTargetSchema>;

/** The probe's answer for an image (see `predictionSchema`). */
export type Prediction = z.infer<typeof predictionSchema>;

/** A linear probe on raw (unstandardised) features of `layer`: `foldStandardization` applied. */
export interface ExplainProbe {
	probe: LinearProbe;
	layer: FeatureLayer;
}

/** How many classes a prediction lists. */
const topClasses = 3;

/** Images per forward pass when averaging a class's embeddings. */
const embeddingBatch = 64;

function checkInput(encoder: Encoder, input: Float32Array, what = 'image'): void {
	const size = encoder.inputSize;
	if (input.length !== size * size * 3) {
		throw new RangeError(
			`The ${what} has ${input.length} values; the encoder takes ${size}×${size}×3 = ${size * size * 3}.`
		);
	}
}

/**
 * Softmax of the probe's logits for one centre-view image (`inputSize² · 3` normalised floats,
 * NHWC), the encoder in eval mode reading `layer`'s features. Float64 softmax: a confident
 * probe's small probabilities stay meaningful.
 */
export async function probeProbabilities(
	encoder: Encoder,
	input: Float32Array,
	probe: LinearProbe,
	layer: FeatureLayer
): Promise<Float64Array> {
	checkInput(encoder, input);
	const size = encoder.inputSize;
	const features = tf.tidy(() =>
		encoder.forward(tf.tensor4d(input, [1, size, size, 3]), { training: false, layer })
	);
	const values = await readAndDispose(features);
	if (values.length !== probe.dim) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`The probe reads ${probe.dim} ${layer} features, but this encoder has ${values.length}: it was trained for another model preset. Evaluate this encoder again with the linear probe.`
		);
	}
	const logits = new Float64Array(probe.classes);
	for (let c = 0; c < probe.classes; c++) {
		let sum = probe.bias[c] as number;
		for (let d = 0; d < probe.dim; d++) {
			sum += (values[d] as number) * (probe.weight[d * probe.classes + c] as number);
		}
		logits[c] = sum;
	}
	const largest = Math.max(...logits);
	let total = 0;
	for (let c = 0; c < logits.length; c++) {
		logits[c] = Math.exp((logits[c] as number) - largest);
		total += logits[c] as number;
	}
	return logits.map((value) => value / total);
}

/** The image's unit-norm fc8 embedding, as the contrastive loss sees it. */
export function ownEmbedding(encoder: Encoder, input: Float32Array): Promise<Float32Array> {
	return classMeanEmbedding(encoder, [input]);
}

/**
 * The mean of the images' fc8 embeddings, each L2-normalised before averaging (as the
 * contrastive loss compares them); the reference of a `class-mean` target. Not renormalised:
 * the target's cosine does not depend on the reference's length.
 */
export async function classMeanEmbedding(
	encoder: Encoder,
	inputs: Float32Array[]
): Promise<Float32Array> {
	if (inputs.length === 0) {
		throw new AppFailure(
			'INVALID_REQUEST',
			'A class mean needs at least one image of the class; the training split has none.'
		);
	}
	const size = encoder.inputSize;
	const pixels = size * size * 3;
	const dim = encoder.embeddingDim;
	const sum = new Float64Array(dim);
	for (let start = 0; start < inputs.length; start += embeddingBatch) {
		const batch = inputs.slice(start, start + embeddingBatch);
		const stacked = new Float32Array(batch.length * pixels);
		batch.forEach((input, i) => {
			checkInput(encoder, input, `image ${start + i}`);
			stacked.set(input, i * pixels);
		});
		const output = tf.tidy(() =>
			encoder.forward(tf.tensor4d(stacked, [batch.length, size, size, 3]), { training: false })
		);
		const values = await readAndDispose(output);
		for (let i = 0; i < values.length; i++) {
			sum[i % dim] = (sum[i % dim] as number) + (values[i] as number);
		}
	}
	return Float32Array.from(sum, (value) => value / inputs.length);
}

/** What {@link resolveTarget} needs to know about the encoder, the image and the dataset. */
export interface TargetContext {
	encoder: Encoder;
	/** The image's centre view, `inputSize² · 3` normalised floats (NHWC). */
	input: Float32Array;
	/** The encoder's probe on this dataset, folded to raw features; null when it has none. */
	probe: ExplainProbe | null;
	/** The conv block the map is taken at: a probe must read it or a later layer. */
	camLayer: FeatureLayer;
	/** The image's label; null for an uploaded image. */
	trueClass: number | null;
	/** The dataset's class names. */
	classes: readonly string[];
	/** The mean embedding of a class's training images ({@link classMeanEmbedding}). */
	classMean: (classIndex: number) => Promise<Float32Array>;
	/** Names the encoder in messages, e.g. 'run "noise-1"'. Default 'this encoder'. */
	encoderLabel?: string;
	/** Names the dataset in messages. Default 'this dataset'. */
	dataset?: string;
}

/** A request's target made concrete: Grad-CAM's target, in words, and the probe's prediction. */
export interface TargetResolution {
	target: CamTarget;
	resolved: ResolvedTarget;
	/** Filled whenever the encoder has a probe on the dataset. */
	prediction: Prediction | null;
}

function predictionOf(probabilities: Float64Array): Prediction {
	const order = Array.from(probabilities.keys()).sort(
		(a, b) => (probabilities[b] as number) - (probabilities[a] as number) || a - b
	);
	const top = order
		.slice(0, topClasses)
		.map((classIndex) => ({ classIndex, probability: probabilities[classIndex] as number }));
	const best = top[0] ?? { classIndex: 0, probability: 0 };
	return { classIndex: best.classIndex, confidence: best.probability, top };
}

/**
 * Turns a requested target into Grad-CAM's: `predicted` is the probe's top class (the image's own
 * embedding when there is no probe), `true` the image's label through the probe, `class` any
 * class through the probe, `embedding` the own embedding (projection: see `CamTarget`) and
 * `class-mean` the cosine to a class's mean embedding. Throws AppFailure INVALID_REQUEST, saying
 * what to do, when the target needs a probe or a label that is not there, names a class the
 * dataset lacks, or needs a probe that reads a layer before the CAM layer.
 */
export async function resolveTarget(
	request: ExplainTarget,
	context: TargetContext
): Promise<TargetResolution> {
	const { encoder, input, probe, classes } = context;
	const who = context.encoderLabel ?? 'this encoder';
	const where = context.dataset ?? 'this dataset';
	const evaluateFirst = `evaluate ${who} on ${where} with the linear probe first`;
	if (probe && probe.probe.classes !== classes.length) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`The probe of ${who} has ${probe.probe.classes} classes but ${where} has ${classes.length}; ${evaluateFirst.replace('first', 'again')}.`
		);
	}
	const prediction = probe
		? predictionOf(await probeProbabilities(encoder, input, probe.probe, probe.layer))
		: null;
	const name = (classIndex: number) => JSON.stringify(classes[classIndex] ?? String(classIndex));
	const checkClass = (classIndex: number) => {
		if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes.length) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`${where} has ${classes.length} classes (0–${classes.length - 1}); class ${classIndex} does not exist.`
			);
		}
	};
	const throughProbe = (classIndex: number, why: string): TargetResolution => {
		if (!probe) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`A ${why} target goes through a linear probe, and ${who} has none on ${where}: ${evaluateFirst}, or explain the embedding or a class mean, which need no probe.`
			);
		}
		if (featureLayers.indexOf(probe.layer) < featureLayers.indexOf(context.camLayer)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`The probe of ${who} reads ${probe.layer}, before the CAM layer ${context.camLayer}, so it cannot explain a map there: take the map at ${probe.layer} or earlier, or evaluate with a probe on a later layer.`
			);
		}
		const label = why === 'class' ? '' : ` (${why === 'true' ? 'true label' : why})`;
		return {
			target: { kind: 'class', probe: probe.probe, probeLayer: probe.layer, classIndex },
			resolved: {
				kind: 'class',
				classIndex,
				description: `probe class ${name(classIndex)}${label}`
			},
			prediction
		};
	};
	const ownTarget = async (description: string): Promise<TargetResolution> => ({
		// Projection, not cosine: the cosine to itself is at its maximum and has no gradient.
		target: {
			kind: 'embedding',
			reference: await ownEmbedding(encoder, input),
			measure: 'projection'
		},
		resolved: { kind: 'embedding', classIndex: null, description },
		prediction
	});
	switch (request.kind) {
		case 'predicted':
			return prediction
				? throughProbe(prediction.classIndex, 'predicted')
				: ownTarget(`own embedding (no probe on ${where})`);
		case 'true':
			if (context.trueClass === null) {
				throw new AppFailure(
					'INVALID_REQUEST',
					'An uploaded image has no label, so it has no true class: explain the predicted class or pick a class.'
				);
			}
			checkClass(context.trueClass);
			return throughProbe(context.trueClass, 'true');
		case 'class':
			checkClass(request.classIndex);
			return throughProbe(request.classIndex, 'class');
		case 'embedding':
			return ownTarget('own embedding');
		case 'class-mean': {
			checkClass(request.classIndex);
			const reference = await context.classMean(request.classIndex);
			return {
				target: { kind: 'embedding', reference, measure: 'cosine' },
				resolved: {
					kind: 'class-mean',
					classIndex: request.classIndex,
					description: `cosine to the mean embedding of ${name(request.classIndex)}`
				},
				prediction
			};
		}
	}
}
