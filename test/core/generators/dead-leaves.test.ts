import { describe, expect, it } from 'vitest';
import {
	SpanList,
	createDeadLeavesGenerator,
	createRadiusLaw,
	deadLeavesParams,
	deadLeavesPresets,
	deadLeavesShapes,
	drawDeadLeaves,
	pixelRadius,
	rasteriseDisc,
	rasterisePolygon,
	rasteriseRectangle,
	renderLeafSequence,
	sampleRadiusIndex,
	type DeadLeavesParams,
	type LeafRecord,
	type TextureSource
} from '../../../src/core/generators/dead-leaves';
import { createImage } from '../../../src/core/generators/image';
import { defaultParams, paramsValidator } from '../../../src/core/generators/params';
import { Random } from '../../../src/core/generators/random';

function paramsWith(overrides: Partial<DeadLeavesParams>): DeadLeavesParams {
	return { ...defaultParams(deadLeavesParams), ...overrides };
}

/** Rows of '#' (covered) and '.' for a set of spans on a size×size canvas. */
function spansToRows(spans: SpanList, size: number): string[] {
	const cells = Array.from({ length: size }, () => Array<string>(size).fill('.'));
	for (let i = 0; i < spans.length; i++) {
		const y = spans.data[i * 3] as number;
		for (let x = spans.data[i * 3 + 1] as number; x <= (spans.data[i * 3 + 2] as number); x++) {
			(cells[y] as string[])[x] = '#';
		}
	}
	return cells.map((row) => row.join(''));
}

function pixelSet(spans: SpanList, size: number): Set<number> {
	const pixels = new Set<number>();
	for (let i = 0; i < spans.length; i++) {
		const y = spans.data[i * 3] as number;
		for (let x = spans.data[i * 3 + 1] as number; x <= (spans.data[i * 3 + 2] as number); x++) {
			pixels.add(y * size + x);
		}
	}
	return pixels;
}

// Expected masks drawn by OpenCV 4.6 (cv2.circle with thickness -1, cv2.fillPoly) on 12×12.
const opencvMasks: { name: string; draw: (out: SpanList) => void; rows: string[] }[] = [
	{
		name: 'circle r=3 at (5,5)',
		draw: (out) => rasteriseDisc(5, 5, 3, 12, out),
		rows: [
			'............',
			'............',
			'.....#......',
			'...#####....',
			'...#####....',
			'..#######...',
			'...#####....',
			'...#####....',
			'.....#......',
			'............',
			'............',
			'............'
		]
	},
	{
		name: 'circle r=1 in the corner',
		draw: (out) => rasteriseDisc(0, 0, 1, 12, out),
		rows: ['##..........', '#...........', ...Array<string>(10).fill('............')]
	},
	{
		name: 'triangle',
		draw: (out) => rasterisePolygon([1, 10, 4], [1, 3, 9], 3, 12, out),
		rows: [
			'............',
			'.###........',
			'.#######....',
			'..#########.',
			'..########..',
			'..#######...',
			'...#####....',
			'...####.....',
			'....##......',
			'....#.......',
			'............',
			'............'
		]
	},
	{
		name: 'clipped quadrilateral',
		draw: (out) => rasterisePolygon([-3, 6, 11, 3], [2, -2, 6, 10], 4, 12, out),
		rows: [
			'..######....',
			'#########...',
			'#########...',
			'##########..',
			'###########.',
			'###########.',
			'############',
			'.##########.',
			'.########...',
			'..#####.....',
			'...##.......',
			'............'
		]
	},
	{
		name: 'oriented square',
		draw: (out) => rasterisePolygon([5, 10, 5, 0], [0, 5, 10, 5], 4, 12, out),
		rows: [
			'.....#......',
			'....###.....',
			'...#####....',
			'..#######...',
			'.#########..',
			'###########.',
			'.#########..',
			'..#######...',
			'...#####....',
			'....###.....',
			'.....#......',
			'............'
		]
	},
	{
		name: 'thin sliver (outline only)',
		draw: (out) => rasterisePolygon([0, 11, 11], [0, 3, 4], 3, 12, out),
		rows: [
			'##..........',
			'..####......',
			'.....#####..',
			'.......#####',
			'..........##',
			...Array<string>(7).fill('............')
		]
	}
];

