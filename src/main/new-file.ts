/**
 * Writing a file at a path a user (or a web client) chose, without ever replacing a file that
 * NoiseLab did not write: a taken name becomes `name (2).ext`, and an explicit `overwrite`
 * replaces only a file the caller recognises as its own.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppFailure } from '../core/api/errors';
import { isDiskFull, writeFailure } from './durable-file';

/** How {@link writeNewFile} treats a target that exists. */
export interface NewFileOptions {
	/** Replace an existing target, when `isReplaceable` says NoiseLab wrote it. */
	overwrite: boolean;
	/** Whether an existing regular file is one of ours (e.g. starts with our signature). */
	isReplaceable: (file: string) => boolean;
	/** What the file is, for messages: "bundle". */
	what: string;
}

/** The n-th alternative name: `run.nlrun` → `run (2).nlrun`. */
export function numberedName(file: string, n: number): string {
	const extension = path.extname(file);
	return `${file.slice(0, file.length - extension.length)} (${n})${extension}`;
}

/**
 * Writes `bytes` to `target`, or to the first free numbered name when `target` exists, and
 * returns the path written. The bytes go to a temporary file first (created exclusively, never
 * through an existing link), flushed to disk, then linked to the free name, so a name that
 * appears meanwhile is not replaced either. Failures are AppFailures: INVALID_REQUEST for a
 * folder or a file that may not be replaced, DISK_FULL, IO_ERROR.
 */
export function writeNewFile(target: string, bytes: Uint8Array, options: NewFileOptions): string {
	const existing = fs.lstatSync(target, { throwIfNoEntry: false });
	if (existing?.isDirectory()) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`${target} is a folder; give the ${options.what} a file name inside it.`
		);
	}
	if (options.overwrite && existing && !(existing.isFile() && options.isReplaceable(target))) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`${target} exists and is not a NoiseLab ${options.what}; NoiseLab replaces only files it wrote. Choose another file name.`
		);
	}
	const temporary = path.join(
		path.dirname(target),
		`.${path.basename(target)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`
	);
	try {
		const fd = fs.openSync(temporary, 'wx');
		try {
			fs.writeFileSync(fd, bytes);
			fs.fsyncSync(fd);
		} finally {
			fs.closeSync(fd);
		}
		if (options.overwrite && existing) {
			fs.renameSync(temporary, target);
			return target;
		}
		return linkToFreeName(temporary, target);
	} catch (error) {
		fs.rmSync(temporary, { force: true });
		if (error instanceof AppFailure) throw error;
		if (isDiskFull(error)) {
			throw writeFailure(
				error,
				`the ${options.what} ${path.basename(target)}`,
				path.dirname(target)
			);
		}
		throw new AppFailure('IO_ERROR', `Cannot write ${target}: ${(error as Error).message}`);
	}
}

/** Gives the temporary file the first free name of target, target (2), …; returns it. */
function linkToFreeName(temporary: string, target: string): string {
	for (let n = 1; n <= 1000; n++) {
		const candidate = n === 1 ? target : numberedName(target, n);
		try {
			// link() fails with EEXIST instead of replacing: no check-then-write race.
			fs.linkSync(temporary, candidate);
			fs.rmSync(temporary);
			return candidate;
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code === 'EEXIST') continue;
			if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
			// A file system without hard links (FAT, some network shares): check, then rename.
			if (fs.lstatSync(candidate, { throwIfNoEntry: false })) continue;
			fs.renameSync(temporary, candidate);
			return candidate;
		}
	}
	throw new AppFailure(
		'INVALID_REQUEST',
		`${target} and 999 numbered names beside it are taken; choose another file name.`
	);
}
