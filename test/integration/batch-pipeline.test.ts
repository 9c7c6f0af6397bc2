import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { augmentConfigSchema, type TrainSource } from '../../src/core/training/config';
import { indicesForStep } from '../../src/core/training/data-order';
import { imageAt } from '../../src/core/evaluation/dataset';
import { loadDataset } from '../../src/main/evaluation/loaders';
import { BatchPipeline, type TrainBatch } from '../../src/main/training/batch-pipeline';
import { openDataSource } from '../../src/main/training/data-source';
import { distDir, fixtureWorkersDir, temporaryFolder } from '../support/paths';

const threadFile = path.join(distDir, 'workers', 'train-data-thread.cjs');
const augment = augmentConfigSchema.parse({});
const generatorSource: TrainSource = {
	kind: 'generator',
	config: { preset: 'dead_leaves-squares', params: {}, size: 64 },
	seed: 3,
	count: 40
};

/** Opened pipelines, closed after each test even when it fails. */
const opened: BatchPipeline[] = [];
async function open(
	options: Partial<Parameters<typeof BatchPipeline.open>[0]> & { threads: number }
): Promise<BatchPipeline> {
	const pipeline = await BatchPipeline.open({
		source: generatorSource,
		augment,
		inputSize: 24,
		batch: 16,
		seed: 11,
		threadFile,
		...options
	});
	opened.push(pipeline);
	return pipeline;
}

async function batches(pipeline: BatchPipeline, steps: number[]): Promise<TrainBatch[]> {
	const out: TrainBatch[] = [];
	for (const step of steps) out.push(await pipeline.next(step));
	return out;
}

function bytesOf(batch: TrainBatch): Buffer {
	return Buffer.from(batch.views.buffer, batch.views.byteOffset, batch.views.byteLength);
}

async function rejection(promise: Promise<unknown>): Promise<AppFailure> {
	const error = await promise.then(
		() => null,
		(thrown: unknown) => thrown
	);
	expect(error).toBeInstanceOf(AppFailure);
	return error as AppFailure;
}

afterEach(async () => {
	await Promise.all(opened.splice(0).map((pipeline) => pipeline.close()));
});

