/**
 * `npm run bench:fft`: the 2-D FFT of the statistical generators (src/core/generators/fft2d.ts)
 * in WebAssembly SIMD against fft.js, side by side in one run: milliseconds per transform of
 * each kind, timed in alternating slices so a loaded machine slows both alike, and the largest
 * absolute difference between their results on random planes (0: the SIMD path repeats fft.js's
 * operations bit for bit).
 *
 * Options: --size 128 (a power of two), --seconds 1 (per kind and path).
 */
import { parseArgs } from 'node:util';
import { Fft2d, simdFftAvailable } from '../src/core/generators/fft2d';
import { Random } from '../src/core/generators/random';

const { values } = parseArgs({
	options: { size: { type: 'string', default: '128' }, seconds: { type: 'string', default: '1' } }
});
const n = Number(values.size);
const seconds = Number(values.seconds);
const operations = ['forward', 'inverse', 'forwardReal', 'inverseReal'] as const;

const random = new Random(16, 2);
const plane = () => Float64Array.from({ length: n * n }, () => random.normal());
const source = { re: plane(), im: plane() };
const paths = { 'fft.js': new Fft2d(n, { simd: false }), simd: new Fft2d(n) };
console.log(
	`2-D FFT, ${n}×${n} doubles; WebAssembly SIMD ${simdFftAvailable() ? 'available' : 'NOT available (both rows are fft.js)'}`
);
console.log('transform      fft.js ms   SIMD ms   factor   max |SIMD − fft.js|');
for (const operation of operations) {
	let error = 0;
	for (let trial = 0; trial < 4; trial++) {
		const [a, b] = [plane(), plane()];
		const [c, d] = [a.slice(), b.slice()];
		paths.simd[operation](a, b);
		paths['fft.js'][operation](c, d);
		a.forEach((value, i) => (error = Math.max(error, Math.abs(value - (c[i] as number)))));
		if (operation !== 'inverseReal')
			b.forEach((value, i) => (error = Math.max(error, Math.abs(value - (d[i] as number)))));
	}
	const re = new Float64Array(n * n);
	const im = new Float64Array(n * n);
	const totals = { 'fft.js': { ms: 0, count: 0 }, simd: { ms: 0, count: 0 } };
	const slice = (seconds * 1000) / 10;
	for (let round = 0; round < 10; round++) {
		for (const name of ['fft.js', 'simd'] as const) {
			const fft = paths[name];
			const start = performance.now();
			let count = 0;
			do {
				// Fresh input each time (the copy is timed for both), so values never overflow.
				re.set(source.re);
				im.set(source.im);
				fft[operation](re, im);
				count++;
			} while (performance.now() - start < slice);
			if (round > 0) {
				totals[name].ms += performance.now() - start;
				totals[name].count += count;
			}
		}
	}
	const ms = (name: 'fft.js' | 'simd') => totals[name].ms / totals[name].count;
	console.log(
		`${operation.padEnd(13)} ${ms('fft.js').toFixed(3).padStart(9)} ${ms('simd').toFixed(3).padStart(9)} ${(ms('fft.js') / ms('simd')).toFixed(2).padStart(7)}×   ${error}`
	);
}
