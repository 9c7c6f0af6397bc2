import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiMethod, ApiParams, ApiResult } from '../../src/core/api/contract';
import type { StudySpecInput } from '../../src/core/api/studies';
import { createAppContext, type AppContext } from '../../src/main/app-context';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { distDir, temporaryFolder } from '../support/paths';

/** Two streamed sources and one cached, two seeds, two evaluation targets. */
const spec: StudySpecInput = {
	name: 'order',
	sources: [
		{
			kind: 'generator',
			key: 'mean',
			label: 'mean colour',
			config: { preset: 'control-mean_colour' }
		},
		{
			kind: 'generator',
			key: 'squares',
			label: 'squares',
			config: { preset: 'dead_leaves-squares' }
		},
		{
			kind: 'generator',
			key: 'spectrum',
			label: 'spectrum',
			config: { preset: 'stat-spectrum' },
			data: 'cache'
		}
	],
	budget: {
		name: 'tiny',
		model: 'tiny',
		optimizer: 'adam',
		steps: 4,
		batch: 8,
		images: 16,
		checkpointEvery: 4
	},
	repeats: 2,
	evaluation: {
		targets: [{ dataset: 'fashion-mnist-mini' }, { dataset: 'structured:count-shapes' }],
		epochs: 1,
		views: 1,
		maxTrain: 100
	}
};

/**
 * The order a study's work is queued in (#14 follow-up): each training is followed at once by
 * its evaluations, so a source's results arrive as soon as its run is trained instead of after
 * every other source's training of that seed. The queue runs its items in this order (one
 * lane), an item only once what it depends on is done.
 */
describe('a study’s queue order', () => {
	const home = temporaryFolder();
	let context: AppContext;

	async function call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
		const result = await context.dispatch(method, params);
		if (!result.ok) throw new Error(`${method}: ${result.error.code} ${result.error.message}`);
		return result.value as ApiResult<M>;
	}

	beforeAll(() => {
		// The queue does not work in this process: the test reads the order it would run.
		context = createAppContext({
			dataDir: { path: home.path, source: 'NOISELAB_HOME' },
			launcher: forkNodeWorker,
			workersDir: path.join(distDir, 'workers'),
			pathAccess: 'any'
		});
	});
	afterAll(() => {
		context.close();
		home.remove();
	});

	it('puts each training’s evaluations right after it', { timeout: 120_000 }, async () => {
		const estimate = await call('studies.estimate', { spec });
		const study = await call('studies.create', { spec, estimate });
		const queued = (await call('queue.state', {})).items
			.filter((item) => item.studyId === study.study.id)
			.sort((a, b) => a.position - b.position);
		// Per seed: each source's training, then its evaluations on both targets (the first also
		// measures the seed's random init); the cached source's dataset is generated once.
		const evaluations = (source: string, random = '') =>
			['fashion-mnist-mini', 'structured:count-shapes'].map(
				(dataset) => `Evaluate ${source} on ${dataset}${random}`
			);
		const seed = (generate: string[]) => [
			'Train',
			...evaluations('mean colour', ' (+ random init)'),
			'Train',
			...evaluations('squares'),
			...generate,
			'Train',
			...evaluations('spectrum')
		];
		expect(
			queued.map((item) => item.label.replace(/ · seed \d+/, '').replace(/^Train .*/, 'Train'))
		).toEqual([...seed(['Generate spectrum (16 images)']), ...seed([])]);
		// Each evaluation waits for the training just before it, and the cached source's training
		// for its dataset.
		for (const [index, item] of queued.entries()) {
			if (item.kind === 'evaluate') {
				const training = queued.slice(0, index).findLast((other) => other.kind === 'train');
				expect(item.dependsOn).toBe(training?.id);
				expect(item.runId).toBe(training?.runId);
			}
		}
		const generate = queued.find((item) => item.kind === 'generate');
		expect(queued.filter((item) => item.dependsOn === generate?.id)).toHaveLength(2);
	});
});