describe('the training batch pipeline', () => {
	it('gives byte-identical batches inline and with 1 or 2 threads, in the data order', async () => {
		// 16 pairs over 40 images: step 2 straddles the first epoch boundary.
		const steps = [0, 1, 2, 3];
		const runs = await Promise.all(
			[0, 1, 2].map(async (threads) => batches(await open({ threads }), steps))
		);
		const [inline, one, two] = runs as [TrainBatch[], TrainBatch[], TrainBatch[]];
		for (const [k, step] of steps.entries()) {
			const reference = inline[k] as TrainBatch;
			expect(reference.step).toBe(step);
			expect(reference.views).toHaveLength(2 * 16 * 24 * 24 * 3);
			expect(Array.from(reference.indices)).toEqual(Array.from(indicesForStep(step, 16, 40, 11)));
			expect(reference.skipped).toBe(0);
			for (const other of [one[k], two[k]] as TrainBatch[]) {
				expect(bytesOf(other).equals(bytesOf(reference))).toBe(true);
				expect(Array.from(other.indices)).toEqual(Array.from(reference.indices));
			}
		}
		// The two views of a pair differ (independent augmentations), and steps differ.
		const half = (inline[0] as TrainBatch).views.length / 2;
		const first = (inline[0] as TrainBatch).views;
		expect(bytesOf({ ...(inline[0] as TrainBatch), views: first.subarray(0, half) })).not.toEqual(
			bytesOf({ ...(inline[0] as TrainBatch), views: first.subarray(half) })
		);
		expect(bytesOf(inline[0] as TrainBatch).equals(bytesOf(inline[1] as TrainBatch))).toBe(false);
	});

	it('reproduces a batch when a run resumes at a later step', async () => {
		const straight = await batches(await open({ threads: 1 }), [0, 1, 2, 3, 4]);
		const resumed = await batches(await open({ threads: 2 }), [3, 4]);
		expect(bytesOf(resumed[0] as TrainBatch).equals(bytesOf(straight[3] as TrainBatch))).toBe(true);
		expect(bytesOf(resumed[1] as TrainBatch).equals(bytesOf(straight[4] as TrainBatch))).toBe(true);
	});

	it('streams a generator preset into finite, normalised views of the model input size', async () => {
		const pipeline = await open({ threads: 1, inputSize: 32, batch: 8 });
		expect(pipeline.count).toBe(40);
		expect(pipeline.label).toBe('dead_leaves-squares · virtual · 40 images');
		const batch = await pipeline.next(0);
		expect(batch.views).toHaveLength(2 * 8 * 32 * 32 * 3);
		let sum = 0;
		let squares = 0;
		for (const value of batch.views) {
			expect(Number.isFinite(value)).toBe(true);
			sum += value;
			squares += value * value;
		}
		const mean = sum / batch.views.length;
		const spread = Math.sqrt(squares / batch.views.length - mean * mean);
		// Normalised with the STL-10 statistics: centred near 0 with a spread of order 1.
		expect(Math.abs(mean)).toBeLessThan(1.5);
		expect(spread).toBeGreaterThan(0.2);
		expect(spread).toBeLessThan(3);
	});

	it('terminates its threads on close and refuses further batches', async () => {
		// The process's OS threads, where Linux shows them: each data thread is one.
		const osThreads = () =>
			fs.existsSync('/proc/self/task') ? fs.readdirSync('/proc/self/task').length : null;
		const before = osThreads();
		const pipeline = await open({ threads: 2 });
		await pipeline.next(0);
		expect(pipeline.liveThreads).toBe(2);
		if (before !== null) expect(osThreads()).toBe(before + 2);
		await pipeline.close();
		expect(pipeline.liveThreads).toBe(0);
		expect(osThreads()).toBe(before);
		expect((await rejection(pipeline.next(1))).code).toBe('CANCELLED');
	});

	it('rejects next() with WORKER_CRASHED when a thread dies, instead of hanging', async () => {
		const folder = temporaryFolder();
		try {
			// A thread that starts normally and then crashes on its first job.
			const crashing = path.join(folder.path, 'crashing-thread.cjs');
			fs.writeFileSync(
				crashing,
				`const { parentPort } = require('node:worker_threads');
parentPort.on('message', (request) => {
	if (request.kind === 'init') parentPort.postMessage({ kind: 'ready' });
	else throw new Error('simulated crash in slot rendering');
});`
			);
			const pipeline = await open({ threads: 2, threadFile: crashing });
			const failure = await rejection(pipeline.next(0));
			expect(failure.code).toBe('WORKER_CRASHED');
			expect(failure.message).toContain('simulated crash in slot rendering');
			// Later steps fail the same way at once.
			expect((await rejection(pipeline.next(1))).code).toBe('WORKER_CRASHED');

			const missing = await rejection(
				open({ threads: 1, threadFile: path.join(folder.path, 'missing.cjs') })
			);
			expect(missing.code).toBe('WORKER_CRASHED');
			expect(missing.message).toMatch(/could not start/);
		} finally {
			folder.remove();
		}
	});
});

