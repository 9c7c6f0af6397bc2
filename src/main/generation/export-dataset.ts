/**
 * Dataset export: writes images of a generator configuration into the paper's folder layout,
 * on all cores, with progress, cancellation and resume. A folder holds one dataset, described by
 * its `manifest.json`; a rerun into the same folder skips complete images and redoes missing or
 * truncated ones, and a folder of another dataset is refused.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	AppFailure,
	fail,
	ok,
	toAppError,
	type AppError,
	type Result
} from '../../core/api/errors';
import {
	datasetManifestSchema,
	imagePath,
	imagesPerFolder,
	layoutDescription,
	manifestFileName,
	partRange,
	sameDataset,
	shardName,
	seedScheme,
	type DatasetManifest,
	type ImageFormat
} from '../../core/generators/manifest';
import { outputVersion } from '../../core/generators/generator';
import { findGenerator, resolveConfig, type ConfigRequest } from '../../core/generators/registry';
import { appInfo } from '../app-info';
import { isDiskFull, writeFileDurably } from '../durable-file';
import { failpoint, untilAborted } from '../failpoints';
import { isCompleteImage } from './encode';
import { packTar } from './tar';
import { ThreadPool } from '../threads/pool';
import { textureFillFor, type TextureFill } from './texture-fill';
import type { RenderJob, RenderTask, RenderedImage } from './thread-protocol';

/** What to export. */
export interface ExportRequest extends ConfigRequest {
	seed: number;
	count: number;
	startIndex: number;
	outDir: string;
	format: ImageFormat;
	quality: number;
	shards: boolean;
	/** Worker threads; defaults to the number of cores. */
	workers?: number;
	/**
	 * Render only part `index` (1-based) of `of` contiguous parts of the range (`partRange`),
	 * with its own manifest (`manifest.part-I-of-N.json`); `mergeDatasetParts` joins them.
	 */
	part?: { index: number; of: number };
}

/** Progress of an export, reported a few times a second. */
export interface ExportProgress {
	phase: 'scanning' | 'generating' | 'sharding';
	/** Images of the range that exist now (skipped + written). */
	done: number;
	total: number;
	/** Already complete before this run. */
	skipped: number;
	/** Written by this run. */
	written: number;
	imagesPerSecond: number;
	etaSeconds: number | null;
}

/** The outcome of a finished export. */
export interface ExportSummary {
	outDir: string;
	manifest: DatasetManifest;
	skipped: number;
	written: number;
	seconds: number;
	resumed: boolean;
}

/** Where the built export thread lives and how to report progress. */
export interface ExportOptions {
	threadFile: string;
	onProgress?: (progress: ExportProgress) => void;
	signal?: AbortSignal;
	now?: () => Date;
	/**
	 * Fill pool textures ahead of the images on all threads (textured dead leaves, with a cache
	 * folder); default true. `bench:texture-pool` turns it off for its reference.
	 */
	fillTextures?: boolean;
}

const batchSize = 8;

/** Runs an export to completion, cancellation or failure. Never throws. */
export async function exportDataset(
	request: ExportRequest,
	options: ExportOptions
): Promise<Result<ExportSummary>> {
	try {
		return await runExport(request, options);
	} catch (error) {
		return { ok: false, error: ioError(error, request.outDir) };
	}
}

/** What an export will do, decided before anything is written. */
export interface ExportPlan {
	outDir: string;
	/** The manifest this request describes. */
	wanted: DatasetManifest;
	/** The folder's existing manifest when this export resumes it. */
	previous: DatasetManifest | null;
}

/**
 * Validates a request and its folder without writing anything: unknown presets, bad params,
 * and folders that hold something else are refused here.
 */
