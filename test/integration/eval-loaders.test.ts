import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { imageAt, type EvalDataset, type LabelledSplit } from '../../src/core/evaluation/dataset';
import { decodeBmp } from '../../src/main/evaluation/loaders/bmp';
import {
	debianFashionMnistDir,
	fashionMnistClasses,
	listBuiltinDatasets,
	loadDataset,
	resolveResourcesDir
} from '../../src/main/evaluation/loaders/index';
import { temporaryFolder } from '../support/paths';

let scratch: ReturnType<typeof temporaryFolder>;
beforeAll(() => {
	scratch = temporaryFolder('noiselab-loaders-');
});
afterAll(() => scratch.remove());

function makeDir(...parts: string[]): string {
	const dir = path.join(scratch.path, ...parts);
	fs.mkdirSync(dir, { recursive: true });
	return dir;
}

/** A solid image whose red channel names the class and green channel names the image. */
async function writeSolid(
	file: string,
	width: number,
	height: number,
	rgb: [number, number, number]
): Promise<void> {
	fs.mkdirSync(path.dirname(file), { recursive: true });
	const data = Buffer.alloc(width * height * 3);
	for (let i = 0; i < width * height; i++) data.set(rgb, 3 * i);
	const image = sharp(data, { raw: { width, height, channels: 3 } });
	// Lossless WebP and TIFF (sharp's TIFF default is JPEG-compressed), so that colours, which
	// name classes and images, survive exactly.
	const encoded = file.endsWith('.webp')
		? image.webp({ lossless: true })
		: file.endsWith('.tiff')
			? image.tiff({ compression: 'lzw' })
			: image;
	await encoded.toFile(file);
}

/** A 24-bit (bottom-up) or 32-bit (top-down) BI_RGB BMP of `pixel(x, y)`. */
function bmpBytes(
	width: number,
	height: number,
	bits: 24 | 32,
	pixel: (x: number, y: number) => [number, number, number]
): Buffer {
	const rowBytes = Math.ceil((bits * width) / 32) * 4;
	const file = Buffer.alloc(54 + rowBytes * height);
	file.write('BM', 0, 'ascii');
	file.writeUInt32LE(file.length, 2);
	file.writeUInt32LE(54, 10);
	file.writeUInt32LE(40, 14);
	file.writeInt32LE(width, 18);
	file.writeInt32LE(bits === 24 ? height : -height, 22);
	file.writeUInt16LE(1, 26);
	file.writeUInt16LE(bits, 28);
	for (let y = 0; y < height; y++) {
		const row = 54 + (bits === 24 ? height - 1 - y : y) * rowBytes;
		for (let x = 0; x < width; x++) {
			const [r, g, b] = pixel(x, y);
			file.set([b, g, r], row + (x * bits) / 8);
		}
	}
	return file;
}

/** The (label, green) identity of every image of a split, green naming the image in a class. */
function identities(split: LabelledSplit): string[] {
	return Array.from(split.labels, (label, index) => {
		const image = imageAt(split.images, index);
		return `${label}:${image.data[1]}`;
	});
}

function perClass(split: LabelledSplit, classCount: number): number[] {
	const counts = new Array<number>(classCount).fill(0);
	for (const label of split.labels) counts[label] = (counts[label] ?? 0) + 1;
	return counts;
}

async function failureOf(promise: Promise<unknown>): Promise<AppFailure> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof AppFailure) return error;
		throw error;
	}
	throw new Error('expected the load to fail');
}

function idxBytes(magicType: number, dims: number[], data: Uint8Array): Buffer {
	const header = Buffer.alloc(4 + 4 * dims.length);
	header[2] = magicType;
	header[3] = dims.length;
	dims.forEach((size, d) => header.writeUInt32BE(size, 4 + 4 * d));
	return Buffer.concat([header, data]);
}