describe('a folder source', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	let root: string;

	beforeAll(async () => {
		folder = temporaryFolder();
		root = path.join(folder.path, 'photos');
		fs.mkdirSync(path.join(root, 'b'), { recursive: true });
		fs.mkdirSync(path.join(root, 'a'));
		const solid = (width: number, height: number, channels: 1 | 3 | 4, value: number) =>
			sharp(Buffer.alloc(width * height * channels, value), { raw: { width, height, channels } });
		await solid(80, 40, 3, 200)
			.png()
			.toFile(path.join(root, 'a', 'wide.png'));
		await solid(40, 40, 1, 90)
			.png()
			.toFile(path.join(root, 'a', 'grey.PNG'));
		await solid(40, 50, 4, 30)
			.png()
			.toFile(path.join(root, 'b', 'alpha.png'));
		await solid(300, 600, 3, 120)
			.jpeg()
			.toFile(path.join(root, 'b', 'big.jpg'));
		await solid(48, 48, 3, 60).webp().toFile(path.join(root, 'c.webp'));
		const jpeg = await solid(64, 64, 3, 10).jpeg().toBuffer();
		// Corrupt: random bytes under an image name, and a JPEG cut in half.
		fs.writeFileSync(path.join(root, 'a', 'corrupt.png'), Buffer.from('not an image at all'));
		fs.writeFileSync(path.join(root, 'b', 'truncated.jpg'), jpeg.subarray(0, jpeg.length / 2));
		fs.writeFileSync(path.join(root, 'notes.txt'), 'ignored');
		fs.writeFileSync(path.join(root, '.hidden.png'), 'ignored');
	});
	afterAll(() => folder.remove());

	it('lists image files in a stable order and decodes them to RGB, scaled down only', async () => {
		const source = await openDataSource({ kind: 'folder', path: root, maxSide: 64 });
		expect(source.count).toBe(7);
		expect(source.label).toBe('photos · folder · 7 images');
		const files = ['a/corrupt.png', 'a/grey.PNG', 'a/wide.png', 'b/alpha.png', 'b/big.jpg'];
		const shapes = await Promise.all(
			[1, 2, 3, 4, 6].map(async (index) => {
				const image = await source.load(index);
				expect(image.data).toHaveLength(image.width * image.height * 3);
				return [image.width, image.height, image.data[0], image.data[1], image.data[2]];
			})
		);
		expect(files[1]).toBe('a/grey.PNG');
		expect(shapes).toEqual([
			[40, 40, 90, 90, 90], // grey expanded to RGB
			[80, 40, 200, 200, 200], // shorter side 40 ≤ 64: kept
			[40, 50, 30, 30, 30], // alpha dropped
			[64, 128, expect.any(Number), expect.any(Number), expect.any(Number)], // 300×600 → 64×128
			[48, 48, expect.any(Number), expect.any(Number), expect.any(Number)]
		]);
		await expect(source.load(0)).rejects.toThrow(/^a\/corrupt\.png: /);
		await expect(source.load(5)).rejects.toThrow(/^b\/truncated\.jpg: /);
	});

	it('skips and counts unreadable images, keeps batches full, and agrees across threads', async () => {
		const source: TrainSource = { kind: 'folder', path: root, maxSide: 64 };
		const corrupt = new Set([0, 5]);
		const runs = await Promise.all(
			[0, 2].map(async (threads) =>
				batches(await open({ threads, source, batch: 7, inputSize: 16 }), [0, 1, 2])
			)
		);
		const [inline, threaded] = runs as [TrainBatch[], TrainBatch[]];
		for (const [step, batch] of inline.entries()) {
			// Batch = dataset size: each step is one epoch, so both corrupt images are planned once.
			expect(batch.skipped).toBe(2);
			expect(batch.views).toHaveLength(2 * 7 * 16 * 16 * 3);
			expect(batch.views.every(Number.isFinite)).toBe(true);
			expect(Array.from(batch.indices).filter((index) => corrupt.has(index))).toEqual([]);
			const planned = Array.from(indicesForStep(step, 7, 7, 11));
			for (const [slot, index] of batch.indices.entries()) {
				if (!corrupt.has(planned[slot] as number)) expect(index).toBe(planned[slot]);
			}
			const other = threaded[step] as TrainBatch;
			expect(bytesOf(other).equals(bytesOf(batch))).toBe(true);
			expect(other.skipped).toBe(2);
		}
		// Reported once, with the file and the reason, for the UI.
		for (const run of [inline, threaded]) {
			expect(run[0]?.skippedExamples).toHaveLength(2);
			expect(run[0]?.skippedExamples.join('\n')).toMatch(/a\/corrupt\.png: .+/);
			expect(run[0]?.skippedExamples.join('\n')).toMatch(/b\/truncated\.jpg: .+/);
			expect(run[1]?.skippedExamples).toEqual([]);
		}
	});

	it('reports each unreadable image with the first batch that skipped it, even when later batches finish first', async () => {
		const source: TrainSource = { kind: 'folder', path: root, maxSide: 64 };
		const pipeline = await open({
			threads: 2,
			source,
			batch: 7,
			inputSize: 16,
			threadFile: path.join(fixtureWorkersDir, 'late-first-step-data-thread.cjs')
		});
		const [first, second] = await batches(pipeline, [0, 1]);
		expect(first?.skipped).toBe(2);
		expect(first?.skippedExamples.join('\n')).toMatch(/a\/corrupt\.png: .+/);
		expect(first?.skippedExamples.join('\n')).toMatch(/b\/truncated\.jpg: .+/);
		expect(second?.skipped).toBe(2);
		expect(second?.skippedExamples).toEqual([]);
	});

	it('fails clearly when the folder is missing, empty, has no images or none readable', async () => {
		const missing = await rejection(
			open({ threads: 0, source: { kind: 'folder', path: path.join(root, 'nope'), maxSide: 64 } })
		);
		expect(missing.code).toBe('INVALID_REQUEST');
		expect(missing.message).toContain(path.join(root, 'nope'));
		expect(missing.message).toMatch(/does not exist/);

		const empty = path.join(folder.path, 'empty');
		fs.mkdirSync(empty);
		const emptyFailure = await rejection(
			openDataSource({ kind: 'folder', path: empty, maxSide: 64 })
		);
		expect(emptyFailure.message).toBe(
			`No images in ${empty}: it is empty. Supported: .jpg .jpeg .png .webp .gif .bmp .tif .tiff.`
		);

		const texts = path.join(folder.path, 'texts');
		fs.mkdirSync(texts);
		fs.writeFileSync(path.join(texts, 'a.txt'), '');
		fs.writeFileSync(path.join(texts, 'b.txt'), '');
		fs.writeFileSync(path.join(texts, 'manifest.json'), '{}');
		const textFailure = await rejection(
			openDataSource({ kind: 'folder', path: texts, maxSide: 64 })
		);
		expect(textFailure.message).toMatch(/No images in .*texts: it holds 2 \.txt, 1 \.json file/);

		const broken = path.join(folder.path, 'broken');
		fs.mkdirSync(broken);
		for (const name of ['x.png', 'y.jpg', 'z.gif'])
			fs.writeFileSync(path.join(broken, name), 'junk');
		const pipeline = await open({
			threads: 1,
			batch: 4,
			source: { kind: 'folder', path: broken, maxSide: 64 }
		});
		const unreadable = await rejection(pipeline.next(0));
		expect(unreadable.code).toBe('IO_ERROR');
		expect(unreadable.message).toMatch(/None of 3 images tried .* could be read/);
		expect(unreadable.message).toMatch(/x\.png: /);
	});
});