export function planExport(
	request: ExportRequest,
	now: () => Date = () => new Date()
): Result<ExportPlan> {
	const resolved = resolveConfig(request);
	if (!resolved.ok) return fail('INVALID_REQUEST', resolved.message);
	const config = resolved.value;
	if (!Number.isInteger(request.count) || request.count < 1) {
		return fail(
			'INVALID_REQUEST',
			`--count must be a whole number of at least 1; got ${request.count}.`
		);
	}
	const outDir = path.resolve(request.outDir);
	let range = { startIndex: request.startIndex, count: request.count };
	if (request.part) {
		try {
			range = partRange(request.startIndex, request.count, request.part.index, request.part.of);
		} catch (error) {
			return fail('INVALID_REQUEST', (error as Error).message);
		}
	}
	const wanted: DatasetManifest = {
		kind: 'noiselab-dataset',
		manifestVersion: 1,
		appVersion: appInfo.version,
		generator: { id: config.generator.id, version: outputVersion(config.generator, config.params) },
		preset: config.preset,
		params: config.params,
		size: config.size,
		seed: request.seed,
		seedScheme,
		startIndex: range.startIndex,
		count: range.count,
		format: request.format,
		quality: request.quality,
		layout: layoutDescription,
		shards: request.shards,
		complete: false,
		written: 0,
		createdAt: now().toISOString(),
		completedAt: null,
		part: request.part
			? { ...request.part, datasetStartIndex: request.startIndex, datasetCount: request.count }
			: null,
		shardHashes: {}
	};
	const destination = checkDestination(outDir);
	if (!destination.ok) return destination;
	const existing = readExistingDataset(outDir, wanted);
	if (!existing.ok) return existing;
	const previous = existing.value;
	if (previous && !sameDataset(previous, wanted, findGenerator)) {
		return fail(
			'FOLDER_CONFLICT',
			`${outDir} holds another dataset (${previous.preset ?? previous.generator.id}, ${previous.size} px, seed ${previous.seed}, ${previous.format}). Choose an empty folder, or repeat that dataset's settings to resume it.`
		);
	}
	return ok({ outDir, wanted, previous });
}

async function runExport(
	request: ExportRequest,
	options: ExportOptions
): Promise<Result<ExportSummary>> {
	const started = performance.now();
	const now = options.now ?? (() => new Date());
	const plan = planExport(request, now);
	if (!plan.ok) return plan;
	const { outDir, wanted, previous } = plan.value;
	// The latest request defines the dataset's range; a resumed folder keeps its creation time.
	const manifest: DatasetManifest = {
		...wanted,
		createdAt: previous?.createdAt ?? wanted.createdAt,
		shards: request.shards || (previous?.shards ?? false)
	};
	fs.mkdirSync(outDir, { recursive: true });
	writeManifest(outDir, manifest);

	const report = (progress: ExportProgress) => options.onProgress?.(progress);
	report({
		phase: 'scanning',
		done: 0,
		total: manifest.count,
		skipped: 0,
		written: 0,
		imagesPerSecond: 0,
		etaSeconds: null
	});
	const range = Array.from({ length: manifest.count }, (_, k) => manifest.startIndex + k);
	const missing = range.filter((index) => !hasCompleteImage(outDir, index, request.format));
	removeStaleTemporaries(outDir);
	const skipped = range.length - missing.length;

	const job: RenderJob = {
		config: { generator: wanted.generator.id, params: wanted.params, size: wanted.size },
		seed: request.seed,
		format: request.format,
		quality: request.quality,
		outDir
	};
	const generated = await renderInThreads(job, missing, {
		textures: options.fillTextures !== false ? textureFillFor(job.config, job.seed) : null,
		threads: Math.max(
			1,
			Math.min(request.workers ?? os.availableParallelism(), missing.length || 1)
		),
		threadFile: options.threadFile,
		signal: options.signal,
		onWritten: (written, elapsedSeconds) => {
			const rate = written / Math.max(elapsedSeconds, 1e-3);
			report({
				phase: 'generating',
				done: skipped + written,
				total: range.length,
				skipped,
				written,
				imagesPerSecond: rate,
				// Thread start-up dominates the first second: no ETA until the rate means something.
				etaSeconds: rate > 0 && elapsedSeconds > 1.5 ? (missing.length - written) / rate : null
			});
		}
	});
	const totalWritten = countComplete(outDir, manifest);
	if (!generated.ok) {
		writeManifest(outDir, { ...manifest, written: totalWritten });
		return generated;
	}
	if (manifest.shards) {
		report({
			phase: 'sharding',
			done: range.length,
			total: range.length,
			skipped,
			written: generated.value,
			imagesPerSecond: 0,
			etaSeconds: null
		});
		manifest.shardHashes = writeShards(outDir, manifest);
	}
	const complete = totalWritten === manifest.count;
	const final: DatasetManifest = {
		...manifest,
		written: totalWritten,
		complete,
		completedAt: complete ? now().toISOString() : null
	};
	writeManifest(outDir, final);
	return ok({
		outDir,
		manifest: final,
		skipped,
		written: generated.value,
		seconds: (performance.now() - started) / 1000,
		resumed: previous !== null
	});
}

