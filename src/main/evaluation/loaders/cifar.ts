/**
 * CIFAR-10 and CIFAR-100 in their "binary version" layout (cs.toronto.edu/~kriz/cifar.html):
 * fixed-size records of label byte(s) followed by a 32×32 image stored as three colour planes.
 */
import path from 'node:path';
import type { EvalDataset, LabelledSplit } from '../../../core/evaluation/dataset';
import {
	capPerClass,
	invalidDataset,
	readClassNames,
	readWholeFile,
	throwIfCancelled,
	type LoaderContext
} from './shared';

const side = 32;
const pixels = side * side;

/** Where a CIFAR binary dataset's files are, and which variant it is. */
export interface CifarFiles {
	variant: 'cifar-10' | 'cifar-100';
	train: string[];
	test: string[];
	/** The text file with one class name a line. */
	namesFile: string;
}

const cifar10Names = [
	'airplane',
	'automobile',
	'bird',
	'cat',
	'deer',
	'dog',
	'frog',
	'horse',
	'ship',
	'truck'
];

/** The layout of each variant: bytes of labels before the pixels, and which one is the class. */
const variants = {
	'cifar-10': { labelBytes: 1, labelOffset: 0, classCount: 10 },
	// Records carry the coarse (20) then the fine (100) label; the fine one is the task.
	'cifar-100': { labelBytes: 2, labelOffset: 1, classCount: 100 }
} as const;

const dataBatch = /^data_batch_(\d+)\.bin$/;

/**
 * The CIFAR files among a folder's `fileNames`: null when it does not look like CIFAR, a
 * failure naming what is missing when it does but is incomplete.
 */
export function findCifarFiles(folder: string, fileNames: readonly string[]): CifarFiles | null {
	const names = new Set(fileNames);
	const batches = fileNames
		.filter((name) => dataBatch.test(name))
		.sort((a, b) => Number(dataBatch.exec(a)?.[1]) - Number(dataBatch.exec(b)?.[1]));
	if (batches.length > 0 || names.has('test_batch.bin')) {
		if (batches.length === 0 || !names.has('test_batch.bin')) {
			throw invalidDataset(
				`${folder} looks like CIFAR-10 binary but lacks ` +
					(batches.length === 0 ? 'data_batch_1.bin … data_batch_5.bin.' : 'test_batch.bin.')
			);
		}
		return {
			variant: 'cifar-10',
			train: batches.map((name) => path.join(folder, name)),
			test: [path.join(folder, 'test_batch.bin')],
			namesFile: path.join(folder, 'batches.meta.txt')
		};
	}
	if (names.has('train.bin') || names.has('test.bin')) {
		if (!names.has('train.bin') || !names.has('test.bin')) {
			throw invalidDataset(
				`${folder} looks like CIFAR-100 binary but lacks ` +
					`${names.has('train.bin') ? 'test.bin' : 'train.bin'}.`
			);
		}
		return {
			variant: 'cifar-100',
			train: [path.join(folder, 'train.bin')],
			test: [path.join(folder, 'test.bin')],
			namesFile: path.join(folder, 'fine_label_names.txt')
		};
	}
	return null;
}

/** Decodes the records of one batch file into interleaved RGB images and labels. */
export function parseCifarBatch(
	bytes: Uint8Array,
	file: string,
	variant: CifarFiles['variant']
): LabelledSplit {
	const { labelBytes, labelOffset, classCount } = variants[variant];
	const recordLength = labelBytes + 3 * pixels;
	if (bytes.length === 0 || bytes.length % recordLength !== 0) {
		const whole = Math.floor(bytes.length / recordLength);
		throw invalidDataset(
			`${file} is truncated or not a ${variant.toUpperCase()} binary file: ` +
				`${bytes.length.toLocaleString('en')} bytes is not a whole number of ` +
				`${recordLength.toLocaleString('en')}-byte records (${whole} whole records).`
		);
	}
	const count = bytes.length / recordLength;
	const data = new Uint8Array(count * pixels * 3);
	const labels = new Int32Array(count);
	for (let record = 0; record < count; record++) {
		const start = record * recordLength;
		const label = bytes[start + labelOffset] as number;
		if (label >= classCount) {
			throw invalidDataset(
				// CIFAR files have no signature: the label byte could be any file's, so it is not quoted.
				`${file}: record ${record} has a label outside 0–${classCount - 1}, the ` +
					`${variant.toUpperCase()} labels.` +
					(variant === 'cifar-10' ? ' Is this a CIFAR-100 file?' : '')
			);
		}
		labels[record] = label;
		const planes = start + labelBytes;
		const target = record * pixels * 3;
		for (let i = 0; i < pixels; i++) {
			data[target + 3 * i] = bytes[planes + i] as number;
			data[target + 3 * i + 1] = bytes[planes + pixels + i] as number;
			data[target + 3 * i + 2] = bytes[planes + 2 * pixels + i] as number;
		}
	}
	return { images: { count, width: side, height: side, channels: 3, data }, labels };
}

function concatenate(splits: readonly LabelledSplit[]): LabelledSplit {
	if (splits.length === 1) return splits[0] as LabelledSplit;
	const count = splits.reduce((sum, split) => sum + split.images.count, 0);
	const data = new Uint8Array(count * pixels * 3);
	const labels = new Int32Array(count);
	let offset = 0;
	for (const split of splits) {
		data.set(split.images.data, offset * pixels * 3);
		labels.set(split.labels, offset);
		offset += split.images.count;
	}
	return { images: { count, width: side, height: side, channels: 3, data }, labels };
}

/** Loads a CIFAR-10 or CIFAR-100 binary dataset. */
export async function loadCifarFolder(
	folder: string,
	files: CifarFiles,
	context: LoaderContext,
	name: string
): Promise<EvalDataset> {
	const notes: string[] = [];
	const all = [...files.train, ...files.test];
	const parsed: LabelledSplit[] = [];
	for (const [index, file] of all.entries()) {
		context.onProgress?.(index, all.length);
		throwIfCancelled(context.signal, name);
		parsed.push(parseCifarBatch(await readWholeFile(file), file, files.variant));
	}
	context.onProgress?.(all.length, all.length);
	if (files.variant === 'cifar-10' && files.train.length < 5) {
		notes.push(
			`Only ${files.train.length} of the 5 CIFAR-10 training batches are in ${folder}; ` +
				'used those.'
		);
	}
	const { classCount } = variants[files.variant];
	let classes = await readClassNames(files.namesFile);
	if (classes && classes.length !== classCount) {
		notes.push(
			`${path.basename(files.namesFile)} names ${classes.length} classes, not ${classCount}; ` +
				'ignored it.'
		);
		classes = null;
	}
	if (!classes) {
		classes =
			files.variant === 'cifar-10'
				? [...cifar10Names]
				: Array.from({ length: classCount }, (_, label) => String(label));
	}
	const train = capPerClass(
		concatenate(parsed.slice(0, files.train.length)),
		classCount,
		context.maxPerClass
	);
	const test = capPerClass(
		concatenate(parsed.slice(files.train.length)),
		classCount,
		context.maxPerClass
	);
	if (context.maxPerClass !== null) {
		notes.push(
			`Kept at most ${context.maxPerClass} images per class and split, the first in file order.`
		);
	}
	return { name, classes, train, test, notes };
}