describe('dead-leaves rasterisers', () => {
	for (const { name, draw, rows } of opencvMasks) {
		it(`matches OpenCV's pixels: ${name}`, () => {
			const spans = new SpanList();
			draw(spans);
			expect(spansToRows(spans, 12)).toEqual(rows);
		});
	}

	it('fills a disc of about πR² pixels, without leaving the canvas', () => {
		for (const radius of [10, 20, 40]) {
			const spans = new SpanList();
			rasteriseDisc(100, 100, radius, 200, spans);
			expect(spans.pixelCount() / (Math.PI * radius * radius)).toBeCloseTo(1, 1);
		}
		const clipped = new SpanList();
		rasteriseDisc(2, 3, 10, 32, clipped);
		for (let i = 0; i < clipped.length; i++) {
			expect(clipped.data[i * 3 + 1]).toBeGreaterThanOrEqual(0);
			expect(clipped.data[i * 3]).toBeGreaterThanOrEqual(0);
		}
	});

	it('draws a square of radius R with side 2·trunc(R·√2/2) + 1, as fillPoly does', () => {
		for (const radius of [1, 3, 10, 25]) {
			const half = Math.trunc((radius * Math.SQRT2) / 2);
			const spans = new SpanList();
			rasteriseRectangle(50 - half, 50 - half, 50 + half, 50 + half, 128, spans);
			expect(spans.length).toBe(2 * half + 1);
			expect(spans.pixelCount()).toBe((2 * half + 1) ** 2);
			const polygon = new SpanList();
			const xs = [50 - half, 50 + half, 50 + half, 50 - half];
			const ys = [50 - half, 50 - half, 50 + half, 50 + half];
			rasterisePolygon(xs, ys, 4, 128, polygon);
			expect(pixelSet(polygon, 128)).toEqual(pixelSet(spans, 128));
		}
	});

	it('draws axis-aligned rectangles like the general polygon fill, clipped ones too', () => {
		const random = new Random(3, 0);
		for (let trial = 0; trial < 300; trial++) {
			const x0 = random.int(60) - 14;
			const y0 = random.int(60) - 14;
			const x1 = x0 + random.int(20);
			const y1 = y0 + random.int(20);
			const fast = new SpanList();
			rasteriseRectangle(x0, y0, x1, y1, 32, fast);
			const general = new SpanList();
			rasterisePolygon([x1, x1, x0, x0], [y1, y0, y0, y1], 4, 32, general);
			expect(pixelSet(fast, 32)).toEqual(pixelSet(general, 32));
		}
	});
});

describe('dead-leaves radius law', () => {
	const law = createRadiusLaw(3, 0.03, 1);

	it('discretises r^-σ − rmax^-σ over linspace(rmin, rmax, 200) like the paper', () => {
		expect(law.radii.length).toBe(200);
		expect(law.radii[0]).toBeCloseTo(0.03, 12);
		expect(law.radii[199]).toBe(1);
		for (let k = 1; k < 200; k++)
			expect(law.cdf[k]).toBeGreaterThanOrEqual(law.cdf[k - 1] as number);
		expect(law.cdf[199]).toBe(1);
		// The density is zero at rmax, so the last two CDF values tie and argmin keeps the first.
		expect(law.cdf[198]).toBe(1);
		expect(sampleRadiusIndex(law, 1 - 1e-12)).toBe(198);
		expect(sampleRadiusIndex(law, 0)).toBe(0);
		expect(pixelRadius(law.radii[0] as number, 128)).toBe(3);
		expect(pixelRadius(0.001, 128)).toBe(1);
		expect(() => createRadiusLaw(3, 0.5, 0.5)).toThrow(/rmin/);
	});

	it('draws leaf radii from that law (KS test on the leaves of real images)', () => {
		// Probability of each index under nearest-CDF sampling of u ~ U(0, 1).
		const probabilities = new Float64Array(200);
		for (let k = 0; k < 200; k++) {
			const lower = k === 0 ? 0 : ((law.cdf[k - 1] as number) + (law.cdf[k] as number)) / 2;
			const upper = k === 199 ? 1 : ((law.cdf[k] as number) + (law.cdf[k + 1] as number)) / 2;
			probabilities[k] = Math.max(0, upper - lower);
		}
		const counts = new Float64Array(200);
		let total = 0;
		const params = paramsWith({ shapes: ['circle'] });
		for (let index = 0; index < 6; index++) {
			drawDeadLeaves(params, 5, index, 64, {
				onLeaf: (leaf) => {
					counts[leaf.radiusIndex] = (counts[leaf.radiusIndex] ?? 0) + 1;
					total++;
					expect(leaf.radius).toBe(pixelRadius(law.radii[leaf.radiusIndex] as number, 64));
				}
			});
		}
		expect(total).toBeGreaterThan(2000);
		let empirical = 0;
		let theoretical = 0;
		let distance = 0;
		for (let k = 0; k < 200; k++) {
			empirical += (counts[k] as number) / total;
			theoretical += probabilities[k] as number;
			distance = Math.max(distance, Math.abs(empirical - theoretical));
		}
		expect(distance).toBeLessThan(1.63 / Math.sqrt(total));
		// The spec's derived figure: P(r = rmin) ≈ 0.36.
		expect(probabilities[0]).toBeCloseTo(0.36, 1);
	});
});

