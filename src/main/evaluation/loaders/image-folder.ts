/**
 * Image folders in torchvision's ImageFolder layout: one sub-folder per class, optionally inside
 * `train/` and `val/` (or `test/`) folders. Images are decoded with sharp (BMP by our own
 * decoder), the shorter side resized to the storage size and centre-cropped square.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { imageExtensions } from '../../image-files';
import sharp from 'sharp';
import type { EvalDataset, LabelledSplit, PackedImages } from '../../../core/evaluation/dataset';
import { Random } from '../../../core/generators/random';
import { decodeBmp } from './bmp';
import {
	displayPath,
	invalidDataset,
	listSome,
	plural,
	readWholeFile,
	throwIfCancelled,
	type LoaderContext
} from './shared';

const evalFolderNames = ['val', 'validation', 'valid', 'test'];

/** The files of one class in one split. */
interface ClassFiles {
	className: string;
	files: string[];
}

/** What was found in an image folder, before anything is decoded. */
export interface ImageFolderPlan {
	root: string;
	classes: string[];
	/** Per class, in class order: its training image files, sorted. */
	train: string[][];
	/** Per class: its test image files, or null when the folder has no split of its own. */
	test: string[][] | null;
	/** Every file the dataset depends on (images and ignored files), for the cache key. */
	files: string[];
	/** Files that are not images, relative to the root. */
	ignored: string[];
	notes: string[];
}

function isHidden(name: string): boolean {
	return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}

async function subfolders(folder: string): Promise<string[]> {
	const entries = await fs.readdir(folder, { withFileTypes: true });
	const names: string[] = [];
	for (const entry of entries) {
		if (isHidden(entry.name)) continue;
		if (entry.isDirectory()) names.push(entry.name);
		else if (entry.isSymbolicLink()) {
			const target = await fs.stat(path.join(folder, entry.name)).catch(() => null);
			if (target?.isDirectory()) names.push(entry.name);
		}
	}
	return names.sort(compareNames);
}

