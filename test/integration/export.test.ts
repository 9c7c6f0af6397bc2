import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { datasetManifestSchema, imagePath } from '../../src/core/generators/manifest';
import { findGenerator, resolveConfig } from '../../src/core/generators/registry';
import { statistical } from '../../src/core/generators/statistical/index';
import { texturePoolSeed, texturesDrawnBy } from '../../src/core/generators/textures';
import { cacheDirVariable } from '../../src/main/generation/disk-cache';
import {
	exportDataset,
	planExport,
	type ExportRequest
} from '../../src/main/generation/export-dataset';
import { unpackTar } from '../../src/main/generation/tar';
import type { GeneratorTasks } from '../../src/main/workers/entries/generator';
import { WorkerFactory } from '../../src/main/workers/host';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { withFailpoints } from '../support/failpoints';
import { distDir, temporaryFolder } from '../support/paths';

const threadFile = path.join(distDir, 'workers', 'generate-thread.cjs');

describe('dataset export', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	let request: ExportRequest;
	beforeEach(() => {
		folder = temporaryFolder();
		request = {
			preset: 'control-white_noise',
			seed: 7,
			count: 50,
			startIndex: 0,
			size: 32,
			outDir: path.join(folder.path, 'dataset'),
			format: 'png',
			quality: 95,
			shards: false,
			workers: 2
		};
	});
	afterEach(() => folder.remove());

	const manifestOf = (dir: string) =>
		datasetManifestSchema.parse(
			JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'))
		);

	it('writes every image in the paper layout with a manifest, and reports progress', async () => {
		const progress: number[] = [];
		const result = await exportDataset(request, {
			threadFile,
			onProgress: (p) => progress.push(p.done)
		});
		expect(result.ok, JSON.stringify(result)).toBe(true);
		const manifest = manifestOf(request.outDir);
		expect(manifest).toMatchObject({
			complete: true,
			written: 50,
			count: 50,
			size: 32,
			seed: 7,
			preset: 'control-white_noise'
		});
		expect(manifest.generator.id).toBe('white_noise');
		expect(fs.readdirSync(request.outDir).sort()).toEqual(['00000000', 'manifest.json']);
		expect(fs.readdirSync(path.join(request.outDir, '00000000'))).toHaveLength(50);
		expect(progress.at(-1)).toBe(50);
		// The file on disk is exactly the generator's image (PNG is lossless).
		const decoded = await sharp(path.join(request.outDir, imagePath(13, 'png')))
			.raw()
			.toBuffer();
		const expected = await findGenerator('white_noise')?.generate({}, 7, 13, 32);
		expect(Buffer.from(decoded).equals(Buffer.from(expected?.data ?? []))).toBe(true);
	});

	it('resumes: skips complete files and redoes missing and truncated ones', async () => {
		expect((await exportDataset(request, { threadFile })).ok).toBe(true);
		const missing = path.join(request.outDir, imagePath(3, 'png'));
		const truncated = path.join(request.outDir, imagePath(4, 'png'));
		const untouched = path.join(request.outDir, imagePath(5, 'png'));
		const original = fs.readFileSync(truncated);
		fs.rmSync(missing);
		fs.writeFileSync(truncated, original.subarray(0, original.length - 20));
		const before = fs.statSync(untouched).mtimeMs;
		const result = await exportDataset(request, { threadFile });
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.value).toMatchObject({ skipped: 48, written: 2, resumed: true });
		expect(fs.readFileSync(truncated).equals(original)).toBe(true);
		expect(fs.existsSync(missing)).toBe(true);
		expect(fs.statSync(untouched).mtimeMs).toBe(before);
	});

	it('stops on cancel with a partial manifest, then a rerun completes the same dataset', async () => {
		const controller = new AbortController();
		// The export holds after 24 images (a failpoint) until the cancel: progress is reported
		// every 0.2 s, and a fast machine wrote all 400 before the first report could cancel it.
		const cancelled = await withFailpoints('export.hold-after-images=24', () =>
			exportDataset(
				{ ...request, count: 400, workers: 1 },
				{
					threadFile,
					signal: controller.signal,
					onProgress: (p) => p.written >= 20 && controller.abort()
				}
			)
		);
		expect(cancelled.ok || cancelled.error.code).toBe('CANCELLED');
		const partial = manifestOf(request.outDir);
		expect(partial.complete).toBe(false);
		expect(partial.written).toBe(24);
		const resumed = await exportDataset({ ...request, count: 400 }, { threadFile });
		expect(resumed.ok).toBe(true);
		if (!resumed.ok) return;
		expect(resumed.value.skipped).toBe(partial.written);
		expect(manifestOf(request.outDir)).toMatchObject({ complete: true, written: 400 });
	});

	it('resumes a half-finished untextured dead-leaves export whether it recorded version 1 or 2 (only the textured variant changed at 2)', async () => {
		const leaves: ExportRequest = { ...request, preset: 'dead_leaves-squares', count: 12 };
		expect((await exportDataset(leaves, { threadFile })).ok).toBe(true);
		const file = path.join(request.outDir, 'manifest.json');
		const recorded = manifestOf(request.outDir);
		// What this scheme records for the untextured variant is what was recorded before it.
		expect(recorded.generator).toEqual({ id: 'dead_leaves', version: 2 });
		for (const version of [2, 1]) {
			// Half finished: images 8–11 never written, the manifest not complete.
			for (let index = 8; index < 12; index++)
				fs.rmSync(path.join(request.outDir, imagePath(index, 'png')), { force: true });
			fs.writeFileSync(
				file,
				JSON.stringify({
					...recorded,
					generator: { id: 'dead_leaves', version },
					complete: false,
					written: 8
				})
			);
			const resumed = await exportDataset(leaves, { threadFile });
			expect(resumed.ok, JSON.stringify(resumed)).toBe(true);
			if (!resumed.ok) return;
			expect(resumed.value).toMatchObject({ resumed: true, skipped: 8, written: 4 });
			expect(manifestOf(request.outDir)).toMatchObject({ complete: true, written: 12 });
		}
		// The textured variant's bytes changed at version 2: its version-1 folders are another dataset.
		const texturedDir = path.join(folder.path, 'textured');
		const textured = { ...leaves, params: { textured: true }, outDir: texturedDir };
		const wanted = planExport(textured);
		expect(wanted.ok).toBe(true);
		if (!wanted.ok) return;
		const texturedFile = path.join(texturedDir, 'manifest.json');
		fs.mkdirSync(texturedDir);
		fs.writeFileSync(
			texturedFile,
			JSON.stringify({ ...wanted.value.wanted, generator: { id: 'dead_leaves', version: 1 } })
		);
		const refused = planExport(textured);
		expect(refused.ok || refused.error.code).toBe('FOLDER_CONFLICT');
		fs.writeFileSync(texturedFile, JSON.stringify(wanted.value.wanted));
		expect(planExport(textured).ok).toBe(true);
	});

	it('refuses a folder of another dataset or a non-empty foreign folder, changing nothing', async () => {
		expect((await exportDataset(request, { threadFile })).ok).toBe(true);
		const other = await exportDataset({ ...request, seed: 8 }, { threadFile });
		expect(other.ok || other.error.code).toBe('FOLDER_CONFLICT');
		expect(other.ok || other.error.message).toContain('seed 7');
		expect(manifestOf(request.outDir).seed).toBe(7);
		const foreign = path.join(folder.path, 'photos');
		fs.mkdirSync(foreign);
		fs.writeFileSync(path.join(foreign, 'holiday.jpg'), 'not ours');
		const refused = await exportDataset({ ...request, outDir: foreign }, { threadFile });
		expect(refused.ok || refused.error.message).toContain('holds no NoiseLab dataset');
		expect(fs.readdirSync(foreign)).toEqual(['holiday.jpg']);
	});

	it('refuses unknown presets and out-of-range sizes with the valid choices', async () => {
		const unknown = await exportDataset(
			{ ...request, preset: 'dead_leaves-circles' },
			{ threadFile }
		);
		expect(unknown.ok || unknown.error.message).toMatch(
			/Unknown preset "dead_leaves-circles". Presets: .*control-white_noise/
		);
		const tooBig = await exportDataset({ ...request, size: 1024 }, { threadFile });
		expect(tooBig.ok || tooBig.error.message).toContain('from 32 to 512');
		expect(fs.existsSync(request.outDir)).toBe(false);
	});

	it('fails with WORKER_CRASHED, keeping what was written, when an export thread exits', async () => {
		// A thread that starts and then exits on its first task, as a native crash or
		// process.exit() in a generator would: no 'error' event, only 'exit'.
		const exiting = path.join(folder.path, 'exiting-thread.cjs');
		fs.writeFileSync(
			exiting,
			`const { parentPort } = require('node:worker_threads');
parentPort.on('message', (message) => {
	if (message && message.kind === 'init') parentPort.postMessage({ kind: 'ready' });
	else process.exit(3);
});`
		);
		const result = await exportDataset(request, { threadFile: exiting });
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.error.code).toBe('WORKER_CRASHED');
		expect(result.error.message).toContain('exit code 3');
		expect(manifestOf(request.outDir)).toMatchObject({ complete: false, written: 0 });
		// The folder resumes with the real threads.
		const resumed = await exportDataset(request, { threadFile });
		expect(resumed.ok && resumed.value.written).toBe(50);
	});

	it('writes WebDataset shards, one per sub-folder, holding the images', async () => {
		const result = await exportDataset(
			{ ...request, count: 1005, shards: true, format: 'jpg' },
			{ threadFile }
		);
		expect(result.ok).toBe(true);
		const shards = fs.readdirSync(path.join(request.outDir, 'shards')).sort();
		expect(shards).toEqual(['shard-000000.tar', 'shard-000001.tar']);
		const second = unpackTar(
			fs.readFileSync(path.join(request.outDir, 'shards', shards[1] as string))
		);
		expect(second.map((entry) => entry.name)).toEqual([
			'00001000.jpg',
			'00001001.jpg',
			'00001002.jpg',
			'00001003.jpg',
			'00001004.jpg'
		]);
		expect(
			second[0]?.data.equals(fs.readFileSync(path.join(request.outDir, imagePath(1000, 'jpg'))))
		).toBe(true);
	});

	it('fills textured dead leaves’ pool textures on the threads into the cache, drawing the same images', async () => {
		const cacheDir = path.join(folder.path, 'cache');
		const before = process.env[cacheDirVariable];
		process.env[cacheDirVariable] = cacheDir;
		// A pool larger than the images draw, so a wrong list would leave extra files in the cache.
		const params = { texturePoolSize: 300 };
		try {
			const result = await exportDataset(
				{ ...request, preset: 'dead_leaves-textures', params, count: 2 },
				{ threadFile }
			);
			expect(result.ok, JSON.stringify(result)).toBe(true);
		} finally {
			if (before === undefined) Reflect.deleteProperty(process.env, cacheDirVariable);
			else process.env[cacheDirVariable] = before;
		}
		const resolved = resolveConfig({ preset: 'dead_leaves-textures', params, size: 32 });
		if (!resolved.ok) throw new Error(resolved.message);
		const drawn = new Set<number>();
		for (let index = 0; index < 2; index++) {
			for (const texture of texturesDrawnBy(resolved.value, 7, index)) drawn.add(texture);
			const decoded = await sharp(path.join(request.outDir, imagePath(index, 'png')))
				.raw()
				.toBuffer();
			const expected = await resolved.value.generator.generate(resolved.value.params, 7, index, 32);
			expect(Buffer.from(decoded).equals(Buffer.from(expected.data))).toBe(true);
		}
		const pool = path.join(
			cacheDir,
			'textures',
			`statistical-v${statistical.version}`,
			`seed-${texturePoolSeed}`,
			'32'
		);
		expect(
			fs
				.readdirSync(pool)
				.map(Number)
				.sort((a, b) => a - b)
		).toEqual([...drawn].sort((a, b) => a - b));
	});
});

