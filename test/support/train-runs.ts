import type { RunDetail } from '../../src/core/api/training';
import type { TrainConfigInput } from '../../src/core/training/config';
import type { TestApiClient } from './api-client';

/**
 * A source of tiny generated training images: a 64 px `dead_leaves-squares` virtual dataset,
 * cheap enough on two cores for a few steps a second.
 */
export const tinyGeneratorSource = {
	kind: 'generator',
	config: { preset: 'dead_leaves-squares', size: 64 },
	count: 64
} as const;

/**
 * The rest of a tiny run's configuration: the `tiny` encoder, batch 8, the wasm backend, and Adam
 * (lr 1e-3), as the quickstart: SGD at the paper's rate for batch 8 (0.00375) barely moves the
 * weights in a few steps, so such an encoder scores exactly as its random-init control.
 */
export const tinyRunSettings = {
	model: 'tiny',
	batch: 8,
	backend: 'wasm',
	optimizer: 'adam'
} as const;

/**
 * Starts a run through the API and waits (polling `runs.get`) until it has stopped; fails when it
 * ends any other way than completed, with the run's error.
 */
export async function trainToCompletion(
	api: TestApiClient,
	name: string,
	config: TrainConfigInput,
	timeoutMs = 60_000
): Promise<RunDetail> {
	const started = await api.call('runs.start', { name, config });
	if (!started.ok) throw new Error(`runs.start ${name}: ${started.error.message}`);
	return waitForCompletion(api, started.value.id, timeoutMs);
}

/**
 * Waits (polling `runs.get`) until run `id` has stopped; fails when it ends any other way than
 * completed, with the run's error.
 */
export async function waitForCompletion(
	api: TestApiClient,
	id: number,
	timeoutMs = 60_000
): Promise<RunDetail> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const detail = await api.call('runs.get', { id });
		if (!detail.ok) throw new Error(`runs.get ${id}: ${detail.error.message}`);
		const { status, name } = detail.value.run;
		if (status === 'completed') return detail.value;
		if (status !== 'running' && status !== 'queued') {
			throw new Error(`Run ${name} ended ${status}: ${detail.value.run.error ?? 'no error'}`);
		}
		if (Date.now() > deadline) throw new Error(`Run ${name} still training after ${timeoutMs} ms.`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}
