/**
 * The one entry point for real datasets: a built-in name (`fashion-mnist-mini`,
 * `fashion-mnist`) or an absolute path, detected as CIFAR-10/100 binary, MNIST-format IDX or an
 * image folder, decoded once and then served from the on-disk cache.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { AppFailure } from '../../../core/api/errors';
import type { EvalDataset } from '../../../core/evaluation/dataset';
import { fingerprintFiles, withDatasetCache, type DatasetCacheKey } from '../dataset-cache';
import { findCifarFiles, loadCifarFolder, type CifarFiles } from './cifar';
import { findIdxFiles, loadIdxFolder, type IdxFiles } from './idx';
import { imageExtensions } from '../../image-files';
import { loadImageFolder, planImageFolder, type ImageFolderPlan } from './image-folder';
import { invalidDataset, listSome, plural, type LoaderContext } from './shared';

/** How {@link loadDataset} reads and caches a dataset. */
export interface LoadOptions {
	/** Seed of the stratified split of folders without train/ and val/; default 0. */
	seed?: number;
	/** Share of each class held out for testing when a folder has no split; default 0.2. */
	testFraction?: number;
	/** Side of the square that folder images are stored at (shorter side, centre crop); default 80. */
	storageSize?: number;
	/** At most this many images per class in each split. */
	maxPerClass?: number;
	/** Where decoded datasets are cached (the app passes `<data>/cache/datasets`); null: no cache. */
	cacheDir?: string | null;
	signal?: AbortSignal;
	onProgress?: (done: number, total: number) => void;
}

/** A dataset that ships with the app or that a system package provides. */
export interface BuiltinDatasetInfo {
	name: string;
	description: string;
	available: boolean;
	/** Where it is, or what to do to get it. */
	detail: string;
}

/** The datasets named rather than given by path. */
export const builtinDatasetNames: readonly string[] = ['fashion-mnist-mini', 'fashion-mnist'];

/** Fashion-MNIST's labels 0–9. */
export const fashionMnistClasses = [
	'T-shirt/top',
	'Trouser',
	'Pullover',
	'Dress',
	'Coat',
	'Sandal',
	'Shirt',
	'Sneaker',
	'Bag',
	'Ankle boot'
] as const;

/** Where Debian's `dataset-fashion-mnist` package installs the full dataset. */
export const debianFashionMnistDir = '/usr/share/datasets/fashion-mnist';

/**
 * Where the full Fashion-MNIST is looked for: Debian's package folder, unless
 * NOISELAB_FASHION_MNIST_DIR names another folder of its IDX files.
 */
export function fashionMnistDir(): string {
	return process.env.NOISELAB_FASHION_MNIST_DIR ?? debianFashionMnistDir;
}

const fashionMnistFiles = [
	'train-images-idx3-ubyte.gz',
	'train-labels-idx1-ubyte.gz',
	't10k-images-idx3-ubyte.gz',
	't10k-labels-idx1-ubyte.gz'
];

/**
 * The app's `resources/` folder: in a packaged app `process.resourcesPath` (electron-builder's
 * extraResources put `datasets/` there); in a checkout and in the `dist/` bundles the nearest
 * `resources/` above this code. Falls back to `<cwd>/resources`.
 */
export function resolveResourcesDir(): string {
	const holdsDatasets = (folder: string) => fs.existsSync(path.join(folder, 'datasets'));
	const packaged = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
	if (packaged && holdsDatasets(packaged)) return packaged;
	// src/main/evaluation/loaders, dist/cli, dist/workers, or app.asar/dist/… when packaged.
	let folder = __dirname;
	for (let depth = 0; depth < 8; depth++) {
		const candidate = path.join(folder, 'resources');
		if (holdsDatasets(candidate)) return candidate;
		const parent = path.dirname(folder);
		if (parent === folder) break;
		folder = parent;
	}
	return path.join(process.cwd(), 'resources');
}

function miniDir(): string {
	return path.join(resolveResourcesDir(), 'datasets', 'fashion-mnist-mini');
}

function hasAll(folder: string, files: readonly string[]): boolean {
	return files.every((file) => fs.existsSync(path.join(folder, file)));
}

