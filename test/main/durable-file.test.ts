import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import type { EvalDataset } from '../../src/core/evaluation/dataset';
import { writeFailure, writeFileDurably, type WriteChunk } from '../../src/main/durable-file';
import { withDatasetCache } from '../../src/main/evaluation/dataset-cache';
import { cachedFeatures } from '../../src/main/evaluation/feature-cache';
import { writeProbeFile } from '../../src/main/evaluation/probe-files';
import { diskCache } from '../../src/main/generation/disk-cache';
import { withFailpoints } from '../support/failpoints';
import { temporaryFolder } from '../support/paths';

const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31) % 251);
const sha256 = (data: Uint8Array) => crypto.createHash('sha256').update(data).digest('hex');

/** A write that stores at most `most` bytes per call, as a busy or nearly full disk may. */
const shortWrites =
	(most: number): WriteChunk =>
	(fd, data, offset, length) =>
		fs.writeSync(fd, data, offset, Math.min(most, length));

/** A disk that takes `room` more bytes, then reports ENOSPC (tmpfs does exactly this). */
function fullAfter(room: number): WriteChunk {
	let left = room;
	return (fd, data, offset, length) => {
		if (left === 0) {
			throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
				code: 'ENOSPC'
			});
		}
		const written = fs.writeSync(fd, data, offset, Math.min(left, length));
		left -= written;
		return written;
	};
}

describe('writeFileDurably', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	let file: string;
	beforeEach(() => {
		folder = temporaryFolder();
		file = path.join(folder.path, 'data.bin');
		fs.writeFileSync(file, 'the previous version');
	});
	afterEach(() => folder.remove());

	const leftovers = () => fs.readdirSync(folder.path).filter((name) => name !== 'data.bin');

	it('continues short writes until every byte is out', () => {
		writeFileDurably(file, bytes, { write: shortWrites(333), sha256: sha256(bytes) });
		expect(fs.readFileSync(file).equals(Buffer.from(bytes))).toBe(true);
		expect(leftovers()).toEqual([]);
	});

	it('writes parts one after the other', () => {
		writeFileDurably(file, [bytes.subarray(0, 10), bytes.subarray(10)], {
			write: shortWrites(4096)
		});
		expect(fs.readFileSync(file).equals(Buffer.from(bytes))).toBe(true);
	});

	it('creates a missing folder, unless asked not to', () => {
		const nested = path.join(folder.path, 'new', 'data.bin');
		writeFileDurably(nested, bytes);
		expect(fs.readFileSync(nested).length).toBe(bytes.length);
		const elsewhere = path.join(folder.path, 'missing', 'data.bin');
		expect(() => writeFileDurably(elsewhere, bytes, { createFolder: false })).toThrow(
			expect.objectContaining({ code: 'ENOENT' })
		);
		expect(fs.existsSync(path.dirname(elsewhere))).toBe(false);
	});

	it('fails with ENOSPC when the disk fills mid-file, keeping the old file and no temporary', () => {
		expect(() => writeFileDurably(file, bytes, { write: fullAfter(4000) })).toThrow(
			expect.objectContaining({ code: 'ENOSPC' })
		);
		expect(fs.readFileSync(file, 'utf8')).toBe('the previous version');
		expect(leftovers()).toEqual([]);
	});

	it('treats a write that stores nothing as a full disk, not as done', () => {
		let calls = 0;
		const stalls: WriteChunk = (fd, data, offset, length) =>
			calls++ === 0 ? fs.writeSync(fd, data, offset, Math.min(100, length)) : 0;
		expect(() => writeFileDurably(file, bytes, { write: stalls })).toThrow(
			/accepted 100 of 10000 bytes/
		);
		expect(fs.readFileSync(file, 'utf8')).toBe('the previous version');
		expect(leftovers()).toEqual([]);
	});

	it('refuses a file whose bytes read back with another hash', () => {
		expect(() => writeFileDurably(file, bytes, { sha256: sha256(bytes.subarray(1)) })).toThrow(
			/read back has SHA-256/
		);
		expect(fs.readFileSync(file, 'utf8')).toBe('the previous version');
		expect(leftovers()).toEqual([]);
	});

	it('the disk.full-after-writes failpoint fills the disk after that many writes', async () => {
		await withFailpoints('disk.full-after-writes=1', async () => {
			writeFileDurably(path.join(folder.path, 'first.bin'), bytes);
			expect(() => writeFileDurably(path.join(folder.path, 'second.bin'), bytes)).toThrow(
				expect.objectContaining({ code: 'ENOSPC' })
			);
		});
		expect(fs.readdirSync(folder.path).sort()).toEqual(['data.bin', 'first.bin']);
	});
});

