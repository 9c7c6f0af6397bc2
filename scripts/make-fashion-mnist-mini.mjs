// Writes resources/datasets/fashion-mnist-mini: a seeded, class-stratified subset of Debian's
// Fashion-MNIST (package `dataset-fashion-mnist`) in the original gzipped IDX format, so that
// evaluation works on first launch with no download.
//
//   node scripts/make-fashion-mnist-mini.mjs [--source DIR] [--out DIR] [--seed N]
//
// The output is byte-for-byte reproducible: the same source and seed give the same files.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
	const at = args.indexOf(`--${name}`);
	return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const sourceDir = option('source', '/usr/share/datasets/fashion-mnist');
const outDir = option('out', path.join(root, 'resources/datasets/fashion-mnist-mini'));
const seed = Number(option('seed', '2021'));
const trainPerClass = 500;
const testPerClass = 100;
const classNames = [
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
];

/** mulberry32: small, well-known and easy to reimplement when checking the subset elsewhere. */
function mulberry32(state) {
	return () => {
		state = (state + 0x6d2b79f5) | 0;
		let t = Math.imul(state ^ (state >>> 15), 1 | state);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function readIdx(file, expectedMagic) {
	const bytes = zlib.gunzipSync(fs.readFileSync(file));
	const magic = bytes.readUInt32BE(0);
	if (magic !== expectedMagic) throw new Error(`${file}: magic ${magic.toString(16)}`);
	const dims = [];
	for (let d = 0; d < (magic & 0xff); d++) dims.push(bytes.readUInt32BE(4 + 4 * d));
	const headerLength = 4 + 4 * dims.length;
	const expected = dims.reduce((a, b) => a * b, 1);
	if (bytes.length - headerLength !== expected) throw new Error(`${file}: wrong length`);
	return { dims, data: bytes.subarray(headerLength) };
}

function writeIdx(file, magic, dims, data) {
	const header = Buffer.alloc(4 + 4 * dims.length);
	header.writeUInt32BE(magic, 0);
	dims.forEach((value, d) => header.writeUInt32BE(value, 4 + 4 * d));
	// gzip's header time stays 0 in Node, so the output is reproducible.
	fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([header, data]), { level: 9 }));
}

/** The chosen indices, `perClass` of each class, in their original order. */
function stratifiedSubset(labels, perClass, random) {
	const byClass = classNames.map(() => []);
	labels.forEach((label, index) => byClass[label].push(index));
	const chosen = [];
	for (const indices of byClass) {
		if (indices.length < perClass) throw new Error(`only ${indices.length} images in a class`);
		for (let i = indices.length - 1; i > 0; i--) {
			const j = Math.floor(random() * (i + 1));
			[indices[i], indices[j]] = [indices[j], indices[i]];
		}
		chosen.push(...indices.slice(0, perClass));
	}
	return chosen.sort((a, b) => a - b);
}

function subsetSplit(prefix, perClass, random) {
	const images = readIdx(path.join(sourceDir, `${prefix}-images-idx3-ubyte.gz`), 0x803);
	const labels = readIdx(path.join(sourceDir, `${prefix}-labels-idx1-ubyte.gz`), 0x801);
	const [count, height, width] = images.dims;
	if (labels.dims[0] !== count) throw new Error(`${prefix}: image and label counts differ`);
	const chosen = stratifiedSubset(labels.data, perClass, random);
	const pixels = height * width;
	const imageData = Buffer.alloc(chosen.length * pixels);
	const labelData = Buffer.alloc(chosen.length);
	chosen.forEach((source, target) => {
		images.data.copy(imageData, target * pixels, source * pixels, (source + 1) * pixels);
		labelData[target] = labels.data[source];
	});
	writeIdx(
		path.join(outDir, `${prefix}-images-idx3-ubyte.gz`),
		0x803,
		[chosen.length, height, width],
		imageData
	);
	writeIdx(path.join(outDir, `${prefix}-labels-idx1-ubyte.gz`), 0x801, [chosen.length], labelData);
	return chosen.length;
}

fs.mkdirSync(outDir, { recursive: true });
const random = mulberry32(seed);
const trainCount = subsetSplit('train', trainPerClass, random);
const testCount = subsetSplit('t10k', testPerClass, random);

fs.writeFileSync(
	path.join(outDir, 'LICENSE'),
	`The MIT License (MIT)

Copyright (c) 2017 Zalando SE

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`
);
fs.writeFileSync(path.join(outDir, 'classes.txt'), `${classNames.join('\n')}\n`);
fs.writeFileSync(
	path.join(outDir, 'README.md'),
	`# fashion-mnist-mini

A small subset of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist)
(Xiao, Rasul and Vollgraf, 2017), bundled so that NoiseLab can evaluate encoders on real images
on first launch, with no download. NoiseLab calls it \`fashion-mnist-mini\`.

- **Source:** the original files, as installed by the Debian package
  \`dataset-fashion-mnist\` in \`${sourceDir}\`.
- **Content:** ${trainCount.toLocaleString('en')} training images (${trainPerClass} per class) out of the 60,000
  of the original training set, and ${testCount.toLocaleString('en')} test images (${testPerClass} per class) out
  of its 10,000 test images. 28×28 grayscale, in the original gzipped IDX format and file
  names. Images keep their original relative order.
- **How it was made:** \`node scripts/make-fashion-mnist-mini.mjs --seed ${seed}\`. For each class,
  the indices of that class are shuffled (Fisher–Yates driven by mulberry32 seeded with
  ${seed}; the training set is drawn first, then the test set from the same stream) and the
  first ${trainPerClass} (train) or ${testPerClass} (test) are kept. Running the script again gives the same
  bytes.
- **Classes** (labels 0 to 9, also in \`classes.txt\`): ${classNames.slice(0, 5).join(', ')},
  ${classNames.slice(5).join(', ')}.
- **Licence:** MIT, Copyright (c) 2017 Zalando SE; see \`LICENSE\`.
`
);
const sizes = fs
	.readdirSync(outDir)
	.map((file) => `${file} ${(fs.statSync(path.join(outDir, file)).size / 1024).toFixed(0)} KiB`);
console.log(
	`Wrote ${trainCount} train and ${testCount} test images to ${outDir}:\n  ${sizes.join('\n  ')}`
);
