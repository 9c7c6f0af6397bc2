import { afterEach, describe, expect, it } from 'vitest';
import {
	installStyleganConvolutions,
	javascriptConvolutions,
	styleganPlanes,
	stylegan,
	styleganParams,
	type StyleganConvolutions,
	type StyleganParams
} from '../../src/core/generators/stylegan';
import { Random } from '../../src/core/generators/random';
import { defaultParams } from '../../src/core/generators/params';
import { wasmStyleganConvolutions } from '../../src/main/compute/kernels/wasm-stylegan-conv';

const available = wasmStyleganConvolutions();

/** The kernel; Node 22's V8 always has SIMD, and the first test says so if not. */
function wasm(): StyleganConvolutions {
	if (!available) throw new Error('This engine has no WebAssembly SIMD');
	return available;
}

/** Planes like the network's activations: ReLU'd (many exact zeros) and of mixed magnitude. */
function activations(random: Random, channels: number, size: number): Float64Array[] {
	return Array.from({ length: channels }, () =>
		Float64Array.from({ length: size * size }, () => Math.max(0, random.normal()) * 3.7)
	);
}

function weightsFor(random: Random, outChannels: number, inChannels: number): Float64Array {
	return Float64Array.from({ length: outChannels * inChannels * 9 }, () => random.normal() * 0.1);
}

/** Bitwise equality of float64 planes, including the sign of zero. */
function expectSameBits(actual: Float64Array[], expected: Float64Array[]): void {
	expect(actual.length).toBe(expected.length);
	actual.forEach((plane, o) => {
		const bits = new BigUint64Array(plane.buffer, plane.byteOffset, plane.length);
		const reference = expected[o] as Float64Array;
		expect(Array.from(bits)).toEqual(
			Array.from(new BigUint64Array(reference.buffer, reference.byteOffset, reference.length))
		);
	});
}

describe('the SIMD WebAssembly StyleGAN convolutions', () => {
	afterEach(() => installStyleganConvolutions(null));

	it('is available on this engine', () => {
		expect(available).not.toBeNull();
	});

	// Channel counts that are not multiples of the 4-channel group, sizes down to the 4² block.
	it.each([
		[4, 3, 5],
		[8, 7, 4],
		[16, 12, 9],
		[32, 2, 1]
	])('the plain conv at %i² (%i → %i channels) has the reference bits', (size, cin, cout) => {
		const random = new Random(3, size, cin, cout);
		const planes = activations(random, cin, size);
		const weights = weightsFor(random, cout, cin);
		expectSameBits(
			wasm().correlate3x3(planes, size, weights, cout),
			javascriptConvolutions.correlate3x3(planes, size, weights, cout)
		);
	});

	it.each([
		[4, 3, 5],
		[8, 7, 4],
		[16, 5, 9],
		[32, 2, 1]
	])(
		'the transposed conv from %i² (%i → %i channels) has the reference bits',
		(size, cin, cout) => {
			const random = new Random(4, size, cin, cout);
			const planes = activations(random, cin, size);
			const weights = weightsFor(random, cout, cin);
			expectSameBits(
				wasm().transposed3x3(planes, size, weights, cout),
				javascriptConvolutions.transposed3x3(planes, size, weights, cout)
			);
		}
	);

	it('gives stylegan-random the same planes and bytes as the JavaScript convolutions', async () => {
		const params: StyleganParams = {
			...defaultParams(styleganParams),
			variant: 'original',
			channel_base: 2048,
			channel_max: 64
		};
		const reference = styleganPlanes(params, 20211206, 401, 64);
		const referenceImage = await stylegan.generate(params, 20211206, 401, 64);
		installStyleganConvolutions(wasm());
		expectSameBits(styleganPlanes(params, 20211206, 401, 64).planes, reference.planes);
		expect((await stylegan.generate(params, 20211206, 401, 64)).data).toEqual(referenceImage.data);
	});
});