describe('dead-leaves rendering', () => {
	it('is deterministic per (seed, index) and differs between indices', () => {
		const params = paramsWith({});
		const first = drawDeadLeaves(params, 9, 4, 64).image.data;
		const again = drawDeadLeaves(params, 9, 4, 64).image.data;
		const other = drawDeadLeaves(params, 9, 5, 64).image.data;
		expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
		expect(Buffer.from(other).equals(Buffer.from(first))).toBe(false);
		// Drawing other sizes in between does not disturb the cached scratch memory's results.
		drawDeadLeaves(params, 1, 1, 96);
		expect(
			Buffer.from(drawDeadLeaves(params, 9, 4, 64).image.data).equals(Buffer.from(first))
		).toBe(true);
	});

	it('covers the whole canvas at the default settings, well within the leaf budget', () => {
		for (const preset of deadLeavesPresets.filter((p) => p.params.textured === false)) {
			const params = paramsWith(preset.params as Partial<DeadLeavesParams>);
			for (let index = 0; index < 2; index++) {
				const result = drawDeadLeaves(params, 2, index, 128);
				expect(result.leafCount).toBeLessThan(params.leafBudget);
				expect(result.regions.every((leaf) => leaf >= 0)).toBe(true);
				const data = result.image.data;
				let black = 0;
				for (let p = 0; p < data.length; p += 3) {
					if (data[p] === 0 && data[p + 1] === 0 && data[p + 2] === 0) black++;
				}
				expect(black).toBe(0);
			}
		}
	});

	it('stops at the budget and leaves the rest black', () => {
		const result = drawDeadLeaves(paramsWith({ leafBudget: 10 }), 1, 0, 64);
		expect(result.leafCount).toBe(10);
		expect(result.regions.some((leaf) => leaf < 0)).toBe(true);
	});

	it('has no anti-aliasing: every pixel is exactly the colour of the leaf on top', () => {
		const leaves: LeafRecord[] = [];
		const params = paramsWith({});
		const result = drawDeadLeaves(params, 3, 7, 64, { onLeaf: (leaf) => leaves.push(leaf) });
		expect(leaves.length).toBe(result.leafCount);
		const data = result.image.data;
		const colours = new Set<number>();
		for (let p = 0; p < result.regions.length; p++) {
			const colour =
				((data[p * 3] as number) << 16) |
				((data[p * 3 + 1] as number) << 8) |
				(data[p * 3 + 2] as number);
			colours.add(colour);
			expect(colour).toBe((leaves[result.regions[p] as number] as LeafRecord).colour);
		}
		expect(colours.size).toBeLessThanOrEqual(result.leafCount);
		// The last leaf lies on top of everything: all its pixels show its colour.
		const top = leaves[leaves.length - 1] as LeafRecord;
		const spans = new SpanList();
		if (top.shape === 'circle') rasteriseDisc(top.centreX, top.centreY, top.radius, 64, spans);
		else {
			const xs = top.vertices.map(([x]) => x);
			const ys = top.vertices.map(([, y]) => y);
			rasterisePolygon(xs, ys, xs.length, 64, spans);
		}
		for (const pixel of pixelSet(spans, 64)) {
			expect(result.regions[pixel]).toBe(leaves.length - 1);
		}
		// Paper colour law: floor(U·255), so no channel reaches 255.
		expect(data.every((value) => value < 255)).toBe(true);
	});

	it('equals back-to-front painting with the paper’s stopping rule, black leaves included', () => {
		const size = 32;
		const stoppedEarly: boolean[] = [];
		for (let trial = 0; trial < 12; trial++) {
			const blackRate = trial % 2 === 0 ? 0.01 : 0.2;
			const makeSupplier = () => {
				const random = new Random(17, trial);
				return (spans: SpanList): number => {
					const x = random.int(size);
					const y = random.int(size);
					const radius = 1 + random.int(8);
					if (random.uniform() < 0.5) rasteriseDisc(x, y, radius, size, spans);
					else
						rasterisePolygon([x - radius, x + radius, x], [y, y + 1, y + radius], 3, size, spans);
					// Black leaves (which un-cover pixels) far more often than the paper's 1/255³.
					const colour = random.uniform() < blackRate ? 0 : 1 + random.int(0xfffffe);
					return colour;
				};
			};
			const budget = 400;
			// Reference: paint every leaf over the previous ones and stop once nothing is black.
			const supplier = makeSupplier();
			const painted = new Int32Array(size * size).fill(-1);
			const colours: number[] = [];
			let referenceCount = 0;
			for (let leaf = 0; leaf < budget; leaf++) {
				const spans = new SpanList();
				colours.push(supplier(spans));
				for (const pixel of pixelSet(spans, size)) painted[pixel] = leaf;
				referenceCount = leaf + 1;
				if (painted.every((owner) => owner >= 0 && colours[owner] !== 0)) break;
			}
			const rendering = renderLeafSequence(size, budget, makeSupplier());
			expect(rendering.leafCount).toBe(referenceCount);
			expect(Array.from(rendering.regions)).toEqual(Array.from(painted));
			stoppedEarly.push(referenceCount < budget && colours.includes(0));
		}
		// Both endings of the sequence were exercised, with black leaves before the stop.
		expect(stoppedEarly).toContain(true);
		expect(stoppedEarly).toContain(false);
	});
});