// Code-unit order, like Python's sorted(): the same on every machine and locale.
function compareNames(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

/** All files under a class folder, at any depth, sorted by path. */
async function filesUnder(folder: string, depth = 0): Promise<string[]> {
	const entries = await fs.readdir(folder, { withFileTypes: true });
	const files: string[] = [];
	for (const entry of entries) {
		if (isHidden(entry.name)) continue;
		const full = path.join(folder, entry.name);
		let isFolder = entry.isDirectory();
		let isFile = entry.isFile();
		if (entry.isSymbolicLink()) {
			const target = await fs.stat(full).catch(() => null);
			isFolder = target?.isDirectory() ?? false;
			isFile = target?.isFile() ?? false;
		}
		// The depth limit only guards against symbolic-link cycles.
		if (isFolder && depth < 16) files.push(...(await filesUnder(full, depth + 1)));
		else if (isFile) files.push(full);
	}
	return files.sort(compareNames);
}

async function classFilesOf(splitRoot: string): Promise<ClassFiles[]> {
	const classes = await subfolders(splitRoot);
	return Promise.all(
		classes.map(async (className) => ({
			className,
			files: await filesUnder(path.join(splitRoot, className))
		}))
	);
}

function isImage(file: string): boolean {
	return imageExtensions.has(path.extname(file).toLowerCase());
}

/**
 * Looks at a folder's layout. Returns null when it has no sub-folders at all (so another format
 * or a "what was found" message applies); fails for one class or a class without images.
 */
export async function planImageFolder(root: string): Promise<ImageFolderPlan | null> {
	const topFolders = await subfolders(root);
	if (topFolders.length === 0) return null;
	const notes: string[] = [];
	const lower = new Map(topFolders.map((name) => [name.toLowerCase(), name]));
	const trainName = lower.get('train');
	const evalName = evalFolderNames.map((name) => lower.get(name)).find((name) => name);
	let trainClasses: ClassFiles[];
	let testClasses: ClassFiles[] | null = null;
	let classRoot = root;
	if (trainName && evalName) {
		classRoot = path.join(root, trainName);
		trainClasses = await classFilesOf(classRoot);
		testClasses = await classFilesOf(path.join(root, evalName));
		const others = topFolders.filter((name) => name !== trainName && name !== evalName);
		notes.push(
			`Used the folder's own split: ${trainName}/ for training, ${evalName}/ for testing.` +
				(others.length > 0 ? ` Ignored the other folders: ${listSome(others)}.` : '')
		);
	} else if (trainName && topFolders.length === 1) {
		classRoot = path.join(root, trainName);
		trainClasses = await classFilesOf(classRoot);
		notes.push(`Found ${trainName}/ without val/ or test/: split ${trainName}/ itself.`);
	} else {
		trainClasses = await classFilesOf(root);
	}

	const ignored: string[] = [];
	const imagesOf = (entry: ClassFiles) => {
		const images = entry.files.filter(isImage);
		for (const file of entry.files) if (!isImage(file)) ignored.push(displayPath(root, file));
		return images;
	};
	const classes = trainClasses.map((entry) => entry.className);
	const train = trainClasses.map(imagesOf);
	const empty = classes.filter((_, index) => train[index]?.length === 0);
	if (classes.length > 0 && empty.length === classes.length && topFolders.length > 0) {
		throw invalidDataset(
			`${classRoot} has ${plural(classes.length, 'sub-folder')} but none holds images ` +
				`(${[...imageExtensions].join(' ')}). Expected one sub-folder of images per class.`
		);
	}
	if (empty.length > 0) {
		throw invalidDataset(
			`Class folder${empty.length > 1 ? 's' : ''} ${listSome(empty.map((name) => displayPath(root, path.join(classRoot, name))))} ` +
				`in ${root} hold${empty.length > 1 ? '' : 's'} no images. Remove ` +
				`${empty.length > 1 ? 'them' : 'it'} or add images (${[...imageExtensions].join(' ')}).`
		);
	}
	if (classes.length < 2) {
		throw invalidDataset(
			`${classRoot} has only one class folder (${classes[0] ?? 'none'}); a classifier needs at ` +
				'least two classes, one sub-folder each.'
		);
	}

	let test: string[][] | null = null;
	if (testClasses) {
		const byName = new Map(testClasses.map((entry) => [entry.className, entry]));
		test = classes.map((className) => {
			const entry = byName.get(className);
			return entry ? imagesOf(entry) : [];
		});
		const unknown = testClasses
			.map((entry) => entry.className)
			.filter((className) => !classes.includes(className));
		if (unknown.length > 0) {
			notes.push(
				`Ignored ${plural(unknown.length, 'test class folder')} with no training folder: ` +
					`${listSome(unknown)}.`
			);
		}
		const noTest = classes.filter((_, index) => test?.[index]?.length === 0);
		if (noTest.length === classes.length) {
			throw invalidDataset(`The test folder of ${root} holds no images of the training classes.`);
		}
		if (noTest.length > 0) {
			notes.push(`No test images for ${plural(noTest.length, 'class')}: ${listSome(noTest)}.`);
		}
	}
	if (ignored.length > 0) {
		const kinds = [...new Set(ignored.map((file) => path.extname(file).toLowerCase() || '(none)'))];
		notes.push(
			`Ignored ${plural(ignored.length, 'file')} that ${ignored.length === 1 ? 'is' : 'are'} not ` +
				`an image (${listSome(kinds)}): ${listSome(ignored)}.`
		);
	}
	const files = [
		...train.flat(),
		...(test?.flat() ?? []),
		...ignored.map((file) => path.join(root, file))
	];
	return { root, classes, train, test, files, ignored, notes };
}

/** 32-bit FNV-1a, so a class's shuffle depends on its name, not on which other classes exist. */
function hashName(name: string): number {
	let hash = 0x811c9dc5;
	for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
	return hash >>> 0;
}

function shuffled(items: readonly string[], random: Random): string[] {
	const result = [...items];
	for (let i = result.length - 1; i > 0; i--) {
		const j = random.int(i + 1);
		[result[i], result[j]] = [result[j] as string, result[i] as string];
	}
	return result;
}

/** The stratified, seeded split and per-class cap of the plan, as file lists per class. */
export function assignSplits(
	plan: ImageFolderPlan,
	context: Pick<LoaderContext, 'seed' | 'testFraction' | 'maxPerClass'>
): { train: string[][]; test: string[][]; notes: string[] } {
	const notes: string[] = [];
	const cap = (files: string[], random: Random) =>
		context.maxPerClass !== null && files.length > context.maxPerClass
			? shuffled(files, random).slice(0, context.maxPerClass).sort(compareNames)
			: files;
	const train: string[][] = [];
	const test: string[][] = [];
	const tooSmall: string[] = [];
	plan.classes.forEach((className, index) => {
		const random = new Random(context.seed, hashName(className));
		const trainFiles = plan.train[index] ?? [];
		if (plan.test) {
			train.push(cap(trainFiles, random.derive(1)));
			test.push(cap(plan.test[index] ?? [], random.derive(2)));
			return;
		}
		const order = shuffled(trainFiles, random);
		const testCount =
			order.length < 2
				? 0
				: Math.min(order.length - 1, Math.max(1, Math.round(order.length * context.testFraction)));
		if (testCount === 0) tooSmall.push(className);
		const testFiles = order.slice(0, testCount);
		const trainKept = order.slice(testCount);
		const limit = context.maxPerClass ?? Infinity;
		test.push(testFiles.slice(0, limit).sort(compareNames));
		train.push(trainKept.slice(0, limit).sort(compareNames));
	});
	if (!plan.test) {
		notes.push(
			`No train/ and val/ folders: made a stratified split with seed ${context.seed}, ` +
				`${Math.round(context.testFraction * 100)}% of each class for testing.` +
				(tooSmall.length > 0
					? ` ${plural(tooSmall.length, 'class')} with a single image went to training only: ` +
						`${listSome(tooSmall)}.`
					: '')
		);
	}
	if (context.maxPerClass !== null) {
		notes.push(`Kept at most ${context.maxPerClass} images per class and split (seeded choice).`);
	}
	return { train, test, notes };
}

/** A decoded image, or why it could not be. */
type Decoded =
	{ ok: true; pixels: Uint8Array; width: number; height: number } | { ok: false; reason: string };

async function decodeSquare(file: string, size: number): Promise<Decoded> {
	try {
		let image: sharp.Sharp;
		if (path.extname(file).toLowerCase() === '.bmp') {
			const bmp = decodeBmp(await readWholeFile(file));
			image = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } });
		} else {
			image = sharp(file);
		}
		const metadata = await image.metadata();
		const { data, info } = await image
			.rotate()
			.resize(size, size, { fit: 'cover', position: 'centre' })
			.removeAlpha()
			.toColourspace('srgb')
			.raw()
			.toBuffer({ resolveWithObject: true });
		if (info.channels !== 3 || data.length !== size * size * 3) {
			return { ok: false, reason: `decoded to ${info.channels} channels` };
		}
		return { ok: true, pixels: data, width: metadata.width ?? 0, height: metadata.height ?? 0 };
	} catch (error) {
		const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
		return { ok: false, reason: message.length > 120 ? `${message.slice(0, 117)}…` : message };
	}
}

