/**
 * Extracted features on disk, so that an encoder is not run twice over the same images: the
 * random-init control is re-measured in every evaluation group, and a kNN after a linear probe
 * needs the same test features. A file is keyed by everything the features depend on — the
 * encoder's weights (checkpoint hash, or architecture and seed at random init), the images and
 * labels themselves (hashed), the layer and the view — so a cached file is exactly what would
 * be computed. The folder is pruned to a size budget, oldest first.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LabelledSplit } from '../../core/evaluation/dataset';
import { writeFileDurably } from '../durable-file';

/** The most the feature cache may hold before old files are deleted. */
const budgetBytes = 2 * 2 ** 30;

const splitHashes = new WeakMap<LabelledSplit, string>();

/** A content hash of a split's images and labels (memoised per split object). */
export function splitHash(split: LabelledSplit): string {
	let hash = splitHashes.get(split);
	if (!hash) {
		const { images, labels } = split;
		hash = crypto
			.createHash('sha256')
			.update(`${images.count}x${images.width}x${images.height}x${images.channels}`)
			.update(images.data)
			.update(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength))
			.digest('hex');
		splitHashes.set(split, hash);
	}
	return hash;
}

/** Reads features cached under `identity`, or computes, stores and returns them. */
export async function cachedFeatures(
	folder: string | null,
	identity: Record<string, unknown>,
	compute: () => Promise<{ features: Float32Array; dim: number }>
): Promise<{ features: Float32Array; dim: number; cached: boolean }> {
	if (!folder) return { ...(await compute()), cached: false };
	const key = crypto.createHash('sha256').update(JSON.stringify(identity)).digest('hex');
	const file = path.join(folder, `${key}.f32`);
	try {
		const bytes = fs.readFileSync(file);
		const dim = bytes.readUInt32LE(0);
		const features = new Float32Array(
			bytes.buffer.slice(bytes.byteOffset + 4, bytes.byteOffset + bytes.length)
		);
		if (dim > 0 && features.length % dim === 0) {
			// Touch it, so pruning removes the least recently used first.
			const now = new Date();
			fs.utimesSync(file, now, now);
			return { features, dim, cached: true };
		}
	} catch {
		// Not cached (or unreadable): compute it.
	}
	const result = await compute();
	try {
		const header = Buffer.alloc(4);
		header.writeUInt32LE(result.dim, 0);
		writeFileDurably(file, [
			header,
			new Uint8Array(result.features.buffer, result.features.byteOffset, result.features.byteLength)
		]);
		prune(folder);
	} catch {
		// A cache that cannot be written (a full disk) only costs time; nothing half-written stays.
	}
	return { ...result, cached: false };
}

function prune(folder: string): void {
	const files = fs
		.readdirSync(folder)
		.filter((name) => name.endsWith('.f32'))
		.map((name) => {
			const stat = fs.statSync(path.join(folder, name));
			return { name, size: stat.size, used: stat.mtimeMs };
		})
		.sort((a, b) => b.used - a.used);
	let total = 0;
	for (const file of files) {
		total += file.size;
		if (total > budgetBytes) fs.rmSync(path.join(folder, file.name), { force: true });
	}
}