/**
 * Kernel filesystems (Linux `statfs` magic numbers) that hold no files of ours: /proc, /sys and
 * their kin. Node's recursive mkdir spins forever under /proc, so they are refused up front.
 */
const virtualFilesystems = new Map<number, string>([
	[0x9fa0, 'procfs'],
	[0x62656572, 'sysfs'],
	[0x64626720, 'debugfs'],
	[0x74726163, 'tracefs'],
	[0x73636673, 'securityfs'],
	[0x27e0eb, 'cgroup'],
	[0x63677270, 'cgroup2'],
	[0x1cd1, 'devpts'],
	[0xcafe4a11, 'bpf'],
	[0x6165676c, 'pstore'],
	[0x62656570, 'configfs'],
	[0xde5e81e4, 'efivarfs'],
	[0x42494e4d, 'binfmt_misc'],
	[0x19800202, 'mqueue'],
	[0x6e736673, 'nsfs']
]);

/**
 * Checks, before anything is created, that the destination is (or can become) a folder on a
 * real filesystem that this process may write: its nearest existing ancestor must be a writable
 * folder on a disk, not a file and not a kernel filesystem such as /proc.
 */
function checkDestination(outDir: string): Result<null> {
	let existing = outDir;
	while (!fs.existsSync(existing) && path.dirname(existing) !== existing) {
		existing = path.dirname(existing);
	}
	let stat: fs.Stats;
	try {
		stat = fs.statSync(existing);
	} catch (error) {
		return fail('IO_ERROR', `Cannot use ${outDir}: ${(error as Error).message}`);
	}
	if (!stat.isDirectory()) {
		return fail(
			'FOLDER_CONFLICT',
			`${existing === outDir ? outDir : `${existing}, on the way to ${outDir},`} is a file, not a folder. Choose a folder.`
		);
	}
	if (process.platform === 'linux') {
		const kind = virtualFilesystems.get(fs.statfsSync(existing).type);
		if (kind) {
			return fail(
				'INVALID_REQUEST',
				`${outDir} is on ${kind}, a virtual filesystem of the kernel, not on a disk. Choose a folder on a disk, e.g. in your home folder.`
			);
		}
	}
	try {
		fs.accessSync(existing, fs.constants.W_OK);
	} catch {
		return fail(
			'IO_ERROR',
			`Cannot write into ${existing}: permission denied. Choose a folder you can write to.`
		);
	}
	return ok(null);
}

/**
 * Reads the folder's manifest for `wanted` (the whole dataset's, or this part's): null for an
 * empty or new folder, or one holding only other parts of the same dataset; an error for a
 * folder of another dataset or of other files.
 */
function readExistingDataset(
	outDir: string,
	wanted: DatasetManifest
): Result<DatasetManifest | null> {
	if (!fs.existsSync(outDir)) return ok(null);
	const entries = fs.readdirSync(outDir);
	if (entries.length === 0) return ok(null);
	const manifests = entries.filter((name) => isManifestName(name));
	if (manifests.length === 0) {
		return fail(
			'FOLDER_CONFLICT',
			`${outDir} is not empty and holds no NoiseLab dataset (no ${manifestFileName(null)}). Choose an empty or new folder.`
		);
	}
	const own = manifestFileName(wanted.part);
	let previous: DatasetManifest | null = null;
	for (const name of manifests) {
		const read = readManifest(path.join(outDir, name));
		if (!read.ok) return fail('FOLDER_CONFLICT', read.error.message);
		if (!sameDataset(read.value, wanted, findGenerator)) {
			return fail(
				'FOLDER_CONFLICT',
				`${outDir} holds another dataset (${read.value.preset ?? read.value.generator.id}, ${read.value.size} px, seed ${read.value.seed}, ${read.value.format}). Choose an empty folder, or repeat that dataset's settings to resume it.`
			);
		}
		if (name === own) previous = read.value;
	}
	return ok(previous);
}

