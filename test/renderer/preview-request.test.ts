import { describe, expect, it } from 'vitest';
import { Latest } from '../../src/renderer/lib/request';
import {
	answersCurrent,
	costKey,
	expensiveGridMs,
	planPreview,
	previewKey,
	type PreviewRequest
} from '../../src/renderer/lib/studio/preview-request';

const squares: PreviewRequest = {
	generator: 'dead_leaves',
	params: { shape: 'squares' },
	size: 128,
	seed: 0,
	side: 4
};
const oriented: PreviewRequest = { ...squares, params: { shape: 'oriented' } };

describe('the request guard', () => {
	it('keeps only the newest request current, and supersede retires it', () => {
		const latest = new Latest();
		const first = latest.begin();
		expect(first()).toBe(true);
		const second = latest.begin();
		expect(first()).toBe(false);
		expect(second()).toBe(true);
		latest.supersede();
		expect(second()).toBe(false);
	});
});

describe('Studio previews carry the request they answer', () => {
	it('drops a grid answered for another preset, size, seed or grid', () => {
		expect(answersCurrent(squares, squares)).toBe(true);
		expect(answersCurrent(squares, oriented)).toBe(false);
		expect(answersCurrent(squares, { ...squares, size: 64 })).toBe(false);
		expect(answersCurrent(squares, { ...squares, seed: 1 })).toBe(false);
		expect(answersCurrent(squares, { ...squares, side: 2 })).toBe(false);
		expect(previewKey(squares)).toBe(previewKey({ ...squares, params: { shape: 'squares' } }));
	});

	it('costs depend on generator, parameters and size, not on the seed or grid', () => {
		const reseeded: PreviewRequest = { ...squares, seed: 9, side: 2 };
		expect(costKey(squares)).toBe(costKey(reseeded));
		expect(costKey(squares)).not.toBe(costKey(oriented));
		expect(costKey(squares)).not.toBe(costKey({ ...squares, size: 256 }));
	});

	it('waits for "Render previews" once the measured cost of a grid exceeds the threshold', () => {
		const plan = (msPerImage: number | undefined, images = 16, declaredSlow = false) =>
			planPreview({ declaredSlow, msPerImage, images }).kind;
		expect(plan(undefined)).toBe('probe');
		expect(plan(10)).toBe('grid');
		expect(plan(expensiveGridMs / 16 + 1)).toBe('on-request');
		expect(plan(expensiveGridMs / 4 - 1, 4)).toBe('grid');
		expect(plan(1, 16, true)).toBe('on-request');
	});
});
