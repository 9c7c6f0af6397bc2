/**
 * An on-disk cache of decoded datasets, so that the second evaluation on a folder of JPEGs (or a
 * gzipped IDX set) starts with one binary read instead of decoding everything again.
 *
 * One cache file per dataset identity (format, absolute path, options that change the result);
 * inside it, a fingerprint of the source files' sizes and mtimes. A changed source file makes the
 * fingerprint differ and the entry is rebuilt in place, so stale entries do not pile up.
 *
 * File layout: `NLDS`, format version (u32 LE), header length (u32 LE), a JSON header, then the
 * train labels (i32 LE), train pixels, test labels, test pixels. The header holds a CRC-32 of
 * everything after it, so a truncated or damaged file is detected and rebuilt.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import type { EvalDataset, LabelledSplit } from '../../core/evaluation/dataset';
import { writeFileDurably } from '../durable-file';

const magic = 'NLDS';
const formatVersion = 1;

/** What names a cache entry and decides whether it is still valid. */
export interface DatasetCacheKey {
	/** Format, absolute source path and the options that change the result. */
	identity: Record<string, unknown>;
	/** Every file the dataset is built from, with its size and mtime. */
	fingerprint: string;
}

/** Whether a load came from the cache, and where that entry lives. */
export interface CacheOutcome {
	dataset: EvalDataset;
	hit: boolean;
	file: string | null;
}

interface SplitHeader {
	count: number;
	width: number;
	height: number;
	channels: 1 | 3;
}

interface CacheHeader {
	identity: Record<string, unknown>;
	fingerprint: string;
	name: string;
	classes: string[];
	notes: string[];
	train: SplitHeader;
	test: SplitHeader;
	crc32: number;
}

/**
 * Hashes the size and mtime of each file (in the given order). Fails like `fs.stat` when a file
 * vanished, which the caller turns into a load error anyway.
 */
export async function fingerprintFiles(files: readonly string[]): Promise<string> {
	const hash = crypto.createHash('sha256');
	const batch = 64;
	for (let start = 0; start < files.length; start += batch) {
		const slice = files.slice(start, start + batch);
		const stats = await Promise.all(slice.map((file) => fs.stat(file)));
		stats.forEach((stat, index) => {
			hash.update(`${slice[index]}\0${stat.size}\0${stat.mtimeMs}\n`);
		});
	}
	return hash.digest('hex');
}

/** The cache file of an identity: a hash, so any path or option fits in a file name. */
export function cacheFileFor(cacheDir: string, identity: Record<string, unknown>): string {
	const digest = crypto
		.createHash('sha256')
		.update(JSON.stringify({ formatVersion, ...identity }))
		.digest('hex');
	return path.join(cacheDir, `${digest.slice(0, 40)}.nlds`);
}

function splitHeader(split: LabelledSplit): SplitHeader {
	const { count, width, height, channels } = split.images;
	return { count, width, height, channels };
}

function labelBytes(labels: Int32Array): Uint8Array {
	const bytes = new Uint8Array(labels.length * 4);
	const view = new DataView(bytes.buffer);
	labels.forEach((label, index) => view.setInt32(4 * index, label, true));
	return bytes;
}

/** Serialises a dataset with its key; exported for tests that damage cache files on purpose. */
export function encodeCacheFile(key: DatasetCacheKey, dataset: EvalDataset): Uint8Array[] {
	const body = [
		labelBytes(dataset.train.labels),
		dataset.train.images.data,
		labelBytes(dataset.test.labels),
		dataset.test.images.data
	];
	let crc = 0;
	for (const part of body) crc = zlib.crc32(part, crc);
	const header: CacheHeader = {
		identity: key.identity,
		fingerprint: key.fingerprint,
		name: dataset.name,
		classes: dataset.classes,
		notes: dataset.notes,
		train: splitHeader(dataset.train),
		test: splitHeader(dataset.test),
		crc32: crc
	};
	const json = Buffer.from(JSON.stringify(header), 'utf8');
	const prefix = Buffer.alloc(12);
	prefix.write(magic, 0, 'ascii');
	prefix.writeUInt32LE(formatVersion, 4);
	prefix.writeUInt32LE(json.length, 8);
	return [prefix, json, ...body];
}

