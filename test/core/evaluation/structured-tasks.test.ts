import { describe, expect, it } from 'vitest';
import type { EvalDataset, LabelledSplit } from '../../../src/core/evaluation/dataset';
import {
	generateStructuredTask,
	structuredSample,
	structuredSeparation,
	structuredTasks,
	type StructuredSample
} from '../../../src/core/evaluation/structured-tasks';

const size = 64;
const pixelCount = size * size;
const imageBytes = pixelCount * 3;

function imageOf(split: LabelledSplit, index: number): Uint8Array {
	const bytes = split.images.width * split.images.height * 3;
	return split.images.data.subarray(index * bytes, (index + 1) * bytes);
}

/**
 * Foreground pixels of an image, found from the pixels alone and the background's base colour:
 * the threshold sits halfway between the two documented separation bounds.
 */
function segment(pixels: Uint8Array, background: readonly number[]): Uint8Array {
	const threshold =
		(structuredSeparation.backgroundMaxDistance + structuredSeparation.shapeMinDistance) / 2;
	const foreground = new Uint8Array(pixels.length / 3);
	for (let p = 0; p < foreground.length; p++) {
		const distance = Math.hypot(
			(pixels[3 * p] as number) - (background[0] as number),
			(pixels[3 * p + 1] as number) - (background[1] as number),
			(pixels[3 * p + 2] as number) - (background[2] as number)
		);
		foreground[p] = distance > threshold ? 1 : 0;
	}
	return foreground;
}

/** Number of 8-connected components of the foreground. */
function countComponents(foreground: Uint8Array, width: number): number {
	const seen = new Uint8Array(foreground.length);
	const stack: number[] = [];
	let components = 0;
	for (let start = 0; start < foreground.length; start++) {
		if (!foreground[start] || seen[start]) continue;
		components++;
		seen[start] = 1;
		stack.push(start);
		while (stack.length > 0) {
			const p = stack.pop() as number;
			const x = p % width;
			const y = (p - x) / width;
			for (let dy = -1; dy <= 1; dy++) {
				for (let dx = -1; dx <= 1; dx++) {
					const nx = x + dx;
					const ny = y + dy;
					if (nx < 0 || ny < 0 || nx >= width || ny * width >= foreground.length) continue;
					const q = ny * width + nx;
					if (foreground[q] && !seen[q]) {
						seen[q] = 1;
						stack.push(q);
					}
				}
			}
		}
	}
	return components;
}

/** Area, centroid (pixel centres at i + 0.5) and central second moments of the foreground. */
function moments(foreground: Uint8Array, width: number) {
	let area = 0;
	let sumX = 0;
	let sumY = 0;
	for (let p = 0; p < foreground.length; p++) {
		if (!foreground[p]) continue;
		area++;
		sumX += (p % width) + 0.5;
		sumY += Math.floor(p / width) + 0.5;
	}
	const centreX = sumX / area;
	const centreY = sumY / area;
	let xx = 0;
	let yy = 0;
	let xy = 0;
	for (let p = 0; p < foreground.length; p++) {
		if (!foreground[p]) continue;
		const dx = (p % width) + 0.5 - centreX;
		const dy = Math.floor(p / width) + 0.5 - centreY;
		xx += dx * dx;
		yy += dy * dy;
		xy += dx * dy;
	}
	return { area, centreX, centreY, xx, yy, xy };
}

/** Each dataset image with the sample record that reproduces it. */
function samplesOf(id: string, dataset: EvalDataset, split: 'train' | 'test' = 'train') {
	const labelled = dataset[split];
	return Array.from({ length: labelled.labels.length }, (_, index) => ({
		pixels: imageOf(labelled, index),
		label: labelled.labels[index] as number,
		sample: structuredSample(id, { split, index, size: labelled.images.width })
	}));
}

function angleDifference(a: number, b: number): number {
	const difference = Math.abs(a - b) % Math.PI;
	return Math.min(difference, Math.PI - difference);
}

describe('structuredTasks', () => {
	it('lists the four VTAB-like tasks with their class counts', () => {
		expect(structuredTasks.map((task) => [task.id, task.classes.length])).toEqual([
			['count-shapes', 6],
			['position-x', 4],
			['orientation', 8],
			['size', 4]
		]);
		for (const task of structuredTasks) {
			expect(task.label.length).toBeGreaterThan(0);
			expect(task.description.length).toBeGreaterThan(20);
			expect(new Set(task.classes).size).toBe(task.classes.length);
		}
	});
});

