import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateParamsSchema, type EvaluationRecord } from '../../src/core/api/evaluation';
import { buildEncoder, presetRecipe } from '../../src/core/encoders/build';
import { extractFeatures } from '../../src/core/evaluation/features';
import { predictProbe, topKAccuracy } from '../../src/core/evaluation/linear-probe';
import { standardizeInPlace } from '../../src/core/evaluation/standardize';
import { trainConfigSchema } from '../../src/core/training/config';
import { createAppContext, type AppContext } from '../../src/main/app-context';
import { activateBackend } from '../../src/main/compute/activate-backend';
import { datasetSeed, openEvalDataset } from '../../src/main/evaluation/evaluate-job';
import { readProbeFile, readProbeForCam } from '../../src/main/evaluation/probe-files';
import { readCheckpoint } from '../../src/main/training/checkpoint-files';
import { findProbe } from '../../src/main/store/evaluations';
import { getRun, listCheckpoints } from '../../src/main/store/runs';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { distDir, temporaryFolder } from '../support/paths';
import { tinyGeneratorSource, tinyRunSettings } from '../support/train-runs';

const dataset = 'fashion-mnist-mini';

describe('linear probes kept by evaluations (real trainer workers on wasm)', () => {
	const home = temporaryFolder();
	let context: AppContext;
	let runId: number;
	let evaluations: EvaluationRecord[];
	const db = () => {
		if (!context.store.ok) throw new Error(context.store.error.message);
		return context.store.value.db;
	};

	beforeAll(async () => {
		context = createAppContext({
			dataDir: { path: home.path, source: 'NOISELAB_HOME' },
			launcher: forkNodeWorker,
			workersDir: path.join(distDir, 'workers'),
			// The services under test, not the web host-path policy: any path, as the CLI.
			pathAccess: 'any'
		});
		const settings = await context.dispatch('settings.update', { backend: 'wasm' });
		expect(settings.ok).toBe(true);
		const run = context.training.start({
			name: 'probed',
			config: trainConfigSchema.parse({
				source: tinyGeneratorSource,
				...tinyRunSettings,
				steps: 4
			})
		});
		await context.training.idle();
		runId = run.id;
		const started = context.evaluation.start(
			evaluateParamsSchema.parse({
				runId,
				dataset,
				protocol: 'linear',
				layer: 'fc6',
				epochs: 10,
				views: 1,
				maxTrain: 500
			})
		);
		await context.evaluation.idle();
		evaluations = context.evaluation
			.list(runId)
			.filter((e) => e.groupId === started.groupId)
			.sort((a, b) => a.id - b.id);
		await activateBackend('wasm');
	}, 120_000);

	afterAll(() => {
		context.close();
		home.remove();
	});

	it('writes each linear probe into the run folder and finds it by encoder', () => {
		expect(evaluations.map((e) => [e.role, e.status, e.error])).toEqual([
			['encoder', 'completed', null],
			['random-init', 'completed', null]
		]);
		const [trained, control] = evaluations as [EvaluationRecord, EvaluationRecord];
		const found = findProbe(db(), {
			runId,
			randomInit: false,
			checkpointStep: trained.checkpointStep,
			dataset
		});
		expect(found).toEqual({
			evaluationId: trained.id,
			path: path.join(
				home.path,
				'runs',
				`run-${runId}`,
				'probes',
				`evaluation-${trained.id}.nlprobe`
			),
			layer: 'fc6',
			accuracy: trained.metrics?.top1
		});
		const foundControl = findProbe(db(), {
			runId,
			randomInit: true,
			checkpointStep: null,
			dataset
		});
		expect(foundControl?.evaluationId).toBe(control.id);
		expect(findProbe(db(), { runId, randomInit: false, checkpointStep: 3, dataset })).toBeNull();
		expect(
			findProbe(db(), {
				runId,
				randomInit: false,
				checkpointStep: 4,
				dataset: 'structured:count-shapes'
			})
		).toBeNull();
	});

	it('keeps a probe whose predictions reproduce the stored test accuracy', async () => {
		const data = await openEvalDataset(dataset, { seed: datasetSeed, cacheDir: null });
		const run = getRun(db(), runId);
		const checkpoint = listCheckpoints(db(), runId).at(-1);
		if (!run || !checkpoint) throw new Error('no run or checkpoint');
		const before = tf.memory().numTensors;
		for (const evaluation of evaluations) {
			const location = findProbe(db(), {
				runId,
				randomInit: evaluation.role === 'random-init',
				checkpointStep: evaluation.checkpointStep,
				dataset
			});
			if (!location) throw new Error(`no probe for ${evaluation.role}`);
			const stored = readProbeFile(location.path);
			expect(stored.layer).toBe('fc6');
			expect(stored.dataset).toBe(dataset);
			expect(stored.classes).toEqual(data.classes);
			expect(stored.accuracy).toBe(evaluation.metrics?.top1);
			expect(stored.dim).toBe(evaluation.metrics?.featureDim);
			expect(stored.standardization).not.toBeNull();

			const encoder = buildEncoder(
				presetRecipe(run.config.model, run.config.seed),
				evaluation.role === 'random-init' ? null : readCheckpoint(checkpoint.path).tensors
			);
			const { features } = await extractFeatures(encoder, data.test.images, {
				layer: 'fc6',
				view: { kind: 'centre' }
			});
			encoder.dispose();
			const classes = data.classes.length;
			// As the evaluation scored it: standardised features, the probe as trained.
			const standardized = features.slice();
			if (stored.standardization)
				standardizeInPlace(standardized, stored.dim, stored.standardization);
			const asTrained = await predictProbe(
				{ dim: stored.dim, classes, weight: stored.weight, bias: stored.bias, lossHistory: [] },
				standardized
			);
			expect(topKAccuracy(asTrained.logits, data.test.labels, classes, 1)).toBe(
				evaluation.metrics?.top1
			);
			// As Grad-CAM reads it: raw features, the standardisation folded into the weights.
			const folded = await predictProbe(readProbeForCam(location.path).probe, features);
			const agreement =
				folded.predicted.filter((label, i) => label === asTrained.predicted[i]).length /
				folded.predicted.length;
			expect(agreement).toBeGreaterThanOrEqual(0.99);
		}
		expect(tf.memory().numTensors).toBe(before);
		// Better than chance (1/10), or the reproduction above would prove little.
		expect(evaluations[0]?.metrics?.top1).toBeGreaterThan(0.3);
	});

	it('keeps no probe for kNN, and the probes go with their run', async () => {
		const { groupId } = context.evaluation.start(
			evaluateParamsSchema.parse({
				runId,
				dataset,
				protocol: 'knn',
				layer: 'conv5',
				randomInit: false,
				maxTrain: 60
			})
		);
		await context.evaluation.idle();
		const [knn] = context.evaluation.list(runId).filter((e) => e.groupId === groupId);
		expect(knn?.status).toBe('completed');
		const row = db().prepare('SELECT probe_path FROM evaluations WHERE id = ?').get(knn?.id) as {
			probe_path: string | null;
		};
		expect(row.probe_path).toBeNull();
		const folder = path.join(home.path, 'runs', `run-${runId}`, 'probes');
		expect(fs.readdirSync(folder)).toHaveLength(2);
		expect(context.training.delete(runId)).toEqual({ deleted: true });
		expect(fs.existsSync(folder)).toBe(false);
		expect(findProbe(db(), { runId, randomInit: true, checkpointStep: null, dataset })).toBeNull();
	});
});
