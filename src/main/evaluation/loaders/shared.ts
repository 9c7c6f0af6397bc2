/**
 * Pieces every dataset loader shares: failures with precise codes, cancellation, reading and
 * gunzipping files with errors that name the file, and per-class capping.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { AppFailure } from '../../../core/api/errors';
import type { LabelledSplit, PackedImages } from '../../../core/evaluation/dataset';

const gunzip = promisify(zlib.gunzip);

/** What a format loader gets besides its folder; every field already validated. */
export interface LoaderContext {
	seed: number;
	testFraction: number;
	storageSize: number;
	maxPerClass: number | null;
	signal: AbortSignal | undefined;
	onProgress: ((done: number, total: number) => void) | undefined;
}

/** An INVALID_REQUEST failure: the dataset on disk is not what a loader can use. */
export function invalidDataset(message: string): AppFailure {
	return new AppFailure('INVALID_REQUEST', message);
}

/** Throws CANCELLED once the caller aborted, so long loads stop between files or images. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
	if (signal?.aborted) throw new AppFailure('CANCELLED', `Loading ${what} was cancelled.`);
}

/** Reads a whole file; a missing or unreadable file fails with a message naming it. */
export async function readWholeFile(file: string): Promise<Buffer> {
	try {
		return await fs.readFile(file);
	} catch (error) {
		const reason = (error as NodeJS.ErrnoException).code ?? String(error);
		throw new AppFailure('IO_ERROR', `Could not read ${file} (${reason}).`);
	}
}

/** Reads a file and gunzips it when it starts with the gzip magic, whatever its name says. */
export async function readMaybeGzipped(file: string): Promise<Uint8Array> {
	const bytes = await readWholeFile(file);
	if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
	try {
		return await gunzip(bytes);
	} catch (error) {
		throw invalidDataset(
			`${file} is a damaged or truncated gzip file (${(error as Error).message}); ` +
				'download it again.'
		);
	}
}

/** `a/b/c.png` relative to `root`, with forward slashes, for notes and messages. */
export function displayPath(root: string, file: string): string {
	return path.relative(root, file).split(path.sep).join('/');
}

/** Up to `limit` items joined for a message, with "and N more" for the rest. */
export function listSome(items: readonly string[], limit = 3): string {
	const shown = items.slice(0, limit).join(', ');
	return items.length > limit ? `${shown} and ${items.length - limit} more` : shown;
}

/** `1 image`, `2 images`. */
export function plural(count: number, noun: string): string {
	return `${count.toLocaleString('en')} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Keeps the first `maxPerClass` images of each class, in their order. Loaders whose files are
 * already in random order (IDX, CIFAR) use it as is; the folder loader shuffles first.
 */
export function capPerClass(
	split: LabelledSplit,
	classCount: number,
	maxPerClass: number | null
): LabelledSplit {
	if (maxPerClass === null) return split;
	const kept: number[] = [];
	const seen = new Array<number>(classCount).fill(0);
	split.labels.forEach((label, index) => {
		if ((seen[label] ?? 0) < maxPerClass) {
			seen[label] = (seen[label] ?? 0) + 1;
			kept.push(index);
		}
	});
	if (kept.length === split.labels.length) return split;
	return selectImages(split, kept);
}

/** A split holding only the images at `indices`, in that order. */
export function selectImages(split: LabelledSplit, indices: readonly number[]): LabelledSplit {
	const { width, height, channels } = split.images;
	const stride = width * height * channels;
	const data = new Uint8Array(indices.length * stride);
	const labels = new Int32Array(indices.length);
	indices.forEach((source, target) => {
		data.set(split.images.data.subarray(source * stride, (source + 1) * stride), target * stride);
		labels[target] = split.labels[source] as number;
	});
	const images: PackedImages = { count: indices.length, width, height, channels, data };
	return { images, labels };
}

/** Images per class, for notes and checks. */
export function countPerClass(labels: Int32Array, classCount: number): number[] {
	const counts = new Array<number>(classCount).fill(0);
	for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
	return counts;
}

/** Class names from a text file with one name a line, or null when it is absent or empty. */
export async function readClassNames(file: string): Promise<string[] | null> {
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch {
		return null;
	}
	const names = text
		.split(/\r?\n/)
		.map((line) => line.trim())
		.filter((line) => line !== '');
	return names.length > 0 ? names : null;
}