/** The built-in datasets and whether each is on this machine. */
export async function listBuiltinDatasets(): Promise<BuiltinDatasetInfo[]> {
	const mini = miniDir();
	const miniThere = hasAll(mini, fashionMnistFiles);
	const fullThere = hasAll(fashionMnistDir(), fashionMnistFiles);
	return [
		{
			name: 'fashion-mnist-mini',
			description:
				'Fashion-MNIST subset bundled with NoiseLab: 5,000 train and 1,000 test 28×28 ' +
				'grayscale images, 10 classes (MIT, Zalando SE).',
			available: miniThere,
			detail: miniThere ? mini : `Missing from ${mini}; reinstall NoiseLab.`
		},
		{
			name: 'fashion-mnist',
			description:
				'Full Fashion-MNIST: 60,000 train and 10,000 test 28×28 grayscale images, 10 classes.',
			available: fullThere,
			detail: fullThere
				? fashionMnistDir()
				: 'Not installed: install the Debian package dataset-fashion-mnist ' +
					'(sudo apt install dataset-fashion-mnist), or pass the folder of its IDX files.'
		}
	];
}

/** A format the loader recognised in a folder, with what it needs to load and to key the cache. */
type Source =
	| { format: 'idx'; folder: string; files: IdxFiles; classNames?: readonly string[] }
	| { format: 'cifar'; folder: string; files: CifarFiles }
	| { format: 'image-folder'; folder: string; plan: ImageFolderPlan };

function contextFrom(options: LoadOptions): LoaderContext {
	const seed = options.seed ?? 0;
	const testFraction = options.testFraction ?? 0.2;
	const storageSize = options.storageSize ?? 80;
	const maxPerClass = options.maxPerClass ?? null;
	if (!Number.isInteger(seed)) throw invalidDataset(`seed must be an integer, got ${seed}.`);
	if (!(testFraction > 0 && testFraction < 1)) {
		throw invalidDataset(`testFraction must be between 0 and 1 (exclusive), got ${testFraction}.`);
	}
	if (!Number.isInteger(storageSize) || storageSize < 8 || storageSize > 1024) {
		throw invalidDataset(`storageSize must be an integer from 8 to 1024, got ${storageSize}.`);
	}
	if (maxPerClass !== null && !(Number.isInteger(maxPerClass) && maxPerClass >= 1)) {
		throw invalidDataset(`maxPerClass must be a positive integer, got ${maxPerClass}.`);
	}
	return {
		seed,
		testFraction,
		storageSize,
		maxPerClass,
		signal: options.signal,
		onProgress: options.onProgress
	};
}

/**
 * "3 files (2 .txt, 1 .json) and no sub-folders", for the "not a dataset" message: counts and
 * extensions, never the names, so an error cannot list a folder's contents.
 */
function describeFolder(fileNames: readonly string[]): string {
	const images = fileNames.filter((name) => imageExtensions.has(path.extname(name).toLowerCase()));
	if (fileNames.length === 0) return 'it is empty';
	if (images.length > 0) {
		return (
			`it holds ${plural(images.length, 'image')} directly but no class sub-folders; put ` +
			'each class in its own sub-folder (e.g. cat/1.jpg, dog/2.jpg)'
		);
	}
	const extensions = new Map<string, number>();
	for (const name of fileNames) {
		const extension = path.extname(name).toLowerCase() || '(no extension)';
		extensions.set(extension, (extensions.get(extension) ?? 0) + 1);
	}
	const kinds = [...extensions]
		.sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
		.map(([extension, count]) => `${count} ${extension}`);
	return `it holds ${plural(fileNames.length, 'file')} (${listSome(kinds)}) and no sub-folders`;
}

async function detectSource(folder: string): Promise<Source> {
	const stat = await fsp.stat(folder).catch(() => null);
	if (!stat) throw new AppFailure('NOT_FOUND', `No file or folder at ${folder}.`);
	if (!stat.isDirectory()) {
		throw invalidDataset(
			`${folder} is a file, not a folder. Extract archives first, then choose the folder ` +
				'that holds the images or the data files.'
		);
	}
	const entries = await fsp.readdir(folder, { withFileTypes: true });
	const fileNames = entries
		.filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
		.map((entry) => entry.name)
		.sort();
	const cifar = findCifarFiles(folder, fileNames);
	if (cifar) return { format: 'cifar', folder, files: cifar };
	const idx = findIdxFiles(folder, fileNames);
	if (idx) {
		const isDebianFashion = path.resolve(folder) === fashionMnistDir();
		return {
			format: 'idx',
			folder,
			files: idx,
			...(isDebianFashion ? { classNames: fashionMnistClasses } : {})
		};
	}
	// The official archives extract into one of these; accept the folder above it too.
	for (const inner of ['cifar-10-batches-bin', 'cifar-100-binary']) {
		if (entries.some((entry) => entry.isDirectory() && entry.name === inner)) {
			return detectSource(path.join(folder, inner));
		}
	}
	const plan = await planImageFolder(folder);
	if (plan) return { format: 'image-folder', folder, plan };
	throw invalidDataset(
		`${folder} is not a dataset NoiseLab can read: ${describeFolder(fileNames)}. ` +
			'Expected one sub-folder of images per class (optionally inside train/ and val/), ' +
			'CIFAR-10/100 binary files (data_batch_1.bin… or train.bin/test.bin) or MNIST-format ' +
			'IDX files (train-images-idx3-ubyte[.gz]…).'
	);
}