function isSplitHeader(value: unknown): value is SplitHeader {
	const split = value as Partial<SplitHeader> | null;
	return (
		typeof split === 'object' &&
		split !== null &&
		[split.count, split.width, split.height].every(
			(n) => Number.isInteger(n) && (n as number) >= 0
		) &&
		(split.channels === 1 || split.channels === 3)
	);
}

/** Parses a cache file; null when it is damaged, from another version or for another key. */
export function decodeCacheFile(bytes: Uint8Array, key: DatasetCacheKey): EvalDataset | null {
	const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (buffer.length < 12 || buffer.toString('ascii', 0, 4) !== magic) return null;
	if (buffer.readUInt32LE(4) !== formatVersion) return null;
	const headerLength = buffer.readUInt32LE(8);
	if (12 + headerLength > buffer.length) return null;
	let header: CacheHeader;
	try {
		header = JSON.parse(buffer.toString('utf8', 12, 12 + headerLength)) as CacheHeader;
	} catch {
		return null;
	}
	if (
		header.fingerprint !== key.fingerprint ||
		JSON.stringify(header.identity) !== JSON.stringify(key.identity) ||
		!isSplitHeader(header.train) ||
		!isSplitHeader(header.test) ||
		!Array.isArray(header.classes) ||
		!Array.isArray(header.notes)
	) {
		return null;
	}
	let offset = 12 + headerLength;
	const body = buffer.subarray(offset);
	const pixelsOf = (split: SplitHeader) =>
		split.count * split.width * split.height * split.channels;
	const expected =
		4 * header.train.count + pixelsOf(header.train) + 4 * header.test.count + pixelsOf(header.test);
	if (body.length !== expected || zlib.crc32(body) !== header.crc32) return null;
	const readSplit = (split: SplitHeader): LabelledSplit | null => {
		const labels = new Int32Array(split.count);
		for (let i = 0; i < split.count; i++) labels[i] = buffer.readInt32LE(offset + 4 * i);
		offset += 4 * split.count;
		const length = pixelsOf(split);
		const data = new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length);
		offset += length;
		const classCount = header.classes.length;
		if (labels.some((label) => label < 0 || label >= classCount)) return null;
		return { images: { ...split, data }, labels };
	};
	const train = readSplit(header.train);
	const test = readSplit(header.test);
	if (!train || !test) return null;
	return { name: header.name, classes: header.classes, train, test, notes: header.notes };
}

/** Reads a valid entry for `key`, or null (missing, stale or damaged: all mean "rebuild"). */
export async function readCachedDataset(
	cacheDir: string,
	key: DatasetCacheKey
): Promise<EvalDataset | null> {
	let bytes: Buffer;
	try {
		bytes = await fs.readFile(cacheFileFor(cacheDir, key.identity));
	} catch {
		return null;
	}
	return decodeCacheFile(bytes, key);
}

/**
 * Writes an entry durably (every byte, fsync, then rename), so a reader in another process never
 * sees half a file. Returns the file, or null when the disk refused (full, say): that only costs
 * speed, and nothing half-written is left in the cache.
 */
export function writeCachedDataset(
	cacheDir: string,
	key: DatasetCacheKey,
	dataset: EvalDataset
): string | null {
	const file = cacheFileFor(cacheDir, key.identity);
	try {
		writeFileDurably(file, encodeCacheFile(key, dataset));
		return file;
	} catch {
		return null;
	}
}

/** Returns the cached dataset for `key`, or builds it and stores it for next time. */
export async function withDatasetCache(
	cacheDir: string | null,
	key: () => Promise<DatasetCacheKey>,
	build: () => Promise<EvalDataset>
): Promise<CacheOutcome> {
	if (cacheDir === null) return { dataset: await build(), hit: false, file: null };
	const resolvedKey = await key();
	const cached = await readCachedDataset(cacheDir, resolvedKey);
	if (cached) {
		return { dataset: cached, hit: true, file: cacheFileFor(cacheDir, resolvedKey.identity) };
	}
	const dataset = await build();
	const file = writeCachedDataset(cacheDir, resolvedKey, dataset);
	return { dataset, hit: false, file };
}