describe('generateStructuredTask', () => {
	it('packs RGB images of the requested size with labels and a stable name', () => {
		for (const [taskSize, expectedSize] of [
			[undefined, 64],
			[32, 32]
		] as const) {
			const dataset = generateStructuredTask('size', { train: 10, test: 7, size: taskSize });
			expect(dataset.name).toBe('structured:size');
			expect(dataset.classes).toEqual(['small', 'medium', 'large', 'huge']);
			expect(dataset.notes.join(' ')).toContain('disjoint');
			for (const [split, count] of [
				[dataset.train, 10],
				[dataset.test, 7]
			] as const) {
				expect(split.images).toMatchObject({
					count,
					width: expectedSize,
					height: expectedSize,
					channels: 3
				});
				expect(split.images.data.length).toBe(count * expectedSize * expectedSize * 3);
				expect(split.labels.length).toBe(count);
				for (const label of split.labels) expect(label >= 0 && label < 4).toBe(true);
			}
		}
	});

	it('gives the same bytes for the same options, and different images for another seed or task', () => {
		for (const task of structuredTasks) {
			const first = generateStructuredTask(task.id, { train: 12, test: 6, seed: 5 });
			const again = generateStructuredTask(task.id, { train: 12, test: 6, seed: 5 });
			const other = generateStructuredTask(task.id, { train: 12, test: 6, seed: 6 });
			expect(again.train.images.data).toEqual(first.train.images.data);
			expect(again.test.images.data).toEqual(first.test.images.data);
			expect(again.train.labels).toEqual(first.train.labels);
			expect(other.train.images.data).not.toEqual(first.train.images.data);
		}
		const count = generateStructuredTask('count-shapes', { train: 4, test: 1 });
		const size = generateStructuredTask('size', { train: 4, test: 1 });
		expect(imageOf(count.train, 0)).not.toEqual(imageOf(size.train, 0));
	});

	it('balances labels to within one image per class, in a shuffled order', () => {
		for (const task of structuredTasks) {
			const classes = task.classes.length;
			for (const count of [1, classes - 1, 5 * classes, 7 * classes + 3]) {
				const { train } = generateStructuredTask(task.id, { train: count, test: 1 });
				const perClass = new Array<number>(classes).fill(0);
				for (const label of train.labels) perClass[label] = (perClass[label] as number) + 1;
				expect(Math.max(...perClass) - Math.min(...perClass)).toBeLessThanOrEqual(1);
				expect(perClass.reduce((a, b) => a + b)).toBe(count);
			}
			const { train } = generateStructuredTask(task.id, { train: 5 * classes, test: 1 });
			const cyclic = Array.from(train.labels).every((label, i) => label === i % classes);
			expect(cyclic).toBe(false);
		}
	});

	it('extends a split when it grows: a larger set starts with the smaller one', () => {
		const small = generateStructuredTask('orientation', { train: 13, test: 5 });
		const large = generateStructuredTask('orientation', { train: 40, test: 9 });
		expect(large.train.labels.subarray(0, 13)).toEqual(small.train.labels);
		expect(large.train.images.data.subarray(0, 13 * imageBytes)).toEqual(small.train.images.data);
		expect(large.test.images.data.subarray(0, 5 * imageBytes)).toEqual(small.test.images.data);
	});

	it('draws train and test from disjoint streams: no test image repeats a train image', () => {
		for (const task of structuredTasks) {
			const dataset = generateStructuredTask(task.id, { train: 100, test: 100 });
			const key = (split: LabelledSplit, index: number) =>
				Buffer.from(imageOf(split, index)).toString('base64');
			const trainImages = new Set(Array.from({ length: 100 }, (_, i) => key(dataset.train, i)));
			expect(trainImages.size).toBe(100);
			for (let i = 0; i < 100; i++) expect(trainImages.has(key(dataset.test, i))).toBe(false);
			// Not only different noise: the drawn scenes differ.
			const trainCentres = new Set(
				Array.from({ length: 100 }, (_, index) =>
					structuredSample(task.id, { split: 'train', index }).shapes[0]?.centreX.toFixed(6)
				)
			);
			for (let index = 0; index < 100; index++) {
				const centre = structuredSample(task.id, { split: 'test', index }).shapes[0]?.centreX;
				expect(trainCentres.has(centre?.toFixed(6))).toBe(false);
			}
		}
	});

	it('rejects unknown tasks and impossible sizes with messages that say what to pass', () => {
		expect(() => generateStructuredTask('clevr', { train: 1, test: 1 })).toThrow(
			/Unknown structured task "clevr".*count-shapes/
		);
		expect(() => generateStructuredTask('size', { train: 0, test: 1 })).toThrow(/"train".*got 0/);
		expect(() => generateStructuredTask('size', { train: 1, test: 2.5 })).toThrow(/"test"/);
		expect(() => generateStructuredTask('size', { train: 1, test: 1, size: 8 })).toThrow(
			/size.*32 to 512, got 8/
		);
		expect(() => generateStructuredTask('size', { train: 1, test: 1, seed: 0.5 })).toThrow(/seed/);
		expect(() => structuredSample('size', { split: 'train', index: -1 })).toThrow(/index/);
	});
});

