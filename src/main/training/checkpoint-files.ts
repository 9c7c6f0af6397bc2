/**
 * Checkpoint files on disk: written atomically (temporary file, fsync, rename), named by step,
 * verified by SHA-256 on load, and pruned to the last few so a long run does not fill the disk.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mebibytes, writeFailure, writeFileDurably } from '../durable-file';
import { AppFailure } from '../../core/api/errors';
import type { CheckpointRecord } from '../../core/api/training';
import {
	decodeCheckpoint,
	encodeCheckpoint,
	type CheckpointContents
} from '../../core/training/checkpoint';

/** The file name of the checkpoint at `step`. */
export function checkpointFileName(step: number): string {
	return `step-${String(step).padStart(8, '0')}.nlck`;
}

/**
 * Writes a checkpoint so that a crash at any moment leaves either the old or the new file, and
 * returns its record only once the file on disk holds every byte with the right SHA-256. A disk
 * that is full fails with DISK_FULL (a short or refused write), anything else with IO_ERROR.
 */
export function writeCheckpoint(
	folder: string,
	step: number,
	contents: CheckpointContents
): Omit<CheckpointRecord, 'createdAt'> {
	const bytes = encodeCheckpoint(contents);
	const target = path.join(folder, checkpointFileName(step));
	const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
	try {
		writeFileDurably(target, bytes, { sha256 });
	} catch (error) {
		throw writeFailure(error, `the ${mebibytes(bytes.length)} checkpoint of step ${step}`, folder);
	}
	return { step, path: target, bytes: bytes.length, sha256 };
}

/** Reads and verifies a checkpoint; a missing, truncated or altered file is a clear error. */
export function readCheckpoint(file: string, sha256?: string): CheckpointContents {
	let bytes: Buffer;
	try {
		bytes = fs.readFileSync(file);
	} catch (error) {
		throw new AppFailure(
			'NOT_FOUND',
			`Cannot read checkpoint ${file}: ${(error as Error).message}`
		);
	}
	if (sha256 !== undefined) {
		const actual = crypto.createHash('sha256').update(bytes).digest('hex');
		if (actual !== sha256) {
			throw new AppFailure(
				'IO_ERROR',
				`Checkpoint ${file} is damaged: its SHA-256 is ${actual.slice(0, 12)}…, expected ${sha256.slice(0, 12)}….`
			);
		}
	}
	try {
		return decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
	} catch (error) {
		throw new AppFailure(
			'IO_ERROR',
			`Checkpoint ${file} is unreadable: ${(error as Error).message}`
		);
	}
}
