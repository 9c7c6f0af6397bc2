import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
	explainCaption,
	explainPngEntries,
	readPngText,
	withPngText
} from '../../../src/core/explain/png-text';

const source = {
	method: 'Grad-CAM (GradCAM)',
	encoders: [
		{ label: 'noise-one @ step 6', layer: 'conv4', target: 'probe class "Coat" (true label)' },
		{ label: 'noise-one · random init', layer: 'conv4', target: 'probe class "Coat" (true label)' }
	]
};

describe('the text an Explain PNG carries', () => {
	it('names the method, layer, every encoder and its target', () => {
		expect(explainCaption(source)).toEqual([
			'Grad-CAM (GradCAM) at conv4',
			'A: noise-one @ step 6 — explains probe class "Coat" (true label)',
			'B: noise-one · random init — explains probe class "Coat" (true label)'
		]);
		const [first, second] = source.encoders;
		if (!first || !second) throw new Error('two encoders expected');
		const differing = {
			...source,
			encoders: [first, { ...second, target: 'probe class "Pullover"' }]
		};
		expect(explainCaption(differing)[0]).toContain('the encoders explain different targets');
	});

	it('travels inside a real PNG as UTF-8 text chunks that decoders accept', async () => {
		const png = await sharp(Buffer.alloc(4 * 4 * 3, 128), {
			raw: { width: 4, height: 4, channels: 3 }
		})
			.png()
			.toBuffer();
		const tagged = withPngText(new Uint8Array(png), explainPngEntries(source));
		expect(readPngText(tagged)).toEqual({
			Title: 'NoiseLab Explain: Grad-CAM (GradCAM) at conv4',
			Description: explainCaption(source).join('\n'),
			Software: 'NoiseLab'
		});
		// Still a valid PNG with the same pixels (chunk CRCs right, order legal).
		const decoded = await sharp(Buffer.from(tagged)).raw().toBuffer({ resolveWithObject: true });
		expect([decoded.info.width, decoded.info.height]).toEqual([4, 4]);
		expect(decoded.data.every((value) => value === 128)).toBe(true);
		expect(() => withPngText(new Uint8Array([1, 2, 3]), {})).toThrow(/Not a PNG/);
	});
});
