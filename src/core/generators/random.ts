/**
 * Seeded randomness for generators. Core code never uses unseeded platform randomness: every
 * image draws from a {@link Random} derived from (seed, index), so image `index` of a dataset is
 * the same on every machine, in every worker and in any order.
 *
 * The generator is xoshiro128** (Blackman & Vigna), seeded through splitmix32.
 */
export class Random {
	private a: number;
	private b: number;
	private c: number;
	private d: number;
	private spareNormal: number | null = null;

	/** Seeds the state from any number of 32-bit integers (e.g. seed, index, stream). */
	constructor(...keys: number[]) {
		let state = 0x9e3779b9;
		for (const key of keys) state = mix32(state ^ Math.trunc(key));
		const next = () => {
			state = (state + 0x9e3779b9) | 0;
			return mix32(state);
		};
		this.a = next();
		this.b = next();
		this.c = next();
		this.d = next();
		if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
	}

	/** An independent stream for a sub-task (a leaf texture, a network restart, …). */
	derive(...keys: number[]): Random {
		return new Random(this.uint32(), ...keys);
	}

	/** A uniform unsigned 32-bit integer. */
	uint32(): number {
		const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
		const t = this.b << 9;
		this.c ^= this.a;
		this.d ^= this.b;
		this.b ^= this.c;
		this.a ^= this.d;
		this.c ^= t;
		this.d = rotl(this.d, 11);
		return result;
	}

	/** A uniform float in [0, 1) with 32 bits of resolution. */
	uniform(): number {
		return this.uint32() / 4294967296;
	}

	/** A uniform float in [low, high). */
	range(low: number, high: number): number {
		return low + (high - low) * this.uniform();
	}

	/** A uniform integer in [0, n), without modulo bias. */
	int(n: number): number {
		if (n <= 0) throw new RangeError(`Random.int needs n > 0, got ${n}`);
		if (n > 4294967296) throw new RangeError(`Random.int supports n up to 2^32, got ${n}`);
		const limit = 4294967296 - (4294967296 % n);
		let value = this.uint32();
		while (value >= limit) value = this.uint32();
		return value % n;
	}

	/** A standard normal sample (Box–Muller; the second value is kept for the next call). */
	normal(): number {
		if (this.spareNormal !== null) {
			const spare = this.spareNormal;
			this.spareNormal = null;
			return spare;
		}
		let u = 0;
		while (u === 0) u = this.uniform();
		const v = this.uniform();
		const radius = Math.sqrt(-2 * Math.log(u));
		this.spareNormal = radius * Math.sin(2 * Math.PI * v);
		return radius * Math.cos(2 * Math.PI * v);
	}

	/** A Laplace(0, 1) sample. */
	laplace(): number {
		const u = this.uniform() - 0.5;
		return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
	}

	/** One element of a non-empty array, uniformly. */
	pick<T>(items: readonly T[]): T {
		if (items.length === 0) throw new RangeError('Random.pick needs a non-empty array');
		return items[this.int(items.length)] as T;
	}

	/** Shuffles an array in place (Fisher–Yates) and returns it. */
	shuffle<T>(items: T[]): T[] {
		for (let i = items.length - 1; i > 0; i--) {
			const j = this.int(i + 1);
			[items[i], items[j]] = [items[j] as T, items[i] as T];
		}
		return items;
	}
}

function rotl(x: number, k: number): number {
	return (x << k) | (x >>> (32 - k));
}

/** splitmix32's finaliser: a bijective 32-bit mix. */
function mix32(x: number): number {
	let z = x | 0;
	z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
	z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
	return (z ^ (z >>> 16)) | 0;
}