/** Writes an IDX dataset: `count` 4×3 images per split, pixel i of image n = n*7+i, label n%3. */
function writeIdxFolder(dir: string, gzip: boolean, trainCount = 9, testCount = 6): void {
	fs.mkdirSync(dir, { recursive: true });
	const write = (name: string, bytes: Buffer) =>
		fs.writeFileSync(
			path.join(dir, gzip ? `${name}.gz` : name),
			gzip ? zlib.gzipSync(bytes) : bytes
		);
	for (const [prefix, count] of [
		['train', trainCount],
		['t10k', testCount]
	] as const) {
		const pixels = Uint8Array.from(
			{ length: count * 12 },
			(_, i) => (Math.floor(i / 12) * 7 + (i % 12)) & 0xff
		);
		const labels = Uint8Array.from({ length: count }, (_, n) => n % 3);
		write(`${prefix}-images-idx3-ubyte`, idxBytes(0x08, [count, 3, 4], pixels));
		write(`${prefix}-labels-idx1-ubyte`, idxBytes(0x08, [count], labels));
	}
}

describe('image folders', () => {
	let classFolder: string;
	const perClassCount = { birds: 10, cats: 10, dogs: 10 };

	beforeAll(async () => {
		classFolder = makeDir('animals');
		const writes: Promise<void>[] = [];
		// Mixed sizes and formats; red names the class, green the image.
		for (let i = 0; i < perClassCount.cats; i++) {
			writes.push(
				writeSolid(path.join(classFolder, 'cats', `cat-${i}.png`), 40, 30, [200, 10 * i, 0])
			);
		}
		for (let i = 0; i < perClassCount.dogs; i++) {
			const file = path.join(classFolder, 'dogs', i % 2 ? `dog-${i}.webp` : `dog-${i}.tiff`);
			writes.push(writeSolid(file, 64, 64, [100, 10 * i, 0]));
		}
		for (let i = 0; i < perClassCount.birds - 2; i++) {
			writes.push(
				writeSolid(path.join(classFolder, 'birds', 'nested', `bird-${i}.gif`), 12, 20, [
					40,
					10 * i,
					0
				])
			);
		}
		await Promise.all(writes);
		fs.writeFileSync(
			path.join(classFolder, 'birds', 'bird-8.bmp'),
			bmpBytes(16, 16, 24, () => [40, 80, 0])
		);
		fs.writeFileSync(
			path.join(classFolder, 'birds', 'bird-9.bmp'),
			bmpBytes(8, 8, 32, () => [40, 90, 0])
		);
		fs.writeFileSync(path.join(classFolder, 'cats', 'broken.jpg'), 'this is not a JPEG');
		fs.writeFileSync(path.join(classFolder, 'dogs', 'readme.txt'), 'good dogs');
		fs.writeFileSync(
			path.join(classFolder, 'dogs', 'rle.bmp'),
			(() => {
				const bytes = bmpBytes(4, 4, 24, () => [0, 0, 0]);
				bytes.writeUInt32LE(1, 30);
				return bytes;
			})()
		);
	});

	it('decodes every readable image, skips the rest with reasons, and splits each class', async () => {
		const progress: [number, number][] = [];
		const dataset = await loadDataset(classFolder, {
			storageSize: 16,
			cacheDir: null,
			onProgress: (done, total) => progress.push([done, total])
		});
		expect(dataset.name).toBe(classFolder);
		expect(dataset.classes).toEqual(['birds', 'cats', 'dogs']);
		for (const split of [dataset.train, dataset.test]) {
			expect(split.images).toMatchObject({ width: 16, height: 16, channels: 3 });
			expect(split.images.data.length).toBe(split.images.count * 16 * 16 * 3);
		}
		// 10 birds (8 GIF, 2 BMP); 10 cats (the broken JPEG skipped); 10 dogs (the RLE BMP skipped).
		const total = perClass(dataset.train, 3).map((n, c) => n + (perClass(dataset.test, 3)[c] ?? 0));
		expect(total).toEqual([10, 10, 10]);
		// 20% of each class's files; an unreadable file may have been drawn for testing.
		const tested = perClass(dataset.test, 3);
		expect(tested[0]).toBe(2);
		for (const count of tested) expect([1, 2]).toContain(count);
		const notes = dataset.notes.join('\n');
		expect(notes).toMatch(/Skipped 2 unreadable files: .*cats\/broken\.jpg/);
		expect(notes).toMatch(/dogs\/rle\.bmp \(BMP with RLE8 compression is not supported/);
		expect(notes).toMatch(/Ignored 1 file that is not an image \(\.txt\): dogs\/readme\.txt/);
		expect(notes).toMatch(/came in 5 sizes, from 8×8 to 64×64/);
		expect(notes).toMatch(/stratified split with seed 0, 20% of each class/);
		// Solid colours survive the resize: red still names the class of every image.
		for (const split of [dataset.train, dataset.test]) {
			split.labels.forEach((label, index) => {
				expect(imageAt(split.images, index).data[0]).toBe([40, 200, 100][label]);
			});
		}
		expect(progress.at(-1)).toEqual([32, 32]);
	});

	it('makes a seeded split: disjoint, complete, repeatable, and different for another seed', async () => {
		const load = (seed: number) =>
			loadDataset(classFolder, { seed, storageSize: 8, cacheDir: null });
		const [first, again, other] = await Promise.all([load(3), load(3), load(4)]);
		const train = identities(first.train);
		const test = identities(first.test);
		expect(new Set(train).size).toBe(train.length);
		expect(train.filter((id) => test.includes(id))).toEqual([]);
		expect(train.length + test.length).toBe(30);
		expect(identities(again.test)).toEqual(test);
		expect(identities(other.test).sort()).not.toEqual([...test].sort());
		const capped = await loadDataset(classFolder, {
			seed: 3,
			storageSize: 8,
			maxPerClass: 3,
			cacheDir: null
		});
		expect(perClass(capped.train, 3)).toEqual([3, 3, 3]);
		expect(perClass(capped.test, 3)).toEqual([2, 2, 2]);
	});

	it('uses nested train/ and val/ folders as they are, and keeps grayscale to one channel', async () => {
		const root = makeDir('nested');
		const writes: Promise<void>[] = [];
		for (const [split, count] of [
			['train', 5],
			['val', 2]
		] as const) {
			for (const className of ['circle', 'square']) {
				for (let i = 0; i < count; i++) {
					const value = className === 'circle' ? 30 + i : 150 + i;
					writes.push(
						writeSolid(path.join(root, split, className, `${i}.png`), 20 + i, 10, [
							value,
							value,
							value
						])
					);
				}
			}
		}
		await Promise.all(writes);
		const dataset = await loadDataset(root, { storageSize: 10, cacheDir: null });
		expect(dataset.classes).toEqual(['circle', 'square']);
		expect(perClass(dataset.train, 2)).toEqual([5, 5]);
		expect(perClass(dataset.test, 2)).toEqual([2, 2]);
		expect(dataset.train.images.channels).toBe(1);
		expect(dataset.train.images.data.length).toBe(10 * 10 * 10);
		expect(Array.from(imageAt(dataset.test.images, 0).data.subarray(0, 3))).toEqual([30, 30, 30]);
		expect(dataset.notes.join('\n')).toMatch(/own split: train\/ for training, val\/ for testing/);
	});

	it('refuses wrong layouts with a message that says what was found', async () => {
		const oneClass = makeDir('one-class', 'only');
		await writeSolid(path.join(oneClass, 'a.png'), 4, 4, [1, 2, 3]);
		expect((await failureOf(loadDataset(path.dirname(oneClass)))).message).toMatch(
			/only one class folder \(only\)/
		);

		const withEmpty = makeDir('with-empty');
		await writeSolid(path.join(withEmpty, 'full', 'a.png'), 4, 4, [1, 2, 3]);
		fs.mkdirSync(path.join(withEmpty, 'empty'));
		fs.writeFileSync(path.join(withEmpty, 'empty', 'notes.txt'), 'x');
		const empty = await failureOf(loadDataset(withEmpty));
		expect(empty.code).toBe('INVALID_REQUEST');
		expect(empty.message).toMatch(/Class folder empty .*holds no images/);

		const flat = makeDir('flat');
		await writeSolid(path.join(flat, 'a.png'), 4, 4, [1, 2, 3]);
		expect((await failureOf(loadDataset(flat))).message).toMatch(
			/1 image directly but no class sub-folders/
		);

		const textOnly = makeDir('text-only');
		fs.writeFileSync(path.join(textOnly, 'labels.csv'), 'a,b');
		const text = await failureOf(loadDataset(textOnly));
		expect(text.code).toBe('INVALID_REQUEST');
		// Kinds of files, never their names: an error must not list a folder.
		expect(text.message).toMatch(/not a dataset NoiseLab can read: it holds 1 file \(1 \.csv\)/);
		expect(text.message).not.toContain('labels');

		expect((await failureOf(loadDataset(path.join(scratch.path, 'nowhere')))).code).toBe(
			'NOT_FOUND'
		);
		expect((await failureOf(loadDataset('relative/path'))).message).toMatch(/Unknown dataset/);

		const controller = new AbortController();
		controller.abort();
		expect((await failureOf(loadDataset(classFolder, { signal: controller.signal }))).code).toBe(
			'CANCELLED'
		);
	});

	it('decodes 24-bit bottom-up and 32-bit top-down BMP exactly', () => {
		const pixel = (x: number, y: number): [number, number, number] => [x * 10, y * 20, 255 - x];
		for (const bits of [24, 32] as const) {
			const image = decodeBmp(bmpBytes(5, 3, bits, pixel));
			expect(image).toMatchObject({ width: 5, height: 3 });
			expect(Array.from(image.data.subarray(3 * (2 * 5 + 4), 3 * (2 * 5 + 4) + 3))).toEqual(
				pixel(4, 2)
			);
			expect(Array.from(image.data.subarray(0, 3))).toEqual(pixel(0, 0));
		}
		const truncated = bmpBytes(5, 3, 24, pixel).subarray(0, 60);
		expect(() => decodeBmp(truncated)).toThrow(/truncated/);
	});
});

describe('CIFAR binary', () => {
	/** Records whose pixel i has R = i & 255, G = label, B = record index. */
	function cifarRecords(labels: number[][], startIndex = 0): Buffer {
		const recordLength = (labels[0]?.length ?? 1) + 3072;
		const bytes = Buffer.alloc(labels.length * recordLength);
		labels.forEach((recordLabels, record) => {
			const start = record * recordLength;
			bytes.set(recordLabels, start);
			const planes = start + recordLabels.length;
			for (let i = 0; i < 1024; i++) {
				bytes[planes + i] = i & 255;
				bytes[planes + 1024 + i] = recordLabels.at(-1) ?? 0;
				bytes[planes + 2048 + i] = startIndex + record;
			}
		});
		return bytes;
	}

	it('reads CIFAR-10 batches with their names, planes interleaved to RGB', async () => {
		const dir = makeDir('cifar10', 'cifar-10-batches-bin');
		fs.writeFileSync(path.join(dir, 'data_batch_1.bin'), cifarRecords([[0], [1], [2]]));
		fs.writeFileSync(path.join(dir, 'data_batch_2.bin'), cifarRecords([[9], [3]], 3));
		fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecords([[4], [5]], 5));
		const names = ['plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
		fs.writeFileSync(path.join(dir, 'batches.meta.txt'), `${names.join('\n')}\n\n`);
		// The folder above the archive's own folder works too.
		const dataset = await loadDataset(path.dirname(dir), { cacheDir: null });
		expect(dataset.classes).toEqual(names);
		expect(Array.from(dataset.train.labels)).toEqual([0, 1, 2, 9, 3]);
		expect(Array.from(dataset.test.labels)).toEqual([4, 5]);
		expect(dataset.train.images).toMatchObject({ count: 5, width: 32, height: 32, channels: 3 });
		const image = imageAt(dataset.train.images, 3);
		expect(Array.from(image.data.subarray(3 * 300, 3 * 300 + 3))).toEqual([300 & 255, 9, 3]);
		expect(dataset.notes.join('\n')).toMatch(/Only 2 of the 5 CIFAR-10 training batches/);

		fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecords([[4], [5]]).subarray(0, 6000));
		const truncated = await failureOf(loadDataset(dir, { cacheDir: null }));
		expect(truncated.message).toMatch(
			/test_batch\.bin is truncated or not a CIFAR-10 binary file: 6,000 bytes/
		);
		fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecords([[4], [12]]));
		expect((await failureOf(loadDataset(dir, { cacheDir: null }))).message).toMatch(
			/record 1 has a label outside 0–9, the CIFAR-10 labels\. Is this a CIFAR-100 file\?$/
		);
		fs.rmSync(path.join(dir, 'test_batch.bin'));
		expect((await failureOf(loadDataset(dir, { cacheDir: null }))).message).toMatch(
			/lacks test_batch\.bin/
		);
	});

	it('reads CIFAR-100 with fine labels and fine_label_names.txt', async () => {
		const dir = makeDir('cifar100');
		fs.writeFileSync(
			path.join(dir, 'train.bin'),
			cifarRecords([
				[3, 42],
				[19, 99],
				[0, 7]
			])
		);
		fs.writeFileSync(path.join(dir, 'test.bin'), cifarRecords([[1, 5]]));
		const names = Array.from({ length: 100 }, (_, i) => `fine-${i}`);
		fs.writeFileSync(path.join(dir, 'fine_label_names.txt'), names.join('\n'));
		const dataset = await loadDataset(dir, { cacheDir: null });
		expect(dataset.classes).toEqual(names);
		expect(Array.from(dataset.train.labels)).toEqual([42, 99, 7]);
		expect(Array.from(dataset.test.labels)).toEqual([5]);
		expect(imageAt(dataset.train.images, 1).data[1]).toBe(99);
	});
});

