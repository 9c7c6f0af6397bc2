/**
 * Training images by index: a generator streamed on the fly (a "virtual dataset", nothing on
 * disk) or a folder of image files. Both are opened the same way in the training process and in
 * each data thread, and give the same image for the same index everywhere.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodeRgb, imageExtensions } from '../image-files';
import { AppFailure } from '../../core/api/errors';
import { imageAt, type PackedImages } from '../../core/evaluation/dataset';
import { resolveConfig } from '../../core/generators/registry';
import type { SourceImage } from '../../core/training/augment';
import type { TrainSource } from '../../core/training/config';
import { activateGeneratorBackend } from '../compute/activate-backend';
import { loadDataset } from '../evaluation/loaders';

/** A dataset of `count` images addressed by index. */
export interface TrainDataSource {
	readonly count: number;
	/** What the UI shows, e.g. "dead_leaves-mixed · virtual · 105,000 images". */
	readonly label: string;
	/**
	 * Image `index` (0..count-1) as RGB bytes. Throws on an unreadable image; the message names
	 * the file and the reason, so it can be shown to the user as it is.
	 */
	load(index: number): Promise<SourceImage>;
}

const countFormat = new Intl.NumberFormat('en-US');

/**
 * Opens a source; fails with INVALID_REQUEST for a bad generator config or an unusable folder,
 * and as the evaluation loaders do for an unusable dataset.
 */
export async function openDataSource(source: TrainSource): Promise<TrainDataSource> {
	if (source.kind === 'generator') return openGeneratorSource(source);
	if (source.kind === 'dataset') return datasetDataSource(source, await loadTrainingSplit(source));
	const folder = path.resolve(source.path);
	return folderDataSource(folder, await scanImageFolder(folder), source.maxSide);
}

function openGeneratorSource(source: Extract<TrainSource, { kind: 'generator' }>): TrainDataSource {
	const resolved = resolveConfig(source.config);
	if (!resolved.ok) throw new AppFailure('INVALID_REQUEST', resolved.message);
	const { generator, params, size, preset } = resolved.value;
	const customised = Object.keys(source.config.params).length > 0;
	const name = preset === null ? generator.id : customised ? `${preset} (custom)` : preset;
	const { count, seed } = source;
	return {
		count,
		label: `${name} · virtual · ${countFormat.format(count)} images`,
		async load(index) {
			checkIndex(index, count);
			// Only on first use: the training process opens sources for their count and label and
			// must not have its own tfjs backend switched by a source it never loads from.
			if (generator.family === 'feature_vis') await activateGeneratorBackend();
			const image = await generator.generate(params, seed, index, size);
			return { width: image.size, height: image.size, data: image.data };
		}
	};
}

/**
 * The image files under `folder`, recursively, as paths relative to it with `/` separators,
 * sorted by code point so the order (and so each index) is the same on every machine. Hidden
 * files and folders are ignored (`._x.jpg` resource forks are not images). Throws an
 * INVALID_REQUEST AppFailure naming the folder when it is missing or holds no images.
 */
export async function scanImageFolder(folder: string): Promise<string[]> {
	let stat;
	try {
		stat = await fs.stat(folder);
	} catch {
		throw new AppFailure('INVALID_REQUEST', `The image folder ${folder} does not exist.`);
	}
	if (!stat.isDirectory()) {
		throw new AppFailure('INVALID_REQUEST', `${folder} is a file, not a folder of images.`);
	}
	const images: string[] = [];
	const others = new Map<string, number>();
	const visit = async (relative: string): Promise<void> => {
		let entries;
		try {
			entries = await fs.readdir(path.join(folder, relative), { withFileTypes: true });
		} catch (error) {
			throw new AppFailure(
				'IO_ERROR',
				`Cannot read the folder ${path.join(folder, relative)}: ${(error as Error).message}`
			);
		}
		for (const entry of entries) {
			if (entry.name.startsWith('.')) continue;
			const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
			// Symlinked folders are not followed: they can form loops.
			if (entry.isDirectory()) await visit(child);
			else if (entry.isFile() || entry.isSymbolicLink()) {
				const extension = path.extname(entry.name).toLowerCase();
				if (imageExtensions.has(extension)) images.push(child);
				else others.set(extension || '(none)', (others.get(extension || '(none)') ?? 0) + 1);
			}
		}
	};
	await visit('');
	if (images.length === 0) {
		const found =
			others.size === 0
				? 'it is empty'
				: `it holds ${[...others]
						.sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
						.map(([extension, n]) => `${n} ${extension}`)
						.join(', ')} file(s)`;
		throw new AppFailure(
			'INVALID_REQUEST',
			`No images in ${folder}: ${found}. Supported: ${[...imageExtensions].join(' ')}.`
		);
	}
	return images.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A folder source over an already scanned file list (see {@link scanImageFolder}); data threads
 * get the list from the training process, so all of them agree on every index.
 */
export function folderDataSource(
	folder: string,
	files: readonly string[],
	maxSide: number
): TrainDataSource {
	return {
		count: files.length,
		label: `${path.basename(folder)} · folder · ${countFormat.format(files.length)} images`,
		async load(index) {
			checkIndex(index, files.length);
			const relative = files[index] as string;
			try {
				return await decodeRgb(path.join(folder, relative), maxSide);
			} catch (error) {
				throw new Error(`${relative}: ${firstLine(error)}`, { cause: error });
			}
		}
	};
}

type DatasetSource = Extract<TrainSource, { kind: 'dataset' }>;

/**
 * The training split of a dataset source, decoded by the evaluation loaders (so the split is
 * the one its evaluations use with the same seed) and copied into shared memory, so that data
 * threads read the same bytes without a copy each.
 */
export async function loadTrainingSplit(source: DatasetSource): Promise<PackedImages> {
	const dataset = await loadDataset(source.dataset, { seed: source.splitSeed });
	const { images } = dataset.train;
	const data = new Uint8Array(new SharedArrayBuffer(images.data.byteLength));
	data.set(images.data);
	return { ...images, data };
}

/** A dataset source over its already loaded training split (see {@link loadTrainingSplit}). */
export function datasetDataSource(source: DatasetSource, images: PackedImages): TrainDataSource {
	const name = path.isAbsolute(source.dataset) ? path.basename(source.dataset) : source.dataset;
	return {
		count: images.count,
		label: `${name} · training split · ${countFormat.format(images.count)} images`,
		load(index) {
			checkIndex(index, images.count);
			return Promise.resolve(imageAt(images, index));
		}
	};
}

function checkIndex(index: number, count: number): void {
	if (!Number.isInteger(index) || index < 0 || index >= count) {
		throw new RangeError(`Image index ${index} is outside 0..${count - 1}.`);
	}
}

function firstLine(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	return message.split('\n')[0] ?? message;
}