/** True when every pixel of every image has R = G = B, so one channel loses nothing. */
function allGray(images: readonly Uint8Array[]): boolean {
	for (const pixels of images) {
		for (let i = 0; i < pixels.length; i += 3) {
			if (pixels[i] !== pixels[i + 1] || pixels[i] !== pixels[i + 2]) return false;
		}
	}
	return true;
}

function pack(images: readonly Uint8Array[], size: number, channels: 1 | 3): PackedImages {
	const stride = size * size * channels;
	const data = new Uint8Array(images.length * stride);
	images.forEach((pixels, index) => {
		if (channels === 3) data.set(pixels, index * stride);
		else for (let i = 0; i < stride; i++) data[index * stride + i] = pixels[3 * i] as number;
	});
	return { count: images.length, width: size, height: size, channels, data };
}

/** Decodes the images of a plan into an {@link EvalDataset}; unreadable files become notes. */
export async function loadImageFolder(
	plan: ImageFolderPlan,
	context: LoaderContext,
	name: string
): Promise<EvalDataset> {
	const assigned = assignSplits(plan, context);
	const jobs: { split: 0 | 1; label: number; file: string }[] = [];
	assigned.train.forEach((files, label) =>
		files.forEach((file) => jobs.push({ split: 0, label, file }))
	);
	assigned.test.forEach((files, label) =>
		files.forEach((file) => jobs.push({ split: 1, label, file }))
	);
	const results = new Array<Decoded | undefined>(jobs.length);
	let next = 0;
	let done = 0;
	context.onProgress?.(0, jobs.length);
	// sharp decodes on libuv's pool; a few files in flight keep it busy without flooding memory.
	const lanes = Math.min(8, Math.max(4, os.availableParallelism()), jobs.length);
	await Promise.all(
		Array.from({ length: lanes }, async () => {
			while (next < jobs.length) {
				throwIfCancelled(context.signal, name);
				const index = next++;
				results[index] = await decodeSquare(
					(jobs[index] as (typeof jobs)[number]).file,
					context.storageSize
				);
				context.onProgress?.(++done, jobs.length);
			}
		})
	);
	throwIfCancelled(context.signal, name);

	const decoded: Uint8Array[][] = [[], []];
	const labels: number[][] = [[], []];
	const skipped: string[] = [];
	const trainCounts = new Array<number>(plan.classes.length).fill(0);
	let smallest: [number, number] | null = null;
	let largest: [number, number] | null = null;
	const sizes = new Set<string>();
	for (const [index, job] of jobs.entries()) {
		const result = results[index] as Decoded;
		if (!result.ok) {
			skipped.push(`${displayPath(plan.root, job.file)} (${result.reason})`);
			continue;
		}
		decoded[job.split]?.push(result.pixels);
		labels[job.split]?.push(job.label);
		if (job.split === 0) trainCounts[job.label] = (trainCounts[job.label] ?? 0) + 1;
		sizes.add(`${result.width}×${result.height}`);
		const area = result.width * result.height;
		if (!smallest || area < smallest[0] * smallest[1]) smallest = [result.width, result.height];
		if (!largest || area > largest[0] * largest[1]) largest = [result.width, result.height];
	}
	const notes = [...plan.notes, ...assigned.notes];
	if (skipped.length > 0) {
		notes.push(`Skipped ${plural(skipped.length, 'unreadable file')}: ${listSome(skipped)}.`);
	}
	const unusable = plan.classes.filter((_, label) => trainCounts[label] === 0);
	if (unusable.length > 0) {
		throw invalidDataset(
			`No readable training images for ${plural(unusable.length, 'class')} of ${plan.root}: ` +
				`${listSome(unusable)}. Skipped: ${listSome(skipped)}.`
		);
	}
	if ((decoded[1]?.length ?? 0) === 0) {
		throw invalidDataset(
			`${plan.root} leaves no test images (each class needs at least two images to split).`
		);
	}
	const size = context.storageSize;
	if (smallest && largest) {
		const [sw, sh] = smallest;
		const [lw, lh] = largest;
		notes.push(
			`Stored every image at ${size}×${size} (shorter side resized to ${size}, centre crop); ` +
				(sizes.size > 1
					? `they came in ${plural(sizes.size, 'size')}, from ${sw}×${sh} to ${lw}×${lh}.`
					: `all were ${sw}×${sh}.`)
		);
	}
	const channels = allGray([...(decoded[0] ?? []), ...(decoded[1] ?? [])]) ? 1 : 3;
	const splitOf = (index: 0 | 1): LabelledSplit => ({
		images: pack(decoded[index] ?? [], size, channels),
		labels: Int32Array.from(labels[index] ?? [])
	});
	return { name, classes: [...plan.classes], train: splitOf(0), test: splitOf(1), notes };
}
