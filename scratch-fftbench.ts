import { Fft2d } from './src/core/generators/fft2d';
const n = 128;
for (const simd of [false, true, false, true]) {
	const f = new Fft2d(n, { simd });
	const re = Float64Array.from({ length: n * n }, () => Math.random()), im = new Float64Array(n * n);
	for (const op of ['forward', 'inverse', 'forwardReal', 'inverseReal'] as const) {
		for (let i = 0; i < 50; i++) f[op](re, im);
		const t = performance.now(); let c = 0;
		while (performance.now() - t < 400) { f[op](re, im); c++; }
		console.log(simd ? 'simd' : 'fftjs', op, ((performance.now() - t) / c).toFixed(3), 'ms');
		re.fill(0.5); im.fill(0.25);
	}
}
