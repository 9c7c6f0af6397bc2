/**
 * How a training session splits the machine's cores between the data threads (generating and
 * augmenting views) and the data-parallel replicas (each training on a part of the batch).
 */

/**
 * Data threads by default on `cores` cores: a quarter of them, 1 to 4. Making views costs far
 * less than training on them (measured here for `tiny` on `dead_leaves-mixed`: one data thread
 * makes about 6× the views one core trains on), so the rest of the cores train.
 */
export function defaultDataThreads(cores: number): number {
	return Math.max(1, Math.min(4, Math.round(cores / 4)));
}

/**
 * The replicas a wasm session trains with: `requested` (the run's or Settings' choice), else the
 * cores the data threads leave; never more than the batch has pairs, never fewer than 1.
 */
export function replicasFor(options: {
	requested: number | null;
	cores: number;
	dataThreads: number;
	batch: number;
}): number {
	const wanted = options.requested ?? options.cores - options.dataThreads;
	return Math.max(1, Math.min(wanted, options.batch));
}

/** A backend with its replicas, as run records and estimates show it: `wasm, 2 replicas`. */
export function engineLabel(backend: string, replicas: number | null): string {
	return replicas !== null && replicas > 1 ? `${backend}, ${replicas} replicas` : backend;
}