describe('writeFailure', () => {
	it('calls a full disk, an exhausted quota and a full SQLite database DISK_FULL', () => {
		for (const code of ['ENOSPC', 'EDQUOT', 'SQLITE_FULL']) {
			const failure = writeFailure(
				Object.assign(new Error(code), { code }),
				'a checkpoint',
				'/data'
			);
			expect(failure).toBeInstanceOf(AppFailure);
			expect(failure.code).toBe('DISK_FULL');
			expect(failure.message).toBe('The disk is full: cannot write a checkpoint into /data.');
		}
		const denied = writeFailure(
			Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }),
			'a checkpoint',
			'/data'
		);
		expect(denied.code).toBe('IO_ERROR');
		expect(denied.message).toContain('permission denied');
	});
});

/** A 2-class dataset of 4×4 grey images, 3 train and 2 test images. */
function tinyDataset(): EvalDataset {
	const split = (count: number) => ({
		images: { count, width: 4, height: 4, channels: 1 as const, data: new Uint8Array(count * 16) },
		labels: Int32Array.from({ length: count }, (_, i) => i % 2)
	});
	return { name: 'tiny', classes: ['a', 'b'], train: split(3), test: split(2), notes: [] };
}

describe('what is written on a full disk', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	beforeEach(() => {
		folder = temporaryFolder();
	});
	afterEach(() => folder.remove());

	const full = <T>(action: () => Promise<T>) => withFailpoints('disk.full-after-writes=0', action);
	const filesIn = (dir: string) =>
		fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [];

	it('a probe fails with DISK_FULL and leaves no file', async () => {
		const file = path.join(folder.path, 'probes', 'evaluation-1.nlprobe');
		const probe = {
			layer: 'fc6' as const,
			dim: 2,
			weight: new Float32Array(4),
			bias: new Float32Array(2),
			standardization: null,
			classes: ['a', 'b'],
			dataset: 'tiny',
			accuracy: 0.5
		};
		await full(async () => {
			expect(() => writeProbeFile(file, probe)).toThrow(
				expect.objectContaining({ code: 'DISK_FULL' })
			);
		});
		expect(filesIn(path.join(folder.path, 'probes'))).toEqual([]);
	});

	it('the feature cache serves the computed features and caches nothing', async () => {
		const features = Float32Array.from([1, 2, 3, 4]);
		const compute = async () => ({ features, dim: 2 });
		const first = await full(() => cachedFeatures(folder.path, { k: 1 }, compute));
		expect(first).toMatchObject({ dim: 2, cached: false });
		expect(filesIn(folder.path)).toEqual([]);
		await cachedFeatures(folder.path, { k: 1 }, compute);
		const again = await cachedFeatures(folder.path, { k: 1 }, compute);
		expect(again.cached).toBe(true);
		expect([...again.features]).toEqual([1, 2, 3, 4]);
	});

	it('the dataset cache serves the built dataset and caches nothing', async () => {
		const key = async () => ({ identity: { source: 'tiny' }, fingerprint: 'f' });
		const build = async () => tinyDataset();
		const first = await full(() => withDatasetCache(folder.path, key, build));
		expect(first).toMatchObject({ hit: false, file: null });
		expect(filesIn(folder.path)).toEqual([]);
		expect((await withDatasetCache(folder.path, key, build)).hit).toBe(false);
		expect((await withDatasetCache(folder.path, key, build)).hit).toBe(true);
	});

	it('the generator cache stores nothing and reads as not cached', async () => {
		const cache = diskCache(folder.path);
		await full(async () => cache.write('textures/1', Uint8Array.from([1, 2, 3])));
		expect(cache.read('textures/1')).toBeUndefined();
		expect(filesIn(folder.path).filter((name) => name.endsWith('.tmp'))).toEqual([]);
	});
});
