/**
 * A fixed batch of positive pairs for training tests: `batch` smooth random images of
 * `size`² × 3 (the first views) and the same images with a little noise and a one-pixel shift
 * (the second views), laid out as a training step takes them.
 */
export function pairBatch(seed: number, batch: number, size: number): Float32Array {
	const imageFloats = size * size * 3;
	const views = new Float32Array(2 * batch * imageFloats);
	let state = seed;
	const next = () => {
		state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
		return state / 2 ** 31 - 1;
	};
	for (let image = 0; image < batch; image++) {
		const freq = [next() * 0.4, next() * 0.4, next() * 0.4, next() * 0.4];
		for (let y = 0; y < size; y++) {
			for (let x = 0; x < size; x++) {
				for (let c = 0; c < 3; c++) {
					const value = (phase: number) =>
						Math.sin((freq[0] ?? 0) * (x + phase) + (freq[1] ?? 0) * y + c) +
						Math.cos((freq[2] ?? 0) * y - (freq[3] ?? 0) * (x + phase) * c);
					const offset = (y * size + x) * 3 + c;
					views[image * imageFloats + offset] = value(0);
					views[(batch + image) * imageFloats + offset] = value(1) + 0.1 * next();
				}
			}
		}
	}
	return views;
}
