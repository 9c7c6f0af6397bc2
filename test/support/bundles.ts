import fs from 'node:fs';
import { evaluateParamsSchema, type EvaluationRecord } from '../../src/core/api/evaluation';
import type { MetricPoint, RunRecord } from '../../src/core/api/training';
import { encodeCheckpoint, type CheckpointContents } from '../../src/core/training/checkpoint';
import { trainConfigSchema, type TrainConfig } from '../../src/core/training/config';
import { modelPresets, weightShapes } from '../../src/core/training/encoder-spec';
import { bundleFormat, dataSectionSha256 } from '../../src/main/training/bundle-reader';

/**
 * Weights shaped exactly like the `tiny` encoder's (about 7.2 MB), deterministic small values,
 * and an optimiser that has not stepped: what a checkpoint of a tiny run holds.
 */
export function tinyWeights(): CheckpointContents['tensors'] {
	const tensors: CheckpointContents['tensors'] = {};
	let seed = 1;
	for (const [name, shape] of weightShapes(modelPresets.tiny)) {
		const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
		for (let i = 0; i < data.length; i++) data[i] = Math.sin(seed++ * 0.001) * 0.02;
		tensors[name] = { shape, data };
	}
	tensors['optimizer/step'] = { shape: [], data: Float32Array.of(0) };
	return tensors;
}

/** A tiny run's configuration, as a bundle's record holds it. */
export const tinyBundleConfig: TrainConfig = trainConfigSchema.parse({
	source: { kind: 'generator', config: { preset: 'dead_leaves-squares', size: 64 }, count: 64 },
	model: 'tiny',
	steps: 8,
	batch: 8,
	backend: 'wasm'
});

/** What a fabricated bundle holds; every part can be overridden to make it wrong. */
export interface BundleParts {
	run: RunRecord;
	metrics: MetricPoint[];
	evaluations: EvaluationRecord[];
	checkpointStep: number;
	checkpointMeta: Record<string, unknown>;
	tensors: CheckpointContents['tensors'];
	/** The weights' hash the header claims; default: their true hash. */
	dataSha256?: string;
}

/** A completed 8-step tiny run with its metrics and checkpoint, as an export would write it. */
export function tinyBundleParts(): BundleParts {
	const time = '2025-01-01T00:00:00.000Z';
	const run: RunRecord = {
		id: 3,
		name: 'fabricated',
		status: 'completed',
		kind: 'trained',
		imported: null,
		config: tinyBundleConfig,
		sourceLabel: 'dead_leaves-squares · virtual · 64 images',
		backend: 'wasm',
		adapter: null,
		step: 8,
		steps: 8,
		parameterCount: 1_803_768,
		lastLoss: -2.5,
		trainSeconds: 4,
		skippedImages: 0,
		error: null,
		tags: [],
		notes: '',
		appVersion: '0.1.0',
		createdAt: time,
		updatedAt: time,
		finishedAt: time
	};
	const metrics = Array.from({ length: 8 }, (_, i) => ({
		step: i + 1,
		loss: -2 - i / 10,
		align: 1.5,
		uniform: -3.5 - i / 10,
		lr: 0.00375,
		imagesPerSecond: 30,
		seconds: (i + 1) * 0.5
	}));
	return {
		run,
		metrics,
		evaluations: [],
		checkpointStep: 8,
		checkpointMeta: { format: 'noiselab-checkpoint', step: 8, model: 'tiny', runId: 3 },
		tensors: tinyWeights()
	};
}

/** `count` finished kNN evaluations of the bundle's run, as the exporter lists them. */
export function manyEvaluations(count: number): EvaluationRecord[] {
	const config = evaluateParamsSchema.parse({
		runId: 3,
		dataset: 'structured:position-x',
		protocol: 'knn'
	});
	return Array.from({ length: count }, (_, i) => ({
		id: i + 1,
		groupId: `g${i}`,
		runId: 3,
		role: 'encoder' as const,
		checkpointStep: 8,
		dataset: 'structured:position-x',
		protocol: 'knn' as const,
		layer: 'fc6' as const,
		status: 'completed' as const,
		metrics: null,
		config,
		error: null,
		seconds: 1,
		createdAt: '2025-01-01T00:00:00.000Z',
		finishedAt: '2025-01-01T00:00:01.000Z'
	}));
}

/** Writes a bundle file from `parts` the way `exportRunBundle` lays one out. */
export function writeBundle(file: string, parts: BundleParts): number {
	const bytes = encodeCheckpoint({
		meta: {
			format: bundleFormat,
			version: 1,
			run: parts.run,
			metrics: parts.metrics,
			evaluations: parts.evaluations,
			checkpointStep: parts.checkpointStep,
			checkpointMeta: parts.checkpointMeta,
			dataSha256: parts.dataSha256 ?? dataSectionSha256(parts.tensors),
			probes: []
		},
		tensors: parts.tensors
	});
	fs.writeFileSync(file, bytes);
	return bytes.length;
}
