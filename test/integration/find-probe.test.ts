import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateParamsSchema, type EvaluationRole } from '../../src/core/api/evaluation';
import type { EncoderLayer } from '../../src/core/training/encoder-spec';
import { trainConfigSchema } from '../../src/core/training/config';
import { openStore, type Store } from '../../src/main/store/database';
import { createEvaluation, findProbe, finishEvaluation } from '../../src/main/store/evaluations';
import { createRun, deleteRun } from '../../src/main/store/runs';
import { temporaryFolder } from '../support/paths';

const config = trainConfigSchema.parse({
	source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
	steps: 100
});

describe('findProbe', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	let store: Store;
	beforeEach(() => {
		folder = temporaryFolder();
		store = openStore(folder.path);
	});
	afterEach(() => {
		store.close();
		folder.remove();
	});

	const newRun = () =>
		createRun(store.db, { name: null, config, sourceLabel: 'noise', appVersion: 'test' }, (id) =>
			path.join(folder.path, 'runs', `run-${id}`)
		);

	/** An evaluation row as the service leaves it; `file: false` records a path with no file. */
	function evaluation(options: {
		runId: number;
		role: EvaluationRole;
		step: number | null;
		dataset?: string;
		protocol?: 'linear' | 'knn';
		status?: 'completed' | 'failed';
		layer?: EncoderLayer;
		file?: boolean;
		top1?: number;
	}): number {
		const dataset = options.dataset ?? 'fashion-mnist-mini';
		const protocol = options.protocol ?? 'linear';
		const layer = options.layer ?? 'fc6';
		const created = createEvaluation(store.db, {
			groupId: 'g',
			runId: options.runId,
			role: options.role,
			checkpointStep: options.step,
			dataset,
			protocol,
			layer,
			config: evaluateParamsSchema.parse({ runId: options.runId, dataset, protocol, layer })
		});
		const probePath =
			protocol === 'linear' ? path.join(folder.path, 'probes', `evaluation-${created.id}`) : null;
		if (probePath && options.file !== false) {
			fs.mkdirSync(path.dirname(probePath), { recursive: true });
			fs.writeFileSync(probePath, 'probe');
		}
		finishEvaluation(store.db, created.id, {
			status: options.status ?? 'completed',
			metrics: {
				top1: options.top1 ?? 0.5,
				top5: null,
				knn: null,
				trainImages: 10,
				testImages: 10,
				classes: 10,
				featureDim: 4
			},
			error: null,
			seconds: 1,
			probePath
		});
		return created.id;
	}

	it('finds the newest usable linear probe of exactly the encoder asked for', () => {
		const noise = newRun();
		const other = newRun();
		const query = { runId: noise.id, randomInit: false, checkpointStep: 100 };
		const onMini = { ...query, dataset: 'fashion-mnist-mini' };
		expect(findProbe(store.db, onMini)).toBeNull();

		const first = evaluation({ runId: noise.id, role: 'encoder', step: 100, top1: 0.61 });
		expect(findProbe(store.db, onMini)).toEqual({
			evaluationId: first,
			path: path.join(folder.path, 'probes', `evaluation-${first}`),
			layer: 'fc6',
			accuracy: 0.61
		});
		// Not the encoder asked for, not a probe, not finished, not on this dataset: all ignored.
		evaluation({ runId: noise.id, role: 'encoder', step: 50 });
		evaluation({ runId: other.id, role: 'encoder', step: 100 });
		evaluation({ runId: noise.id, role: 'random-init', step: null });
		evaluation({ runId: noise.id, role: 'encoder', step: 100, protocol: 'knn' });
		evaluation({ runId: noise.id, role: 'encoder', step: 100, status: 'failed' });
		const onShapes = evaluation({
			runId: noise.id,
			role: 'encoder',
			step: 100,
			dataset: 'structured:shapes'
		});
		// Newer, but its file is gone.
		evaluation({ runId: noise.id, role: 'encoder', step: 100, file: false });
		expect(findProbe(store.db, onMini)?.evaluationId).toBe(first);
		expect(findProbe(store.db, { ...query, dataset: 'structured:shapes' })?.evaluationId).toBe(
			onShapes
		);

		// The same encoder measured as the real-data control of another run's evaluation.
		const asControl = evaluation({ runId: noise.id, role: 'real', step: 100, layer: 'conv3' });
		expect(findProbe(store.db, onMini)?.evaluationId).toBe(asControl);
		expect(findProbe(store.db, onMini)?.layer).toBe('conv3');
		// A map at conv5 needs a probe reading conv5 or later: the older fc6 one.
		expect(findProbe(store.db, { ...onMini, camLayer: 'conv5' })?.evaluationId).toBe(first);
		expect(findProbe(store.db, { ...onMini, camLayer: 'conv3' })?.evaluationId).toBe(asControl);
	});

	it('finds the random-init control by run, whatever the step', () => {
		const noise = newRun();
		evaluation({ runId: noise.id, role: 'encoder', step: 100 });
		const control = evaluation({ runId: noise.id, role: 'random-init', step: null });
		const query = { runId: noise.id, randomInit: true, dataset: 'fashion-mnist-mini' };
		expect(findProbe(store.db, { ...query, checkpointStep: null })?.evaluationId).toBe(control);
		expect(findProbe(store.db, { ...query, checkpointStep: 100 })?.evaluationId).toBe(control);
		expect(findProbe(store.db, { ...query, runId: noise.id + 1, checkpointStep: null })).toBeNull();
	});

	it('finds a random-init probe of the same weights under another run (a study’s control)', () => {
		// A study evaluates each seed's random-init control once, with its first source's run: the
		// other sources' runs of that seed start from the very same weights.
		const first = newRun();
		const second = newRun();
		const otherSeed = createRun(
			store.db,
			{ name: null, config: { ...config, seed: 7 }, sourceLabel: 'noise', appVersion: 'test' },
			(id) => path.join(folder.path, 'runs', `run-${id}`)
		);
		const control = evaluation({ runId: first.id, role: 'random-init', step: null });
		const query = { randomInit: true, checkpointStep: null, dataset: 'fashion-mnist-mini' };
		expect(findProbe(store.db, { ...query, runId: second.id })?.evaluationId).toBe(control);
		expect(
			findProbe(store.db, { ...query, runId: second.id, camLayer: 'conv2' })?.evaluationId
		).toBe(control);
		expect(findProbe(store.db, { ...query, runId: otherSeed.id })).toBeNull();
		// The run's own control comes first.
		const own = evaluation({ runId: second.id, role: 'random-init', step: null, layer: 'conv3' });
		evaluation({ runId: first.id, role: 'random-init', step: null });
		expect(findProbe(store.db, { ...query, runId: second.id })?.evaluationId).toBe(own);
		// A trained encoder's probe is never lent: its weights are its own.
		expect(
			findProbe(store.db, { ...query, runId: otherSeed.id, randomInit: false, checkpointStep: 100 })
		).toBeNull();
	});

	it('forgets the probes of a deleted run', () => {
		const noise = newRun();
		evaluation({ runId: noise.id, role: 'encoder', step: 100 });
		deleteRun(store.db, noise.id);
		expect(
			findProbe(store.db, {
				runId: noise.id,
				randomInit: false,
				checkpointStep: 100,
				dataset: 'fashion-mnist-mini'
			})
		).toBeNull();
	});
});
