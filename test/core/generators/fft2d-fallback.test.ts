/**
 * Without WebAssembly (an engine that lacks it, or SIMD), the generators fall back to fft.js and
 * must draw the same bytes: the statistical presets are drawn here by a copy of the registry
 * loaded while `WebAssembly` is hidden, and compared with the SIMD path's images.
 */
import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as simd from '../../../src/core/generators/registry';

const hash = (data: Uint8Array) => crypto.createHash('sha256').update(data).digest('hex');

describe('statistical generators without WebAssembly', () => {
	afterEach(() => {
		vi.unstubAllGlobals();
		vi.resetModules();
	});

	it('fall back to fft.js and draw the same bytes', async () => {
		vi.resetModules();
		vi.stubGlobal('WebAssembly', undefined);
		const fallback = await import('../../../src/core/generators/registry');
		const { Fft2d, simdFftAvailable } = await import('../../../src/core/generators/fft2d');
		expect(simdFftAvailable()).toBe(false);
		expect(new Fft2d(64).simd).toBe(false);
		expect(fallback).not.toBe(simd);
		for (const preset of ['stat-spectrum_color', 'stat-wmm', 'stat-spectrum_color_wmm']) {
			for (const size of [64, 48]) {
				const a = simd.resolveConfig({ preset, size });
				const b = fallback.resolveConfig({ preset, size });
				if (!a.ok || !b.ok) throw new Error(preset);
				const withSimd = await a.value.generator.generate(a.value.params, 9, 2, size);
				const without = await b.value.generator.generate(b.value.params, 9, 2, size);
				expect(hash(without.data), `${preset} at ${size} px`).toBe(hash(withSimd.data));
			}
		}
	});
});
