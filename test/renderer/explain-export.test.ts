import { describe, expect, it } from 'vitest';
import { overlay } from '../../src/core/explain/colormap';
import { singleImageLayout, tileOffset } from '../../src/core/explain/grid';
import { planExport, rgbToRgba } from '../../src/renderer/lib/explain/export';

const size = 32;
const rgb = Uint8Array.from({ length: size * size * 3 }, (_, i) => i % 251);
const map = Uint8Array.from({ length: size * size }, (_, i) => i % 256);
const layout = singleImageLayout(
	{
		size,
		rgb,
		agreement: 0.3,
		encoders: ['noise', 'real'].map((label) => ({
			label,
			map,
			target: { kind: 'embedding' as const, classIndex: null, description: 'own embedding' },
			deletion: 0.2,
			insertion: 0.7
		}))
	},
	{ colormap: 'inferno', opacity: 0.5 }
);
const measure = (text: string) => text.length * 7;

describe('planExport', () => {
	const plan = planExport(layout, measure);

	it('enlarges small tiles by a whole factor and leaves room for the labels', () => {
		// 32 px tiles × 4 = 128 px; 2 columns, 3 rows, 6 px gaps.
		expect(plan.grid.width).toBe(2 * 128 + 6);
		expect(plan.grid.height).toBe(3 * 128 + 2 * 6);
		const widest = Math.max(...layout.rowLabels.flat().map(measure));
		expect(plan.gridX).toBe(12 + widest + 12);
		expect(plan.width).toBe(plan.gridX + plan.grid.width + 12);
		expect(plan.height).toBe(plan.gridY + plan.grid.height + 12);
	});

	it('draws the enlarged overlay pixel for pixel', () => {
		const expected = overlay(rgb, map, 0.5, 'inferno');
		const left = tileOffset(1, 128, 6);
		for (const [x, y] of [
			[0, 0],
			[5, 9],
			[31, 31]
		] as const) {
			const at = ((y * 4 + 3) * plan.grid.width + left + x * 4 + 2) * 3;
			const source = (y * size + x) * 3;
			expect([...plan.grid.rgb.subarray(at, at + 3)]).toEqual([
				...expected.subarray(source, source + 3)
			]);
		}
	});

	it('heads each column above its tiles and puts each row’s lines beside it', () => {
		const headings = plan.labels.filter((label) => label.y < plan.gridY);
		expect(headings.map((label) => [label.text, label.x])).toEqual([
			['image', plan.gridX],
			['map', plan.gridX + 134]
		]);
		const rows = plan.labels.filter((label) => label.y > plan.gridY);
		expect(rows.map((label) => label.text)).toEqual(layout.rowLabels.flat());
		for (const label of rows) expect(label.x + measure(label.text)).toBeLessThan(plan.gridX);
		const lastRow = rows.filter((label) => label.text.startsWith('|A'));
		expect(lastRow[0]?.y).toBeGreaterThan(plan.gridY + tileOffset(2, 128, 6));
	});
});

describe('rgbToRgba', () => {
	it('adds an opaque alpha to each pixel', () => {
		expect([...rgbToRgba(Uint8Array.from([1, 2, 3, 4, 5, 6]))]).toEqual([
			1, 2, 3, 255, 4, 5, 6, 255
		]);
	});
});
