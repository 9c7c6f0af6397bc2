/**
 * MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST…): `train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte` and their `t10k-` twins, gzipped or not. Images stay one channel.
 */
import path from 'node:path';
import type { EvalDataset, LabelledSplit } from '../../../core/evaluation/dataset';
import {
	capPerClass,
	countPerClass,
	invalidDataset,
	listSome,
	readClassNames,
	readMaybeGzipped,
	throwIfCancelled,
	type LoaderContext
} from './shared';

/** The four files of an IDX dataset. */
export interface IdxFiles {
	trainImages: string;
	trainLabels: string;
	testImages: string;
	testLabels: string;
}

/** An n-dimensional array of unsigned bytes from an IDX file. */
export interface IdxArray {
	dims: number[];
	data: Uint8Array;
}

// Also accepts the `train-images.idx3-ubyte` spelling of some MNIST mirrors, and `test-`.
const idxName = /^(train|t10k|test)-(images|labels)[.-]idx([13])-ubyte(\.gz)?$/i;
const unsignedByteType = 0x08;

/**
 * The IDX files among a folder's `fileNames`: null when there are none, a failure naming what
 * is missing when only some are there. Uncompressed files win over gzipped twins (no gunzip).
 */
export function findIdxFiles(folder: string, fileNames: readonly string[]): IdxFiles | null {
	const found = new Map<string, { name: string; gzipped: boolean }>();
	for (const name of fileNames) {
		const match = idxName.exec(name);
		if (!match) continue;
		const split = (match[1] as string).toLowerCase() === 'train' ? 'train' : 'test';
		const kind = (match[2] as string).toLowerCase();
		if ((kind === 'images') !== (match[3] === '3')) continue;
		const key = `${split}-${kind}`;
		const gzipped = match[4] !== undefined;
		const previous = found.get(key);
		if (!previous || (previous.gzipped && !gzipped)) found.set(key, { name, gzipped });
	}
	if (found.size === 0) return null;
	const wanted = {
		trainImages: ['train-images', 'train-images-idx3-ubyte[.gz]'],
		trainLabels: ['train-labels', 'train-labels-idx1-ubyte[.gz]'],
		testImages: ['test-images', 't10k-images-idx3-ubyte[.gz]'],
		testLabels: ['test-labels', 't10k-labels-idx1-ubyte[.gz]']
	} as const;
	const missing = Object.values(wanted)
		.filter(([key]) => !found.has(key))
		.map(([, expected]) => expected);
	if (missing.length > 0) {
		throw invalidDataset(
			`${folder} looks like an MNIST-format IDX folder but lacks ${missing.join(', ')}.`
		);
	}
	const fileOf = (key: string) => path.join(folder, (found.get(key) as { name: string }).name);
	return {
		trainImages: fileOf('train-images'),
		trainLabels: fileOf('train-labels'),
		testImages: fileOf('test-images'),
		testLabels: fileOf('test-labels')
	};
}