describe('structuredSample', () => {
	it('reproduces the dataset image and label it names', () => {
		for (const task of structuredTasks) {
			const dataset = generateStructuredTask(task.id, { train: 9, test: 9, size: 48, seed: 3 });
			for (const split of ['train', 'test'] as const) {
				for (const index of [0, 4, 8]) {
					const sample = structuredSample(task.id, { split, index, size: 48, seed: 3 });
					expect(sample.pixels).toEqual(imageOf(dataset[split], index));
					expect(sample.label).toBe(dataset[split].labels[index]);
				}
			}
		}
	});

	it('keeps every shape pixel and every background pixel on its side of the separation', () => {
		let closestShape = Infinity;
		let farthestBackground = 0;
		for (const task of structuredTasks) {
			for (let index = 0; index < 60; index++) {
				const sample: StructuredSample = structuredSample(task.id, { split: 'test', index });
				const { pixels, shapeMask, background } = sample;
				for (let p = 0; p < pixelCount; p++) {
					const distance = Math.hypot(
						(pixels[3 * p] as number) - background[0],
						(pixels[3 * p + 1] as number) - background[1],
						(pixels[3 * p + 2] as number) - background[2]
					);
					if (shapeMask[p]) closestShape = Math.min(closestShape, distance);
					else farthestBackground = Math.max(farthestBackground, distance);
				}
			}
		}
		expect(closestShape).toBeGreaterThanOrEqual(structuredSeparation.shapeMinDistance);
		expect(farthestBackground).toBeLessThanOrEqual(structuredSeparation.backgroundMaxDistance);
		// The distractors are really there: the background is not flat.
		expect(farthestBackground).toBeGreaterThan(20);
	});
});

describe('labels are visible in the pixels', () => {
	it('count-shapes: the image has label + 1 separate shapes (8-connected components)', () => {
		for (const taskSize of [64, 32]) {
			const dataset = generateStructuredTask('count-shapes', {
				train: 120,
				test: 1,
				size: taskSize
			});
			for (const { pixels, label, sample } of samplesOf('count-shapes', dataset)) {
				expect(sample.shapes.length).toBe(label + 1);
				expect(countComponents(segment(pixels, sample.background), taskSize)).toBe(label + 1);
			}
		}
	});

	it('position-x: the centroid of the drawn shape lies in the quarter its label names', () => {
		const dataset = generateStructuredTask('position-x', { train: 120, test: 1 });
		let largestOffset = 0;
		for (const { pixels, label, sample } of samplesOf('position-x', dataset)) {
			const { centreX } = moments(segment(pixels, sample.background), size);
			expect(Math.floor(centreX / (size / 4))).toBe(label);
			largestOffset = Math.max(largestOffset, Math.abs(centreX - (sample.shapes[0]?.centreX ?? 0)));
		}
		expect(largestOffset).toBeLessThan(1);
	});

	it('orientation: the image-moment orientation of the bar falls in its 22.5° bin', () => {
		const dataset = generateStructuredTask('orientation', { train: 160, test: 1 });
		const binWidth = Math.PI / 8;
		let largestError = 0;
		for (const { pixels, label, sample } of samplesOf('orientation', dataset)) {
			const { xx, yy, xy } = moments(segment(pixels, sample.background), size);
			// Moments in image axes (y down); negate for counter-clockwise on screen.
			const measured = (-0.5 * Math.atan2(2 * xy, xx - yy) + Math.PI) % Math.PI;
			expect(angleDifference(measured, label * binWidth)).toBeLessThan(binWidth / 2);
			largestError = Math.max(
				largestError,
				angleDifference(measured, sample.shapes[0]?.angle ?? 0)
			);
		}
		expect(largestError).toBeLessThan((3 * Math.PI) / 180);
	});

	it('size: the equivalent radius of the drawn area falls in the size bin of its label', () => {
		const edges = [0.04, 0.0632, 0.1, 0.158, 0.25];
		const dataset = generateStructuredTask('size', { train: 120, test: 1 });
		for (const { pixels, label, sample } of samplesOf('size', dataset)) {
			const { area } = moments(segment(pixels, sample.background), size);
			const radius = Math.sqrt(area / Math.PI) / size;
			expect(radius).toBeGreaterThan(edges[label] as number);
			expect(radius).toBeLessThan(edges[label + 1] as number);
		}
	});
});