function cacheKeyOf(
	source: Source,
	context: LoaderContext,
	name: string
): () => Promise<DatasetCacheKey> {
	const common = { name, path: path.resolve(source.folder), maxPerClass: context.maxPerClass };
	switch (source.format) {
		case 'idx': {
			const { trainImages, trainLabels, testImages, testLabels } = source.files;
			const files = [trainImages, trainLabels, testImages, testLabels];
			const classesFile = path.join(source.folder, 'classes.txt');
			if (fs.existsSync(classesFile)) files.push(classesFile);
			return async () => ({
				identity: { format: 'idx', ...common, classNames: source.classNames ?? null },
				fingerprint: await fingerprintFiles(files)
			});
		}
		case 'cifar': {
			const files = [...source.files.train, ...source.files.test];
			if (fs.existsSync(source.files.namesFile)) files.push(source.files.namesFile);
			return async () => ({
				identity: { format: source.files.variant, ...common },
				fingerprint: await fingerprintFiles(files)
			});
		}
		case 'image-folder': {
			const { seed, testFraction, storageSize } = context;
			return async () => ({
				identity: { format: 'image-folder', ...common, seed, testFraction, storageSize },
				// The plan's file list is its structure: a moved or added file changes it too.
				fingerprint: await fingerprintFiles(source.plan.files)
			});
		}
	}
}

function loadSource(source: Source, context: LoaderContext, name: string): Promise<EvalDataset> {
	switch (source.format) {
		case 'idx':
			return loadIdxFolder(source.folder, source.files, context, {
				name,
				...(source.classNames ? { classNames: source.classNames } : {})
			});
		case 'cifar':
			return loadCifarFolder(source.folder, source.files, context, name);
		case 'image-folder':
			return loadImageFolder(source.plan, context, name);
	}
}

/** Resolves a spec to the folder to read, the dataset's name and any fixed class names. */
function resolveSpec(spec: string): {
	folder: string;
	name: string;
	classNames?: readonly string[];
} {
	if (spec === 'fashion-mnist-mini') {
		const folder = miniDir();
		if (!hasAll(folder, fashionMnistFiles)) {
			throw new AppFailure(
				'NOT_FOUND',
				`The bundled fashion-mnist-mini dataset is missing from ${folder}; reinstall NoiseLab ` +
					'(in a checkout: node scripts/make-fashion-mnist-mini.mjs).'
			);
		}
		return { folder, name: spec, classNames: fashionMnistClasses };
	}
	if (spec === 'fashion-mnist') {
		if (!hasAll(fashionMnistDir(), fashionMnistFiles)) {
			throw new AppFailure(
				'NOT_FOUND',
				`Fashion-MNIST is not installed at ${fashionMnistDir()}. Install the Debian ` +
					'package dataset-fashion-mnist (sudo apt install dataset-fashion-mnist), pass the ' +
					'folder of its IDX files instead, or use fashion-mnist-mini.'
			);
		}
		return { folder: fashionMnistDir(), name: spec, classNames: fashionMnistClasses };
	}
	if (!path.isAbsolute(spec)) {
		throw invalidDataset(
			`Unknown dataset "${spec}": use fashion-mnist-mini, fashion-mnist or an absolute path ` +
				'to a dataset folder.'
		);
	}
	return { folder: path.resolve(spec), name: path.resolve(spec) };
}

/**
 * Loads a dataset by built-in name or absolute path. Folder images are stored square at
 * `storageSize`; IDX images stay one channel at their own size; CIFAR stays 32×32 RGB. Failures
 * are AppFailures: NOT_FOUND for a missing dataset, INVALID_REQUEST for a wrong layout or a
 * damaged file, CANCELLED when `signal` aborts.
 */
export async function loadDataset(spec: string, options: LoadOptions = {}): Promise<EvalDataset> {
	const context = contextFrom(options);
	const { folder, name, classNames } = resolveSpec(spec);
	let source = await detectSource(folder);
	if (classNames && source.format === 'idx') source = { ...source, classNames };
	const outcome = await withDatasetCache(
		options.cacheDir ?? null,
		cacheKeyOf(source, context, name),
		() => loadSource(source, context, name)
	);
	if (outcome.hit) {
		const total = outcome.dataset.train.images.count + outcome.dataset.test.images.count;
		context.onProgress?.(total, total);
	}
	return outcome.dataset;
}