describe('a dataset source (the real-data control)', () => {
	const mini: TrainSource = { kind: 'dataset', dataset: 'fashion-mnist-mini', splitSeed: 0 };

	it('trains on the training split of an evaluation dataset only, the same bytes on every thread', async () => {
		const dataset = await loadDataset('fashion-mnist-mini');
		const source = await openDataSource(mini);
		expect(source.count).toBe(dataset.train.labels.length);
		expect(source.count).toBeLessThan(dataset.train.labels.length + dataset.test.labels.length);
		expect(source.label).toBe('fashion-mnist-mini · training split · 5,000 images');
		const image = await source.load(1234);
		expect(
			Buffer.from(image.data).equals(Buffer.from(imageAt(dataset.train.images, 1234).data))
		).toBe(true);

		const [inline, threaded] = await Promise.all(
			[0, 2].map(async (threads) => batches(await open({ threads, source: mini }), [0, 1]))
		);
		for (const [k, batch] of (inline as TrainBatch[]).entries()) {
			expect(batch.skipped).toBe(0);
			expect(bytesOf((threaded as TrainBatch[])[k] as TrainBatch).equals(bytesOf(batch))).toBe(
				true
			);
		}
	});

	it('fails clearly for a dataset it cannot load', async () => {
		const failure = await rejection(
			openDataSource({ kind: 'dataset', dataset: '/nonexistent/dataset', splitSeed: 0 })
		);
		expect(failure.message).toMatch(/\/nonexistent\/dataset/);
	});
});
