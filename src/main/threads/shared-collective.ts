/**
 * Synchronous collectives between the threads of a pool over shared memory: a barrier and an
 * element-wise sum. A data-parallel training step calls them from inside tfjs ops (batch norm's
 * statistics), which are synchronous, so the threads block in `Atomics.wait` rather than await
 * messages.
 *
 * A party that fails, or the owner of the pool when a thread dies, calls `abort`: every party
 * waiting or arriving later throws instead of waiting for a partner that will never come.
 */

/** The shared memory of one group of parties. Created by the pool's owner, sent in each setup. */
export interface CollectiveMemory {
	parties: number;
	/** Floats one party may contribute to a sum. */
	capacity: number;
	/** Int32: arrivals, barrier generation, abort flag. */
	control: SharedArrayBuffer;
	/** Float32: two rounds × parties × capacity, so a sum needs one barrier, not two. */
	scratch: SharedArrayBuffer;
}

const arrivals = 0;
const generation = 1;
const aborted = 2;

/** How long a waiting party sleeps between checks of the abort flag, in ms. */
const waitSliceMs = 250;

/** Shared memory for `parties` threads whose sums hold at most `capacity` floats. */
export function createCollectiveMemory(parties: number, capacity: number): CollectiveMemory {
	return {
		parties,
		capacity,
		control: new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT),
		scratch: new SharedArrayBuffer(2 * parties * capacity * Float32Array.BYTES_PER_ELEMENT)
	};
}

/** Wakes every party and makes every collective throw from now on. Safe from any thread. */
export function abortCollective(memory: CollectiveMemory): void {
	const control = new Int32Array(memory.control);
	Atomics.store(control, aborted, 1);
	Atomics.notify(control, generation);
}

/** The message of {@link CollectiveAborted}. */
export const collectiveAbortedMessage =
	'Another thread of the step failed or stopped, so this one stopped too.';

/** Thrown by a collective after {@link abortCollective}. */
export class CollectiveAborted extends Error {
	constructor() {
		super(collectiveAbortedMessage);
		this.name = 'CollectiveAborted';
	}
}

/** One party's handle on a {@link CollectiveMemory}. */
export class ThreadCollective {
	private readonly control: Int32Array;
	private readonly scratch: Float32Array;
	private round = 0;

	constructor(
		private readonly memory: CollectiveMemory,
		/** This party's index, 0..parties-1. */
		readonly index: number
	) {
		if (!Number.isInteger(index) || index < 0 || index >= memory.parties) {
			throw new RangeError(`Party ${index} of ${memory.parties} does not exist.`);
		}
		this.control = new Int32Array(memory.control);
		this.scratch = new Float32Array(memory.scratch);
	}

	/** Parties in the group. */
	get parties(): number {
		return this.memory.parties;
	}

	/** Waits until every party has arrived. Throws {@link CollectiveAborted} after an abort. */
	barrier(): void {
		const control = this.control;
		if (Atomics.load(control, aborted) !== 0) throw new CollectiveAborted();
		// Read the generation before arriving: the last party bumps it only after our arrival.
		const current = Atomics.load(control, generation);
		if (Atomics.add(control, arrivals, 1) === this.memory.parties - 1) {
			Atomics.store(control, arrivals, 0);
			Atomics.add(control, generation, 1);
			Atomics.notify(control, generation);
			return;
		}
		while (Atomics.load(control, generation) === current) {
			if (Atomics.load(control, aborted) !== 0) throw new CollectiveAborted();
			Atomics.wait(control, generation, current, waitSliceMs);
		}
		if (Atomics.load(control, aborted) !== 0) throw new CollectiveAborted();
	}

	/**
	 * The element-wise sum of every party's `values` (all of the same length), added in party
	 * order in float64 and rounded once, so every party gets the same bits.
	 */
	sum(values: Float32Array): Float32Array {
		const { capacity, parties } = this.memory;
		if (values.length > capacity) {
			throw new RangeError(`A sum of ${values.length} floats exceeds the capacity ${capacity}.`);
		}
		// Alternating halves: a party can only start writing round n + 2 into this half after
		// every party has passed round n + 1's barrier, so after each has read round n.
		const half = (this.round++ % 2) * parties * capacity;
		this.scratch.set(values, half + this.index * capacity);
		this.barrier();
		const total = new Float32Array(values.length);
		for (let i = 0; i < values.length; i++) {
			let sum = 0;
			for (let party = 0; party < parties; party++) {
				sum += this.scratch[half + party * capacity + i] as number;
			}
			total[i] = sum;
		}
		return total;
	}

	/** See {@link abortCollective}. */
	abort(): void {
		abortCollective(this.memory);
	}
}