describe('MNIST-format IDX', () => {
	it('reads raw and gzipped files to the same one-channel data', async () => {
		const rawDir = path.join(scratch.path, 'idx-raw');
		const gzDir = path.join(scratch.path, 'idx-gz');
		writeIdxFolder(rawDir, false);
		writeIdxFolder(gzDir, true);
		const [raw, gz] = await Promise.all([
			loadDataset(rawDir, { cacheDir: null }),
			loadDataset(gzDir, { cacheDir: null })
		]);
		expect(raw.classes).toEqual(['0', '1', '2']);
		expect(raw.train.images).toMatchObject({ count: 9, width: 4, height: 3, channels: 1 });
		expect(raw.test.images.count).toBe(6);
		expect(raw.train.images.data[12 * 2 + 5]).toBe(2 * 7 + 5);
		expect(Array.from(raw.train.labels)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
		expect(gz.train.images.data).toEqual(raw.train.images.data);
		expect(gz.test.labels).toEqual(raw.test.labels);
		// Replicated to RGB only when read.
		expect(Array.from(imageAt(raw.train.images, 1).data.subarray(0, 6))).toEqual([
			7, 7, 7, 8, 8, 8
		]);
	});

	it('names truncated, damaged and incomplete files', async () => {
		const dir = path.join(scratch.path, 'idx-bad');
		writeIdxFolder(dir, false);
		const images = path.join(dir, 'train-images-idx3-ubyte');
		const whole = fs.readFileSync(images);
		fs.writeFileSync(images, whole.subarray(0, whole.length - 5));
		expect((await failureOf(loadDataset(dir, { cacheDir: null }))).message).toBe(
			`${images} is truncated: its header announces 108 bytes of data (9×3×4) but it holds 103.`
		);
		const wrongMagic = Buffer.from(whole);
		wrongMagic[0] = 0x1a;
		fs.writeFileSync(images, wrongMagic);
		expect((await failureOf(loadDataset(dir, { cacheDir: null }))).message).toMatch(
			/is not an IDX file: it does not start with an IDX magic number\.$/
		);
		fs.writeFileSync(images, whole);
		const labels = path.join(dir, 't10k-labels-idx1-ubyte');
		fs.writeFileSync(`${labels}.gz`, zlib.gzipSync(fs.readFileSync(labels)).subarray(0, 20));
		fs.rmSync(labels);
		expect((await failureOf(loadDataset(dir, { cacheDir: null }))).message).toMatch(
			/t10k-labels-idx1-ubyte\.gz is a damaged or truncated gzip file/
		);
		fs.rmSync(`${labels}.gz`);
		expect((await failureOf(loadDataset(dir, { cacheDir: null }))).message).toMatch(
			/lacks t10k-labels-idx1-ubyte\[\.gz\]/
		);
	});
});

describe('built-in datasets', () => {
	it('ships fashion-mnist-mini: 5,000/1,000 images, 500/100 per class, with its licence', async () => {
		const resources = resolveResourcesDir();
		expect(
			fs.readFileSync(path.join(resources, 'datasets/fashion-mnist-mini/LICENSE'), 'utf8')
		).toMatch(/Copyright \(c\) 2017 Zalando SE/);
		const dataset = await loadDataset('fashion-mnist-mini', { cacheDir: null });
		expect(dataset.name).toBe('fashion-mnist-mini');
		expect(dataset.classes).toEqual([...fashionMnistClasses]);
		expect(dataset.train.images).toMatchObject({ count: 5000, width: 28, height: 28, channels: 1 });
		expect(dataset.test.images.count).toBe(1000);
		expect(perClass(dataset.train, 10)).toEqual(new Array(10).fill(500));
		expect(perClass(dataset.test, 10)).toEqual(new Array(10).fill(100));
		const builtins = await listBuiltinDatasets();
		expect(builtins.find((entry) => entry.name === 'fashion-mnist-mini')).toMatchObject({
			available: true
		});
	});

	/** Runs `action` with the full Fashion-MNIST looked for in `folder`. */
	async function withFashionMnistAt<T>(folder: string, action: () => Promise<T>): Promise<T> {
		const previous = process.env.NOISELAB_FASHION_MNIST_DIR;
		process.env.NOISELAB_FASHION_MNIST_DIR = folder;
		try {
			return await action();
		} finally {
			if (previous === undefined) delete process.env.NOISELAB_FASHION_MNIST_DIR;
			else process.env.NOISELAB_FASHION_MNIST_DIR = previous;
		}
	}

	it('loads the full Fashion-MNIST by name from Debian’s folder (or the override)', async () => {
		// Debian's files are only on machines with the package; the bundled subset has the same format.
		const folder = fs.existsSync(path.join(debianFashionMnistDir, 'train-images-idx3-ubyte.gz'))
			? debianFashionMnistDir
			: path.join(resolveResourcesDir(), 'datasets', 'fashion-mnist-mini');
		const dataset = await withFashionMnistAt(folder, () =>
			loadDataset('fashion-mnist', { cacheDir: null, maxPerClass: 100 })
		);
		expect(dataset.classes).toEqual([...fashionMnistClasses]);
		expect(perClass(dataset.train, 10)).toEqual(new Array(10).fill(100));
		expect(perClass(dataset.test, 10)).toEqual(new Array(10).fill(100));
	});

	it('says which package provides fashion-mnist when it is missing', async () => {
		const empty = temporaryFolder();
		try {
			const failure = await withFashionMnistAt(empty.path, () =>
				failureOf(loadDataset('fashion-mnist'))
			);
			expect(failure.code).toBe('NOT_FOUND');
			expect(failure.message).toMatch(/dataset-fashion-mnist/);
			const builtins = await withFashionMnistAt(empty.path, () => listBuiltinDatasets());
			expect(builtins.find((entry) => entry.name === 'fashion-mnist')?.available).toBe(false);
		} finally {
			empty.remove();
		}
	});
});

describe('decoded-dataset cache', () => {
	const sameData = (a: EvalDataset, b: EvalDataset) => {
		expect(b.classes).toEqual(a.classes);
		expect(b.notes).toEqual(a.notes);
		for (const split of ['train', 'test'] as const) {
			expect(b[split].labels).toEqual(a[split].labels);
			expect(b[split].images.data).toEqual(a[split].images.data);
			expect(b[split].images.channels).toBe(a[split].images.channels);
		}
	};

	it('returns identical data from the cache, and only re-reads when a file changes', async () => {
		const dir = path.join(scratch.path, 'idx-cached');
		const cacheDir = path.join(scratch.path, 'cache');
		writeIdxFolder(dir, false);
		// A whole-second mtime, so that putting it back below restores it exactly.
		const images = path.join(dir, 'train-images-idx3-ubyte');
		const mtime = new Date(Date.UTC(2024, 0, 1));
		fs.utimesSync(images, mtime, mtime);
		const cold = await loadDataset(dir, { cacheDir });
		const cacheFiles = fs.readdirSync(cacheDir);
		expect(cacheFiles).toHaveLength(1);
		expect(cacheFiles[0]).toMatch(/\.nlds$/);
		sameData(cold, await loadDataset(dir, { cacheDir }));

		// Same size and mtime but new pixels: the cache still answers, which proves it is used.
		const changed = fs.readFileSync(images);
		changed.fill(77, 16);
		fs.writeFileSync(images, changed);
		fs.utimesSync(images, mtime, mtime);
		expect((await loadDataset(dir, { cacheDir })).train.images.data).toEqual(
			cold.train.images.data
		);

		// A new mtime invalidates the entry, which is rebuilt in place.
		const later = new Date(mtime.getTime() + 5000);
		fs.utimesSync(images, later, later);
		const rebuilt = await loadDataset(dir, { cacheDir });
		expect(rebuilt.train.images.data.every((value) => value === 77)).toBe(true);
		expect(fs.readdirSync(cacheDir)).toEqual(cacheFiles);
		// Options that change the result get their own entry.
		await loadDataset(dir, { cacheDir, maxPerClass: 2 });
		expect(fs.readdirSync(cacheDir)).toHaveLength(2);
	});

	it('ignores and rewrites a damaged cache file', async () => {
		const dir = path.join(scratch.path, 'idx-damaged');
		const cacheDir = path.join(scratch.path, 'cache-damaged');
		writeIdxFolder(dir, true);
		const cold = await loadDataset(dir, { cacheDir });
		const names = fs.readdirSync(cacheDir);
		expect(names).toHaveLength(1);
		const file = path.join(cacheDir, names[0] ?? '');
		const bytes = fs.readFileSync(file);
		bytes.writeUInt8(255 - (bytes.at(-3) ?? 0), bytes.length - 3);
		fs.writeFileSync(file, bytes);
		sameData(cold, await loadDataset(dir, { cacheDir }));
		fs.writeFileSync(file, bytes.subarray(0, 40));
		sameData(cold, await loadDataset(dir, { cacheDir }));
		// Rewritten whole: the next load is a hit on a valid file again.
		expect(fs.statSync(file).size).toBe(bytes.length);
	});

	it('caches image folders keyed by the options that change them', async () => {
		const root = makeDir('cached-folder');
		const cacheDir = path.join(scratch.path, 'cache-folder');
		const writes: Promise<void>[] = [];
		for (const className of ['a', 'b']) {
			for (let i = 0; i < 5; i++) {
				writes.push(
					writeSolid(path.join(root, className, `${i}.png`), 12, 9, [
						className === 'a' ? 10 : 240,
						i * 20,
						5
					])
				);
			}
		}
		await Promise.all(writes);
		fs.writeFileSync(path.join(root, 'a', 'broken.png'), 'nope');
		const cold = await loadDataset(root, { cacheDir, storageSize: 8 });
		const warm = await loadDataset(root, { cacheDir, storageSize: 8 });
		sameData(cold, warm);
		expect(warm.notes.join('\n')).toMatch(/a\/broken\.png/);
		expect(fs.readdirSync(cacheDir)).toHaveLength(1);
		const bigger = await loadDataset(root, { cacheDir, storageSize: 12 });
		expect(bigger.train.images.width).toBe(12);
		expect(fs.readdirSync(cacheDir)).toHaveLength(2);
	});
});
