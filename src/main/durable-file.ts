/**
 * Durable file writes: after a crash a file is either its old self or complete, and a write the
 * disk refuses (full, over quota, short) fails loudly instead of leaving a truncated file that a
 * later reader calls damaged.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppFailure } from '../core/api/errors';
import { failpoint, failpointsVariable } from './failpoints';

/**
 * Writes up to `length` bytes of `bytes` from `offset` and returns how many it wrote, like
 * `fs.writeSync`. Injectable so that tests can make a disk write short or fail.
 */
export type WriteChunk = (fd: number, bytes: Uint8Array, offset: number, length: number) => number;

/** Options of {@link writeFileDurably}. */
export interface DurableWriteOptions {
	/** The SHA-256 (hex) the file must have: it is read back and checked after the fsync. */
	sha256?: string;
	/** Replaces `fs.writeSync` (tests). */
	write?: WriteChunk;
	/** Create the file's folder when it is missing (default true). */
	createFolder?: boolean;
}

/** Error codes that mean the disk, or the user's quota on it, has no room left (SQLite's too). */
const diskFullCodes = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Durable writes since the `disk.full-after-writes` failpoint was armed as `spec`. */
let armedWrites = { spec: '', count: 0 };

/**
 * Writes `contents` (bytes, or parts written one after the other) so that `file` is either its
 * old self or complete, even if the process or the machine stops half-way: into a temporary
 * file beside it (`….tmp`), every byte (a short write is continued, a write that makes no
 * progress is a full disk), flushed to disk, checked (size, and the SHA-256 when given), then
 * renamed over `file`. On failure the temporary file is removed and the error is rethrown;
 * {@link writeFailure} turns it into a user-facing one.
 */
export function writeFileDurably(
	file: string,
	contents: Uint8Array | readonly Uint8Array[],
	options: DurableWriteOptions = {}
): void {
	const parts = contents instanceof Uint8Array ? [contents] : contents;
	const total = parts.reduce((sum, part) => sum + part.length, 0);
	const write = options.write ?? systemWrite();
	// Unique per call: threads of one process may write the same file at once (shared caches).
	const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
	try {
		if (options.createFolder !== false) fs.mkdirSync(path.dirname(file), { recursive: true });
		const fd = fs.openSync(temporary, 'w+');
		try {
			let stored = 0;
			for (const part of parts) {
				for (let offset = 0; offset < part.length;) {
					const written = write(fd, part, offset, part.length - offset);
					if (!(written > 0)) {
						throw errnoError(
							'ENOSPC',
							`the disk accepted ${stored} of ${total} bytes and then no more`
						);
					}
					offset += written;
					stored += written;
				}
			}
			fs.fsyncSync(fd);
			verifyWritten(fd, total, options.sha256);
		} finally {
			fs.closeSync(fd);
		}
		fs.renameSync(temporary, file);
		syncFolder(path.dirname(file));
	} catch (error) {
		fs.rmSync(temporary, { force: true });
		throw error;
	}
}

/** Whether an error means that the disk is full (or the quota used up). */
export function isDiskFull(error: unknown): boolean {
	return diskFullCodes.has((error as NodeJS.ErrnoException | null)?.code ?? '');
}

/**
 * The user-facing failure of writing `what` (e.g. "a 14 MiB checkpoint") into `folder`:
 * DISK_FULL when the disk or quota is full, IO_ERROR otherwise. An AppFailure passes through.
 */
export function writeFailure(error: unknown, what: string, folder: string): AppFailure {
	if (error instanceof AppFailure) return error;
	if (isDiskFull(error)) {
		return new AppFailure('DISK_FULL', `The disk is full: cannot write ${what} into ${folder}.`);
	}
	return new AppFailure(
		'IO_ERROR',
		`Cannot write ${what} into ${folder}: ${(error as Error).message}`
	);
}

/** A size in MiB for messages, e.g. "14.4 MiB". */
export function mebibytes(bytes: number): string {
	return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Reads back what the file holds after the fsync: its size, and its hash when one is known. */
function verifyWritten(fd: number, expectedBytes: number, sha256: string | undefined): void {
	const { size } = fs.fstatSync(fd);
	if (size !== expectedBytes) {
		// The filesystem kept fewer bytes than it acknowledged: treat it as the full disk it is.
		throw errnoError('ENOSPC', `the file holds ${size} of ${expectedBytes} bytes after fsync`);
	}
	if (sha256 === undefined) return;
	const hash = crypto.createHash('sha256');
	const chunk = Buffer.alloc(Math.min(expectedBytes, 4 * 2 ** 20) || 1);
	for (let position = 0; position < expectedBytes;) {
		const read = fs.readSync(fd, chunk, 0, chunk.length, position);
		if (read === 0) break;
		hash.update(chunk.subarray(0, read));
		position += read;
	}
	const actual = hash.digest('hex');
	if (actual !== sha256) {
		throw errnoError(
			'EIO',
			`the file read back has SHA-256 ${actual.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…`
		);
	}
}

/** Makes a rename durable: the folder entry itself is flushed (not possible on every platform). */
function syncFolder(folder: string): void {
	let fd: number | undefined;
	try {
		fd = fs.openSync(folder, 'r');
		fs.fsyncSync(fd);
	} catch {
		// Windows cannot open a folder for fsync; its rename is durable by other means.
	} finally {
		if (fd !== undefined) fs.closeSync(fd);
	}
}

/**
 * `fs.writeSync`, unless the `disk.full-after-writes` failpoint says this process's disk is
 * full: then the write stores half its bytes and the next one fails with ENOSPC.
 */
function systemWrite(): WriteChunk {
	const fullAfter = failpoint('disk.full-after-writes');
	if (fullAfter === null) return fs.writeSync;
	// Writes are counted from when this spec was armed, so earlier writes do not count.
	const spec = process.env[failpointsVariable] ?? '';
	if (armedWrites.spec !== spec) armedWrites = { spec, count: 0 };
	armedWrites.count++;
	if (armedWrites.count <= fullAfter) return fs.writeSync;
	let calls = 0;
	return (fd, bytes, offset, length) => {
		if (calls++ === 0) return fs.writeSync(fd, bytes, offset, Math.ceil(length / 2));
		throw errnoError('ENOSPC', 'no space left on device (failpoint disk.full-after-writes)');
	};
}

function errnoError(code: string, message: string): NodeJS.ErrnoException {
	return Object.assign(new Error(`${code}: ${message}`), { code });
}