describe('distractors', () => {
	/** Test accuracy of a nearest-class-mean classifier on one feature vector per image. */
	function nearestClassMeanAccuracy(
		dataset: EvalDataset,
		feature: (pixels: Uint8Array) => number[]
	): number {
		const classes = dataset.classes.length;
		const sums: number[][] = [];
		const counts = new Array<number>(classes).fill(0);
		for (let i = 0; i < dataset.train.labels.length; i++) {
			const label = dataset.train.labels[i] as number;
			const values = feature(imageOf(dataset.train, i));
			const sum = (sums[label] ??= new Array<number>(values.length).fill(0));
			values.forEach((value, k) => (sum[k] = (sum[k] as number) + value));
			counts[label] = (counts[label] as number) + 1;
		}
		const means = sums.map((sum, label) => sum.map((value) => value / (counts[label] as number)));
		let correct = 0;
		for (let i = 0; i < dataset.test.labels.length; i++) {
			const values = feature(imageOf(dataset.test, i));
			let best = -1;
			let bestDistance = Infinity;
			means.forEach((mean, label) => {
				const distance = values.reduce((total, v, k) => total + (v - (mean[k] as number)) ** 2, 0);
				if (distance < bestDistance) {
					bestDistance = distance;
					best = label;
				}
			});
			if (best === dataset.test.labels[i]) correct++;
		}
		return correct / dataset.test.labels.length;
	}

	const meanColour = (pixels: Uint8Array) => {
		const sum: [number, number, number] = [0, 0, 0];
		for (let p = 0; p < pixels.length; p += 3) {
			sum[0] += pixels[p] as number;
			sum[1] += pixels[p + 1] as number;
			sum[2] += pixels[p + 2] as number;
		}
		return sum.map((value) => value / (pixels.length / 3));
	};

	it('the mean colour of an image does not predict its label (nearest class mean ≈ chance)', () => {
		for (const task of structuredTasks) {
			const dataset = generateStructuredTask(task.id, { train: 480, test: 480, seed: 11 });
			const chance = 1 / task.classes.length;
			const accuracy = nearestClassMeanAccuracy(dataset, meanColour);
			expect(accuracy, task.id).toBeLessThan(chance + 0.07);
		}
	});

	it('while the same classifier on the intended property is accurate (size: foreground area)', () => {
		const dataset = generateStructuredTask('size', { train: 240, test: 240, seed: 11 });
		// The largest colour cluster is the background; count what lies far from its mean colour.
		const logArea = (pixels: Uint8Array) => {
			const background = meanColour(pixels);
			let area = 0;
			for (let p = 0; p < pixels.length; p += 3) {
				const distance = Math.hypot(
					(pixels[p] as number) - (background[0] as number),
					(pixels[p + 1] as number) - (background[1] as number),
					(pixels[p + 2] as number) - (background[2] as number)
				);
				if (distance > 60) area++;
			}
			return [Math.log(area + 1)];
		};
		expect(nearestClassMeanAccuracy(dataset, logArea)).toBeGreaterThan(0.7);
	});
});
