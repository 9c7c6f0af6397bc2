import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../src/core/api/contract';
import { evaluateParamsSchema, evaluationRecordSchema } from '../../src/core/api/evaluation';
import { explainResultSchema } from '../../src/core/api/explain';
import { trainConfigSchema } from '../../src/core/training/config';
import { createAppContext, type AppContext } from '../../src/main/app-context';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { distDir, temporaryFolder } from '../support/paths';

describe('evaluations (real trainer workers on wasm)', () => {
	const home = temporaryFolder();
	let context: AppContext;
	let runId: number;
	const events: ApiEvent[] = [];
	beforeAll(async () => {
		context = createAppContext({
			dataDir: { path: home.path, source: 'NOISELAB_HOME' },
			launcher: forkNodeWorker,
			workersDir: path.join(distDir, 'workers'),
			// The services under test, not the web host-path policy: any path, as the CLI.
			pathAccess: 'any'
		});
		context.events.subscribe((event) => events.push(event));
		const run = context.training.start({
			name: 'to evaluate',
			config: trainConfigSchema.parse({
				source: {
					kind: 'generator',
					config: { preset: 'dead_leaves-squares', size: 64 },
					count: 64
				},
				model: 'tiny',
				steps: 4,
				batch: 8,
				backend: 'wasm'
			})
		});
		await context.training.idle();
		runId = run.id;
	});
	afterAll(() => {
		context.close();
		home.remove();
	});

	it('lists the bundled, structured and Debian datasets with their availability', async () => {
		const datasets = await context.evaluation.datasets();
		const names = datasets.map((dataset) => dataset.name);
		expect(names).toContain('fashion-mnist-mini');
		expect(names).toContain('structured:count-shapes');
		expect(datasets.find((dataset) => dataset.name === 'fashion-mnist-mini')?.available).toBe(true);
	});

	it('scores a run and its random-init control with kNN on a structured task, into SQLite', async () => {
		const { groupId, evaluations } = context.evaluation.start(
			evaluateParamsSchema.parse({
				runId,
				dataset: 'structured:count-shapes',
				protocol: 'knn',
				knnK: [5, 20],
				maxTrain: 240
			})
		);
		expect(evaluations.map((evaluation) => evaluation.role)).toEqual(['encoder', 'random-init']);
		expect(evaluations[0]?.checkpointStep).toBe(4);
		await context.evaluation.idle();
		const stored = context.evaluation.list(runId).filter((e) => e.groupId === groupId);
		expect(stored).toHaveLength(2);
		for (const evaluation of stored) {
			evaluationRecordSchema.parse(evaluation);
			expect(evaluation.status, evaluation.error ?? '').toBe('completed');
			expect(evaluation.metrics?.classes).toBe(6);
			expect(evaluation.metrics?.trainImages).toBe(240);
			expect(evaluation.metrics?.testImages).toBe(500);
			expect(evaluation.metrics?.featureDim).toBe(1024);
			expect(Object.keys(evaluation.metrics?.knn ?? {})).toEqual(['5', '20']);
			expect(evaluation.metrics?.top1).toBe(evaluation.metrics?.knn?.['5']);
			expect(evaluation.metrics?.top1).toBeGreaterThanOrEqual(0);
			expect(evaluation.metrics?.top1).toBeLessThanOrEqual(1);
		}
		// The trained and the untrained encoder are different encoders.
		expect(stored[0]?.metrics?.knn).not.toEqual(stored[1]?.metrics?.knn);
		expect(
			events.some(
				(event) => event.name === 'evaluations.progress' && event.payload.groupId === groupId
			)
		).toBe(true);
	});

	it('reads features from the cache instead of running the encoder again', async () => {
		const featuresDir = path.join(home.path, 'cache', 'features');
		const files = fs.readdirSync(featuresDir).filter((name) => name.endsWith('.f32'));
		// Encoder and random init, test and training features each.
		expect(files.length).toBeGreaterThanOrEqual(4);
		const first = context.evaluation.list(runId).find((e) => e.role === 'random-init');
		// Tamper with every cached file: if the repeat reads them, its result must change.
		for (const name of files) {
			const file = path.join(featuresDir, name);
			const bytes = fs.readFileSync(file);
			bytes.fill(0, 4);
			fs.writeFileSync(file, bytes);
		}
		const { groupId } = context.evaluation.start(
			evaluateParamsSchema.parse({
				runId,
				dataset: 'structured:count-shapes',
				protocol: 'knn',
				knnK: [5, 20],
				maxTrain: 240
			})
		);
		await context.evaluation.idle();
		const repeated = context.evaluation.list(runId).filter((e) => e.groupId === groupId);
		expect(repeated.find((e) => e.role === 'random-init')?.status).toBe('completed');
		expect(repeated.find((e) => e.role === 'random-init')?.metrics?.knn).not.toEqual(
			first?.metrics?.knn
		);
		fs.rmSync(featuresDir, { recursive: true, force: true });
	});

	it('trains a linear probe on the bundled Fashion-MNIST subset well above chance', async () => {
		const { groupId } = context.evaluation.start(
			evaluateParamsSchema.parse({
				runId,
				dataset: 'fashion-mnist-mini',
				protocol: 'linear',
				randomInit: false,
				epochs: 10,
				views: 1,
				maxTrain: 500
			})
		);
		await context.evaluation.idle();
		const [evaluation] = context.evaluation.list(runId).filter((e) => e.groupId === groupId);
		expect(evaluation?.status, evaluation?.error ?? '').toBe('completed');
		expect(evaluation?.metrics?.testImages).toBe(1000);
		// Ten classes: chance is 10%; even barely trained conv features separate clothing well.
		expect(evaluation?.metrics?.top1).toBeGreaterThan(0.4);
		expect(evaluation?.metrics?.top5).toBeNull();
	});

	it('refuses a run without a checkpoint and an unknown dataset, clearly', async () => {
		expect(() =>
			context.evaluation.start(
				evaluateParamsSchema.parse({ runId: 9999, dataset: 'fashion-mnist-mini' })
			)
		).toThrow(/no run 9999/);
		const { groupId } = context.evaluation.start(
			evaluateParamsSchema.parse({ runId, dataset: 'structured:nonsense', randomInit: false })
		);
		await context.evaluation.idle();
		const [failed] = context.evaluation.list(runId).filter((e) => e.groupId === groupId);
		expect(failed?.status).toBe('failed');
		expect(failed?.error).toMatch(/no structured task "nonsense"/);
	});

	it('computes Grad-CAM maps of a run and its random init on a dataset image through the API', async () => {
		const result = await context.dispatch('explain.compute', {
			encoders: [{ runId }, { runId, randomInit: true }],
			dataset: 'structured:position-x',
			index: 1,
			method: 'gradcam++'
		});
		expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
		const value = explainResultSchema.parse(result.ok ? result.value : null);
		expect(value.rgb.length).toBe(value.size * value.size * 3);
		expect(value.label).toMatch(/left|right|centre/);
		expect(value.encoders.map((encoder) => encoder.randomInit)).toEqual([false, true]);
		for (const encoder of value.encoders) expect(encoder.map.length).toBe(value.size * value.size);
		expect(value.encoders[0]?.label).toMatch(/@ step 4$/);
		const missing = await context.dispatch('explain.compute', {
			encoders: [{ runId }],
			dataset: 'structured:position-x',
			index: 100_000
		});
		expect(missing.ok).toBe(false);
		expect(missing.ok ? '' : missing.error.message).toMatch(/past the end/);
	});
});
