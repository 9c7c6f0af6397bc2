/**
 * Encoders pinned for generators, by content: `<cache>/encoders/<sha256>.nlck` is a hard link
 * (else a copy) of a run's checkpoint. The main process pins an encoder when it resolves a
 * configuration (`services/trained-encoders.ts`); every generating worker reads it from there by
 * the SHA-256 the parameter names. Pinning keeps a dataset reproducible after its run prunes
 * that checkpoint or is deleted, and needs no per-worker plumbing: workers already find the
 * cache folder through `NOISELAB_CACHE_DIR`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppFailure } from '../../core/api/errors';
import type { EncoderWeightsSource } from '../../core/generators/trained-encoders';
import { modelPresetIds, type ModelPresetId } from '../../core/training/config';
import { readCheckpoint } from '../training/checkpoint-files';

/** Where the checkpoint with this SHA-256 is pinned. */
export function pinnedEncoderPath(cacheDir: string, sha256: string): string {
	return path.join(cacheDir, 'encoders', `${sha256}.nlck`);
}

/**
 * Pins the checkpoint `file` under its SHA-256 (a no-op when it is pinned already). The file is
 * hashed first, so a damaged checkpoint is never pinned under the hash it should have.
 */
export function pinEncoder(cacheDir: string, file: string, sha256: string): string {
	const target = pinnedEncoderPath(cacheDir, sha256);
	if (fs.existsSync(target)) return target;
	let actual: string;
	try {
		actual = hashFile(file);
	} catch (error) {
		throw new AppFailure(
			'NOT_FOUND',
			`Cannot read checkpoint ${file}: ${(error as Error).message}`
		);
	}
	if (actual !== sha256) {
		throw new AppFailure(
			'IO_ERROR',
			`Checkpoint ${file} is damaged: its SHA-256 is ${actual.slice(0, 12)}…, expected ${sha256.slice(0, 12)}….`
		);
	}
	fs.mkdirSync(path.dirname(target), { recursive: true });
	const temporary = `${target}.${process.pid}.tmp`;
	try {
		try {
			fs.linkSync(file, temporary);
		} catch {
			// Another file system, or no hard links: a copy does as well.
			fs.copyFileSync(file, temporary);
		}
		fs.renameSync(temporary, target);
	} catch (error) {
		fs.rmSync(temporary, { force: true });
		throw new AppFailure(
			'IO_ERROR',
			`Cannot pin the encoder into ${path.dirname(target)}: ${(error as Error).message}`
		);
	}
	return target;
}

/** The SHA-256 of a file, read in chunks (the paper's encoder's checkpoint is ~0.7 GB). */
function hashFile(file: string): string {
	const hash = crypto.createHash('sha256');
	const chunk = Buffer.alloc(8 * 2 ** 20);
	const descriptor = fs.openSync(file, 'r');
	try {
		for (;;) {
			const read = fs.readSync(descriptor, chunk, 0, chunk.length, null);
			if (read === 0) break;
			hash.update(chunk.subarray(0, read));
		}
	} finally {
		fs.closeSync(descriptor);
	}
	return hash.digest('hex');
}

/**
 * The workers' {@link EncoderWeightsSource}: reads and verifies pinned checkpoints in
 * `cacheDir`. A missing one is a NOT_FOUND that says how to get it back.
 */
export function pinnedEncoderWeights(cacheDir: string): EncoderWeightsSource {
	return (encoder) => {
		const file = pinnedEncoderPath(cacheDir, encoder.sha256);
		if (!fs.existsSync(file)) {
			throw new AppFailure(
				'NOT_FOUND',
				`Run ${encoder.runId}'s checkpoint ${encoder.sha256.slice(0, 12)}… is not pinned in ${path.dirname(file)}. Generate through the app or \`noiselab generate\`, which pin it from the run's checkpoint; if that checkpoint is gone too, name another (encoder=run:${encoder.runId}) or train again.`
			);
		}
		const { meta, tensors } = readCheckpoint(file, encoder.sha256);
		const model = meta.model as ModelPresetId;
		if (!modelPresetIds.includes(model)) {
			throw new AppFailure(
				'IO_ERROR',
				`Checkpoint ${file} names no known encoder preset (model ${JSON.stringify(meta.model)}).`
			);
		}
		return { model, tensors };
	};
}
