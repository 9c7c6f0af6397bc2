import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiMethod, ApiParams, ApiResult } from '../../src/core/api/contract';
import { evaluateParamsSchema } from '../../src/core/api/evaluation';
import { trainConfigSchema } from '../../src/core/training/config';
import { createAppContext, type AppContext } from '../../src/main/app-context';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { distDir, temporaryFolder } from '../support/paths';

/**
 * Explain through the API, on real explainer and evaluator workers (wasm): a tiny run with
 * linear probes kept for it and its random init on the bundled Fashion-MNIST subset.
 */
describe('explain (real workers on wasm)', () => {
	const home = temporaryFolder();
	const dataset = 'fashion-mnist-mini';
	let context: AppContext;
	let runId: number;
	const events: ApiEvent[] = [];

	async function call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
		const result = await context.dispatch(method, params);
		if (!result.ok) throw new Error(`${method}: ${result.error.code} ${result.error.message}`);
		return result.value as ApiResult<M>;
	}

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
			name: 'explained',
			config: trainConfigSchema.parse({
				source: {
					kind: 'generator',
					config: { preset: 'dead_leaves-squares', size: 64 },
					count: 64
				},
				model: 'tiny',
				steps: 6,
				batch: 8,
				backend: 'wasm',
				optimizer: 'adam'
			})
		});
		await context.training.idle();
		runId = run.id;
		context.evaluation.start(
			evaluateParamsSchema.parse({ runId, dataset, epochs: 3, views: 1, maxTrain: 300 })
		);
		await context.evaluation.idle();
		const evaluations = context.evaluation.list(runId);
		expect(evaluations.map((evaluation) => evaluation.status)).toEqual(['completed', 'completed']);
	}, 240_000);

	afterAll(() => {
		context.close();
		home.remove();
	});

	const pair = () => [{ runId }, { runId, randomInit: true }];

	it('explains the probe’s predicted class of each encoder, with its confidence and the checks', async () => {
		const result = await call('explain.compute', { encoders: pair(), dataset, index: 3 });
		expect(result.classes).toHaveLength(10);
		expect(result.label).toBe(result.classes[result.labelIndex ?? -1]);
		for (const encoder of result.encoders) {
			expect(encoder.probe?.layer).toBe('fc6');
			expect(encoder.target.kind).toBe('class');
			expect(encoder.target.classIndex).toBe(encoder.prediction?.classIndex);
			expect(encoder.prediction?.confidence).toBeGreaterThan(0.1);
			expect(encoder.prediction?.top).toHaveLength(3);
			expect(encoder.map.length).toBe(result.size * result.size);
			expect(encoder.cached).toBe(false);
		}
		// The randomisation check is made for the trained encoder only.
		expect(result.encoders[0]?.randomisation).toEqual(expect.any(Number));
		expect(result.encoders[1]?.randomisation).toBeNull();
		expect(result.encoders[0]?.agreementWithFirst).toBeNull();
		expect(result.encoders[1]?.agreementWithFirst).toBe(result.agreement);

		const again = await call('explain.compute', { encoders: pair(), dataset, index: 3 });
		expect(again.encoders.map((encoder) => encoder.cached)).toEqual([true, true]);
		expect(again.encoders[0]?.map).toEqual(result.encoders[0]?.map);
	});

	it('explains any class through the probe, and the same image differently for another class', async () => {
		const maps = [];
		for (const classIndex of [0, 7]) {
			const result = await call('explain.compute', {
				encoders: [{ runId }],
				dataset,
				index: 5,
				target: { kind: 'class', classIndex }
			});
			expect(result.encoders[0]?.target).toMatchObject({ kind: 'class', classIndex });
			maps.push(result.encoders[0]?.map);
		}
		expect(maps[0]).not.toEqual(maps[1]);
	});

	it('falls back to the embedding without a probe and says what a class target needs', async () => {
		const structured = 'structured:position-x';
		const result = await call('explain.compute', {
			encoders: [{ runId }],
			dataset: structured,
			index: 1
		});
		expect(result.encoders[0]?.probe).toBeNull();
		expect(result.encoders[0]?.prediction).toBeNull();
		expect(result.encoders[0]?.target.kind).toBe('embedding');
		const refused = await context.dispatch('explain.compute', {
			encoders: [{ runId }],
			dataset: structured,
			index: 1,
			target: { kind: 'true' }
		});
		expect(refused.ok).toBe(false);
		expect(refused.ok ? '' : refused.error.message).toMatch(/linear probe/i);
	});

	it('explains an uploaded image, which has no label', async () => {
		const png = await sharp({
			create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 30, b: 60 } }
		})
			.composite([
				{
					input: { create: { width: 10, height: 10, channels: 3, background: '#ffffff' } },
					left: 5,
					top: 5
				}
			])
			.png()
			.toBuffer();
		const result = await call('explain.compute', {
			encoders: [{ runId }],
			dataset,
			upload: { name: 'mine.png', bytes: new Uint8Array(png) },
			target: { kind: 'class-mean', classIndex: 2 }
		});
		expect(result.labelIndex).toBeNull();
		expect(result.encoders[0]?.target).toMatchObject({ kind: 'class-mean', classIndex: 2 });
		const broken = await context.dispatch('explain.compute', {
			encoders: [{ runId }],
			dataset,
			upload: { name: 'notes.txt', bytes: new TextEncoder().encode('not an image') }
		});
		expect(broken.ok ? '' : broken.error.message).toMatch(/Could not read "notes.txt" as an image/);
	});

	it('pages through the test images of one class', async () => {
		const all = await call('explain.images', { dataset, limit: 5 });
		expect(all.items.map((item) => item.index)).toEqual([0, 1, 2, 3, 4]);
		const sneakers = await call('explain.images', { dataset, classIndex: 7, offset: 2, limit: 3 });
		expect(sneakers.total).toBeLessThan(all.total);
		expect(sneakers.items).toHaveLength(3);
		for (const item of sneakers.items) {
			expect(item.labelIndex).toBe(7);
			expect(item.rgb.length).toBe(sneakers.size * sneakers.size * 3);
		}
	});

	it('shows first-layer filters, a channel’s activation and nearest neighbours', async () => {
		const filters = await call('explain.filters', { encoders: pair() });
		for (const encoder of filters.encoders) {
			expect(encoder.rgb.length).toBe(encoder.count * encoder.kernel ** 2 * 3);
		}
		expect(filters.encoders[0]?.rgb).not.toEqual(filters.encoders[1]?.rgb);

		const activations = await call('explain.activations', {
			encoders: pair(),
			dataset,
			index: 0,
			layer: 'conv2'
		});
		for (const encoder of activations.encoders) {
			const strongest = encoder.strengths.indexOf(Math.max(...encoder.strengths));
			expect(encoder.channel).toBe(strongest);
			expect(encoder.strengths).toHaveLength(encoder.channels);
		}

		events.length = 0;
		const neighbours = await call('explain.neighbours', {
			encoders: pair(),
			dataset,
			index: 0,
			k: 5,
			maxGallery: 200
		});
		expect(neighbours.galleryCount).toBe(200);
		for (const encoder of neighbours.encoders) {
			const similarities = encoder.neighbours.map((neighbour) => neighbour.similarity);
			expect(similarities).toEqual([...similarities].sort((a, b) => b - a));
			expect(encoder.neighbours).toHaveLength(5);
			expect(encoder.sameClass).toBeGreaterThanOrEqual(0);
		}
		expect(events.some((event) => event.name === 'explain.progress')).toBe(true);
	});

	it('maps a batch, averages the agreement per class, and can be cancelled', async () => {
		events.length = 0;
		const batch = await call('explain.batch', {
			encoders: pair(),
			dataset,
			count: 6,
			target: 'embedding'
		});
		expect(batch.items).toHaveLength(6);
		expect(new Set(batch.items.map((item) => item.labelIndex)).size).toBe(6);
		expect(batch.perClass.reduce((sum, entry) => sum + entry.count, 0)).toBe(6);
		for (const item of batch.items) expect(item.maps).toHaveLength(2);
		const progress = events.filter((event) => event.name === 'explain.progress');
		expect(progress.length).toBeGreaterThanOrEqual(6);
		// Batch maps skip the deletion/insertion curves: the single view makes the map again with
		// them, then serves it from the cache.
		const single = {
			encoders: pair(),
			dataset,
			index: batch.items[0]?.index ?? 0,
			target: { kind: 'embedding' as const },
			randomisationCheck: false
		};
		const first = await call('explain.compute', single);
		expect(first.encoders.map((encoder) => encoder.cached)).toEqual([false, false]);
		for (const encoder of first.encoders) expect(Number.isFinite(encoder.deletion)).toBe(true);
		const second = await call('explain.compute', single);
		expect(second.encoders.map((encoder) => encoder.cached)).toEqual([true, true]);

		const cancelled = context.dispatch('explain.batch', {
			encoders: pair(),
			dataset,
			count: 200,
			target: 'embedding',
			layer: 'conv3'
		});
		await new Promise<void>((resolve) => {
			const stop = context.events.subscribe((event) => {
				if (event.name === 'explain.progress') {
					stop();
					resolve();
				}
			});
		});
		expect(await call('explain.cancel', {})).toEqual({ cancelled: true });
		const outcome = await cancelled;
		expect(outcome.ok ? 'finished' : outcome.error.code).toBe('CANCELLED');
	});
});