describe('the generator worker process', () => {
	it('renders previews as raw RGB bytes and runs an export with progress', async () => {
		const worker = new WorkerFactory(
			forkNodeWorker,
			path.join(distDir, 'workers')
		).start<GeneratorTasks>('generator');
		const folder = temporaryFolder();
		try {
			const preview = await worker.run('preview', {
				preset: 'control-white_noise',
				size: 32,
				seed: 3,
				indices: [0, 5]
			});
			expect(preview.ok).toBe(true);
			if (!preview.ok) return;
			const expected = await findGenerator('white_noise')?.generate({}, 3, 5, 32);
			expect(preview.value[1]?.rgb).toBeInstanceOf(Uint8Array);
			expect(
				Buffer.from(preview.value[1]?.rgb ?? []).equals(Buffer.from(expected?.data ?? []))
			).toBe(true);
			const bad = await worker.run('preview', { generator: 'nope', seed: 0, indices: [0] });
			expect(bad.ok || bad.error.code).toBe('INVALID_REQUEST');
			const seen: number[] = [];
			const exported = await worker.run(
				'export',
				{
					preset: 'control-mean_colour',
					seed: 1,
					count: 30,
					startIndex: 0,
					size: 32,
					outDir: folder.path,
					format: 'png',
					quality: 95,
					shards: false
				},
				{ onProgress: (progress) => seen.push(progress.done) }
			);
			expect(exported.ok && exported.value.manifest.complete).toBe(true);
			expect(seen.at(-1)).toBe(30);
		} finally {
			worker.stop();
			folder.remove();
		}
	});
});
