import { describe, expect, it } from 'vitest';
import { Fft2d, simdFftAvailable } from '../../../src/core/generators/fft2d';
import { Random } from '../../../src/core/generators/random';

const operations = ['forward', 'inverse', 'forwardReal', 'inverseReal'] as const;

function randomPlane(random: Random, n: number): Float64Array {
	return Float64Array.from({ length: n * n }, () => random.normal() * 1000);
}

/** The bytes of a plane, so −0 and +0 (and NaN payloads) count as different. */
const bits = (plane: Float64Array) => Buffer.from(plane.buffer, plane.byteOffset, plane.byteLength);

describe('2-D FFT in WebAssembly SIMD', () => {
	it('is available in this engine (else the comparisons below would compare fft.js with itself)', () => {
		expect(simdFftAvailable()).toBe(true);
		expect(new Fft2d(128).simd).toBe(true);
		expect(new Fft2d(128, { simd: false }).simd).toBe(false);
		// Below 8 points the SIMD line pairs do not fit; fft.js takes over.
		expect(new Fft2d(4).simd).toBe(false);
	});

	for (const n of [8, 16, 32, 64, 128, 256]) {
		it(`gives fft.js's bits for every transform of random ${n}×${n} planes`, () => {
			const random = new Random(n, 1);
			const simd = new Fft2d(n);
			const scalar = new Fft2d(n, { simd: false });
			for (const operation of operations) {
				for (let trial = 0; trial < 2; trial++) {
					const re = randomPlane(random, n);
					const im = randomPlane(random, n);
					const re2 = re.slice();
					const im2 = im.slice();
					simd[operation](re, im);
					scalar[operation](re2, im2);
					expect(bits(re).equals(bits(re2)), `${operation} real part`).toBe(true);
					// inverseReal leaves `im` as unspecified scratch.
					if (operation !== 'inverseReal')
						expect(bits(im).equals(bits(im2)), `${operation} imaginary part`).toBe(true);
				}
			}
		});
	}

	it('inverts its forward transform and matches a direct DFT', () => {
		const n = 16;
		const random = new Random(3, 4);
		const re = randomPlane(random, n);
		const im = randomPlane(random, n);
		const fft = new Fft2d(n);
		const [fr, fi] = [re.slice(), im.slice()];
		fft.forward(fr, fi);
		for (const [u, v] of [
			[0, 0],
			[3, 5],
			[15, 1]
		] as const) {
			let sr = 0;
			let si = 0;
			for (let y = 0; y < n; y++) {
				for (let x = 0; x < n; x++) {
					const angle = (-2 * Math.PI * (u * y + v * x)) / n;
					const [a, b] = [re[y * n + x] as number, im[y * n + x] as number];
					sr += a * Math.cos(angle) - b * Math.sin(angle);
					si += a * Math.sin(angle) + b * Math.cos(angle);
				}
			}
			expect(fr[u * n + v]).toBeCloseTo(sr, 6);
			expect(fi[u * n + v]).toBeCloseTo(si, 6);
		}
		fft.inverse(fr, fi);
		fr.forEach((value, i) => expect(value).toBeCloseTo(re[i] as number, 9));
	});
});
