import { failpointsVariable } from '../../src/main/failpoints';
import type { WorkerLauncher } from '../../src/main/workers/host';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';

/**
 * A worker launcher that arms failpoints (src/main/failpoints.ts) in the workers it starts while
 * a spec is armed, e.g. `train.hold-after-step=6`. Only those children see the variable: this
 * process's environment is restored as soon as the child is forked.
 */
export function failpointLauncher(base: WorkerLauncher = forkNodeWorker): {
	launcher: WorkerLauncher;
	/** Arms `spec` for the workers started from now on; null disarms. */
	arm(spec: string | null): void;
	/** Runs `action` (which starts workers synchronously) with `spec` armed. */
	armed<T>(spec: string, action: () => T): T;
} {
	let armedSpec: string | null = null;
	const launcher: WorkerLauncher = (file, options) => {
		if (armedSpec === null) return base(file, options);
		const previous = process.env[failpointsVariable];
		process.env[failpointsVariable] = armedSpec;
		try {
			return base(file, options);
		} finally {
			restore(previous);
		}
	};
	return {
		launcher,
		arm(spec) {
			armedSpec = spec;
		},
		armed(spec, action) {
			armedSpec = spec;
			try {
				return action();
			} finally {
				armedSpec = null;
			}
		}
	};
}

/** Runs `action` with failpoints armed in this process (for code a test runs in-process). */
export async function withFailpoints<T>(spec: string, action: () => Promise<T>): Promise<T> {
	const previous = process.env[failpointsVariable];
	process.env[failpointsVariable] = spec;
	try {
		return await action();
	} finally {
		restore(previous);
	}
}

function restore(previous: string | undefined): void {
	if (previous === undefined) Reflect.deleteProperty(process.env, failpointsVariable);
	else process.env[failpointsVariable] = previous;
}
