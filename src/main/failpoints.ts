/**
 * Failpoints: named places where a test makes a process misbehave on purpose, so that crash and
 * full-disk tests land at a known point instead of racing the machine's speed (a run that a fast
 * machine finishes before the test can kill it, a disk that fills at a different file each time).
 *
 * They are set through `NOISELAB_FAILPOINTS` as `name=value` pairs separated by commas, e.g.
 * `train.hold-after-step=11`. Worker processes inherit the variable. Unset, every failpoint is
 * inert; a misspelt name is an error, so a test cannot silently test nothing.
 */

/** The environment variable that arms failpoints. */
export const failpointsVariable = 'NOISELAB_FAILPOINTS';

/** Every failpoint, with what its value means. */
export const failpointNames = {
	/** A training session stops stepping after this step (reported) until it is stopped or killed. */
	'train.hold-after-step': 'step',
	/** A dataset export hands out no more images after this many until it is cancelled. */
	'export.hold-after-images': 'images',
	/**
	 * After this many durable writes in the process, the disk is "full": the next write stores
	 * half its bytes (a short write) and then fails with ENOSPC, as a full filesystem does.
	 */
	'disk.full-after-writes': 'writes'
} as const;

/** One of {@link failpointNames}. */
export type FailpointName = keyof typeof failpointNames;

/** The armed value of a failpoint, or null when it is not armed. */
export function failpoint(name: FailpointName): number | null {
	const spec = process.env[failpointsVariable]?.trim();
	if (!spec) return null;
	let found: number | null = null;
	for (const entry of spec.split(',')) {
		const [key = '', value = ''] = entry.split('=').map((part) => part.trim());
		if (!Object.hasOwn(failpointNames, key)) {
			throw new Error(
				`${failpointsVariable} names an unknown failpoint "${key}"; known: ${Object.keys(failpointNames).join(', ')}.`
			);
		}
		const number = Number(value);
		if (value === '' || !Number.isInteger(number) || number < 0) {
			throw new Error(
				`${failpointsVariable}: ${key} takes a whole number of ${failpointNames[key as FailpointName]}; got ${JSON.stringify(value)}.`
			);
		}
		if (key === name) found = number;
	}
	return found;
}

/** Resolves when `signal` aborts: where a held failpoint waits. */
export function untilAborted(signal: AbortSignal | undefined): Promise<void> {
	if (!signal) return new Promise(() => undefined);
	if (signal.aborted) return Promise.resolve();
	return new Promise((resolve) =>
		signal.addEventListener('abort', () => resolve(), { once: true })
	);
}