/** Whether a file name is a dataset manifest (whole or part). */
export function isManifestName(name: string): boolean {
	return name === manifestFileName(null) || /^manifest\.part-\d{4,}-of-\d{4,}\.json$/.test(name);
}

/** Reads and validates a manifest file. */
export function readManifest(file: string): Result<DatasetManifest> {
	try {
		return ok(datasetManifestSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8'))));
	} catch {
		// The parser's message would quote the file; say what it is not instead.
		return fail(
			'INVALID_REQUEST',
			`${file} is not a readable NoiseLab manifest, so the folder holds something else. Choose an empty or new folder.`
		);
	}
}

/** Writes the manifest durably, so a crash or a full disk never leaves half a manifest. */
export function writeManifest(outDir: string, manifest: DatasetManifest): void {
	writeFileDurably(
		path.join(outDir, manifestFileName(manifest.part)),
		Buffer.from(`${JSON.stringify(manifest, null, '\t')}\n`)
	);
}

/** Whether image `index` exists under `outDir` and is complete (checks its first and last bytes). */
export function hasCompleteImage(outDir: string, index: number, format: ImageFormat): boolean {
	const file = path.join(outDir, imagePath(index, format));
	let handle: number | undefined;
	try {
		handle = fs.openSync(file, 'r');
		const { size } = fs.fstatSync(handle);
		// Both formats are recognisable from their first and last bytes.
		const head = Buffer.alloc(Math.min(8, size));
		fs.readSync(handle, head, 0, head.length, 0);
		const tail = Buffer.alloc(Math.min(12, size));
		fs.readSync(handle, tail, 0, tail.length, size - tail.length);
		return isCompleteImage(
			Buffer.concat([head, Buffer.alloc(Math.max(0, 58 - head.length - tail.length)), tail]),
			format
		);
	} catch {
		return false;
	} finally {
		if (handle !== undefined) fs.closeSync(handle);
	}
}

function countComplete(outDir: string, manifest: DatasetManifest): number {
	let count = 0;
	for (let index = manifest.startIndex; index < manifest.startIndex + manifest.count; index++) {
		if (hasCompleteImage(outDir, index, manifest.format)) count++;
	}
	return count;
}

function removeStaleTemporaries(outDir: string): void {
	for (const folder of fs.readdirSync(outDir, { withFileTypes: true })) {
		if (!folder.isDirectory()) continue;
		for (const file of fs.readdirSync(path.join(outDir, folder.name))) {
			if (file.endsWith('.tmp')) fs.rmSync(path.join(outDir, folder.name, file), { force: true });
		}
	}
}

/**
 * One WebDataset shard per sub-folder of 1000 images (`shards/shard-000000.tar`, named by the
 * sub-folder, so parts never collide); returns their SHA-256 by file name.
 */
function writeShards(outDir: string, manifest: DatasetManifest): Record<string, string> {
	const hashes: Record<string, string> = {};
	const shardDir = path.join(outDir, 'shards');
	fs.mkdirSync(shardDir, { recursive: true });
	const end = manifest.startIndex + manifest.count;
	for (
		let first = Math.floor(manifest.startIndex / imagesPerFolder) * imagesPerFolder;
		first < end;
		first += imagesPerFolder
	) {
		const entries = [];
		for (
			let index = Math.max(first, manifest.startIndex);
			index < Math.min(first + imagesPerFolder, end);
			index++
		) {
			const file = path.join(outDir, imagePath(index, manifest.format));
			if (!fs.existsSync(file)) continue;
			entries.push({
				name: `${String(index).padStart(8, '0')}.${manifest.format}`,
				data: fs.readFileSync(file)
			});
		}
		const name = shardName(first / imagesPerFolder);
		const target = path.join(shardDir, name);
		const bytes = packTar(entries);
		writeFileDurably(target, bytes);
		hashes[name] = crypto.createHash('sha256').update(bytes).digest('hex');
	}
	return hashes;
}

/** Renders `indices` on a pool of export threads; resolves with the number written. */
async function renderInThreads(
	job: RenderJob,
	indices: readonly number[],
	options: {
		threads: number;
		threadFile: string;
		/** Fills the pool textures of the images ahead of them (textured dead leaves). */
		textures: TextureFill | null;
		signal: AbortSignal | undefined;
		onWritten: (written: number, elapsedSeconds: number) => void;
	}
): Promise<Result<number>> {
	if (indices.length === 0) return ok(0);
	const started = performance.now();
	// Tests hold an export after a known number of images instead of racing the machine.
	const holdAt = failpoint('export.hold-after-images');
	let pool: ThreadPool<RenderTask, null, RenderedImage>;
	try {
		pool = await ThreadPool.start({
			file: options.threadFile,
			size: options.threads,
			label: 'export thread',
			init: () => job
		});
	} catch (error) {
		return { ok: false, error: toAppError(error) };
	}
	let next = 0;
	let written = 0;
	let failure: AppError | null = null;
	let lastReport = 0;
	const onEvent = () => {
		written++;
		const elapsed = (performance.now() - started) / 1000;
		if (elapsed - lastReport > 0.2 || written === indices.length || written === holdAt) {
			lastReport = elapsed;
			options.onWritten(written, elapsed);
		}
	};
	const { textures } = options;
	// Images wait for their textures, so they go one at a time and arrive as soon as theirs do.
	const imagesPerTask = textures ? 1 : batchSize;
	const stopped = () => failure !== null || options.signal?.aborted === true;
	const fillOnThread = async (chunk: number[]) => {
		try {
			await pool.run({ textures: chunk });
		} catch (error) {
			failure ??= toAppError(error);
		}
	};
	// One feeder per thread; cancellation and the first failure stop handing out batches.
	const feed = async () => {
		while (!failure && !options.signal?.aborted && next < indices.length) {
			if (next === holdAt) {
				await untilAborted(options.signal);
				continue;
			}
			// Textures other feeders queued come before new images (then look again: the others
			// may have taken the remaining images meanwhile).
			if (textures && (await textures.fillQueued(fillOnThread, stopped))) continue;
			const batch = indices.slice(next, Math.min(next + imagesPerTask, holdAt ?? Infinity));
			next += batch.length;
			if (textures) {
				await textures.prepare(batch, fillOnThread, stopped);
				if (failure || options.signal?.aborted) break;
			}
			try {
				await pool.run({ images: batch }, { onEvent });
			} catch (error) {
				failure ??= toAppError(error);
			}
		}
	};
	try {
		await Promise.all(Array.from({ length: pool.size }, feed));
	} finally {
		await pool.close();
	}
	if (failure) return { ok: false, error: failure };
	if (options.signal?.aborted) {
		return fail(
			'CANCELLED',
			`Export cancelled after ${written} new images; run the same command again to resume.`
		);
	}
	return ok(written);
}

function ioError(error: unknown, outDir: string): AppError {
	if (error instanceof AppFailure) return error.toError();
	const code = (error as NodeJS.ErrnoException).code;
	if (isDiskFull(error))
		return { code: 'DISK_FULL', message: `The disk is full (writing into ${outDir}).` };
	if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
		return { code: 'IO_ERROR', message: `Cannot write into ${outDir}: permission denied.` };
	}
	if (code && /^E[A-Z]+$/.test(code))
		return {
			code: 'IO_ERROR',
			message: `Cannot write into ${outDir}: ${(error as Error).message}`
		};
	return toAppError(error);
}