describe('textured dead leaves', () => {
	const textureValue = (texture: number, offset: number) => (texture * 37 + offset * 11) & 255;
	const calls: number[] = [];
	const fakeTextures: TextureSource = (texture, size) => {
		calls.push(texture);
		const image = createImage(size);
		for (let i = 0; i < image.data.length; i++) image.data[i] = textureValue(texture, i);
		return image;
	};

	it('copies one pool texture per leaf, pixel for pixel at the same coordinates', () => {
		calls.length = 0;
		const pool = 40;
		const params = paramsWith({ textured: true, texturePoolSize: pool });
		const result = drawDeadLeaves(params, 4, 2, 64, { textures: fakeTextures });
		expect(calls.length).toBeGreaterThan(1);
		expect(calls.every((texture) => texture >= 0 && texture < pool)).toBe(true);
		const textureOfRegion = new Map<number, number>();
		const data = result.image.data;
		for (let p = 0; p < result.regions.length; p++) {
			const region = result.regions[p] as number;
			let texture = textureOfRegion.get(region);
			if (texture === undefined) {
				texture = calls.find((t) =>
					[0, 1, 2].every((c) => data[p * 3 + c] === textureValue(t, p * 3 + c))
				);
				expect(texture).toBeDefined();
				textureOfRegion.set(region, texture as number);
			}
			for (let c = 0; c < 3; c++)
				expect(data[p * 3 + c]).toBe(textureValue(texture as number, p * 3 + c));
		}
		expect(textureOfRegion.size).toBeGreaterThan(10);
		expect(new Set(textureOfRegion.values()).size).toBeGreaterThan(5);
		const again = drawDeadLeaves(params, 4, 2, 64, { textures: fakeTextures }).image.data;
		expect(Buffer.from(again).equals(Buffer.from(data))).toBe(true);
	});

	it('keeps the leaf layout of the untextured image', () => {
		const plain = drawDeadLeaves(paramsWith({}), 4, 3, 64);
		const textured = drawDeadLeaves(paramsWith({ textured: true }), 4, 3, 64, {
			textures: fakeTextures
		});
		expect(Array.from(textured.regions)).toEqual(Array.from(plain.regions));
	});

	it('refuses to draw textured leaves without a texture source', () => {
		expect(() => drawDeadLeaves(paramsWith({ textured: true }), 1, 1, 32)).toThrow(/texture/);
	});
});

describe('dead-leaves generator and presets', () => {
	const generator = createDeadLeavesGenerator(fakeSource);

	function fakeSource(texture: number, size: number) {
		const image = createImage(size);
		image.data.fill(texture & 255);
		return image;
	}

	it('is the dead_leaves generator with valid defaults and presets', () => {
		expect(generator.id).toBe('dead_leaves');
		expect(generator.family).toBe('dead_leaves');
		const validator = paramsValidator(generator.params);
		expect(validator.safeParse(defaultParams(generator.params)).success).toBe(true);
		expect(deadLeavesPresets.map((preset) => preset.name)).toEqual([
			'dead_leaves-squares',
			'dead_leaves-oriented',
			'dead_leaves-mixed',
			'dead_leaves-textures'
		]);
		for (const preset of deadLeavesPresets) {
			expect(preset.generator).toBe('dead_leaves');
			expect(preset.size).toBe(128);
			expect(validator.safeParse(preset.params).success).toBe(true);
		}
		expect(deadLeavesPresets[2]?.params.shapes).toEqual([...deadLeavesShapes]);
	});

	it('generates images of the requested size for every preset, from 32 px', async () => {
		for (const preset of deadLeavesPresets) {
			const defaults = defaultParams(generator.params);
			const params = { ...defaults, ...preset.params } as typeof defaults;
			const image = await generator.generate(params, 1, 0, 32);
			expect(image.size).toBe(32);
			expect(image.data.length).toBe(32 * 32 * 3);
		}
	});

	it('does not depend on the order the shapes are listed in', () => {
		const a = drawDeadLeaves(paramsWith({ shapes: ['circle', 'triangle'] }), 1, 2, 48).image.data;
		const b = drawDeadLeaves(paramsWith({ shapes: ['triangle', 'circle'] }), 1, 2, 48).image.data;
		expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
	});
});