/** Parses an (already gunzipped) IDX file of unsigned bytes, checking its header and length. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
	if (bytes.length < 4) throw invalidDataset(`${file} is truncated: ${bytes.length} bytes.`);
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const rank = bytes[3] as number;
	if (bytes[0] !== 0 || bytes[1] !== 0 || rank === 0) {
		throw invalidDataset(`${file} is not an IDX file: it does not start with an IDX magic number.`);
	}
	if (bytes[2] !== unsignedByteType) {
		throw invalidDataset(
			`${file} stores values of type 0x${(bytes[2] as number).toString(16)}; ` +
				'only unsigned bytes (0x08) are supported.'
		);
	}
	const headerLength = 4 + 4 * rank;
	if (bytes.length < headerLength) {
		throw invalidDataset(`${file} is truncated inside its header.`);
	}
	const dims = Array.from({ length: rank }, (_, d) => view.getUint32(4 + 4 * d));
	const expected = dims.reduce((product, size) => product * size, 1);
	const actual = bytes.length - headerLength;
	if (actual < expected) {
		throw invalidDataset(
			`${file} is truncated: its header announces ${expected.toLocaleString('en')} bytes of ` +
				`data (${dims.join('×')}) but it holds ${actual.toLocaleString('en')}.`
		);
	}
	if (actual > expected) {
		throw invalidDataset(
			`${file} has ${(actual - expected).toLocaleString('en')} bytes more than its header ` +
				`announces (${dims.join('×')}); it is not a valid IDX file.`
		);
	}
	// A plain view, not a Buffer, so that every loader hands out the same array type.
	return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerLength, expected) };
}

async function readSplit(
	imagesFile: string,
	labelsFile: string,
	context: LoaderContext,
	what: string
): Promise<LabelledSplit> {
	throwIfCancelled(context.signal, what);
	const images = parseIdx(await readMaybeGzipped(imagesFile), imagesFile);
	throwIfCancelled(context.signal, what);
	const labels = parseIdx(await readMaybeGzipped(labelsFile), labelsFile);
	if (images.dims.length !== 3) {
		throw invalidDataset(
			`${imagesFile} has ${images.dims.length} dimensions; images need 3 (count, rows, columns).`
		);
	}
	if (labels.dims.length !== 1) {
		throw invalidDataset(`${labelsFile} has ${labels.dims.length} dimensions; labels need 1.`);
	}
	const [count, height, width] = images.dims as [number, number, number];
	if (labels.dims[0] !== count) {
		throw invalidDataset(
			`${labelsFile} holds ${labels.dims[0]} labels but ${imagesFile} holds ${count} images.`
		);
	}
	return {
		images: { count, width, height, channels: 1, data: images.data },
		labels: Int32Array.from(labels.data)
	};
}

/** Options of {@link loadIdxFolder}. */
export interface IdxLoadOptions {
	name: string;
	/** Names for labels 0…; else `classes.txt` in the folder, else the label numbers. */
	classNames?: readonly string[];
}

/** Loads an IDX dataset; labels are the classes, images stay grayscale at their stored size. */
export async function loadIdxFolder(
	folder: string,
	files: IdxFiles,
	context: LoaderContext,
	options: IdxLoadOptions
): Promise<EvalDataset> {
	context.onProgress?.(0, 2);
	let train = await readSplit(files.trainImages, files.trainLabels, context, options.name);
	context.onProgress?.(1, 2);
	let test = await readSplit(files.testImages, files.testLabels, context, options.name);
	context.onProgress?.(2, 2);
	if (train.images.width !== test.images.width || train.images.height !== test.images.height) {
		throw invalidDataset(
			`${folder}: training images are ${train.images.width}×${train.images.height} but test ` +
				`images are ${test.images.width}×${test.images.height}.`
		);
	}
	let maxLabel = 0;
	for (const split of [train, test])
		for (const label of split.labels) maxLabel = Math.max(maxLabel, label);
	const notes: string[] = [];
	let classes = options.classNames ? [...options.classNames] : null;
	if (!classes) {
		const fromFile = await readClassNames(path.join(folder, 'classes.txt'));
		if (fromFile && fromFile.length > maxLabel) classes = fromFile;
		else if (fromFile) {
			notes.push(
				`classes.txt names ${fromFile.length} classes but labels go up to ${maxLabel}; ` +
					'used the label numbers as names.'
			);
		}
	}
	classes ??= Array.from({ length: maxLabel + 1 }, (_, label) => String(label));
	if (maxLabel >= classes.length) {
		throw invalidDataset(
			`${folder}: a label is ${maxLabel} but the dataset has ${classes.length} classes.`
		);
	}
	const trainCounts = countPerClass(train.labels, classes.length);
	const empty = classes.filter((_, label) => trainCounts[label] === 0);
	if (empty.length > 0) {
		notes.push(`No training images for ${empty.length} classes: ${listSome(empty)}.`);
	}
	train = capPerClass(train, classes.length, context.maxPerClass);
	test = capPerClass(test, classes.length, context.maxPerClass);
	if (context.maxPerClass !== null) {
		notes.push(
			`Kept at most ${context.maxPerClass} images per class and split, the first in file order.`
		);
	}
	return { name: options.name, classes, train, test, notes };
}
