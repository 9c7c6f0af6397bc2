/**
 * A short measured probe of one backend's training speed: a few contrastive steps of a model
 * preset on fixed views, in a throw-away worker. `auto` compares these figures to pick a
 * backend (see BackendMonitor.choose).
 */
import type { BackendId, BackendSpeed } from '../../core/compute/backends';
import { AppFailure } from '../../core/api/errors';
import { trainConfigSchema, type ModelPresetId } from '../../core/training/config';
import { ContrastiveTrainer } from '../../core/training/trainer';
import { activateBackend } from './activate-backend';
import { gpuChecked } from './webgpu';

/** What to measure. */
export interface SpeedRequest {
	backend: BackendId;
	model: ModelPresetId;
	/** Pairs per step. */
	batch: number;
	/** Timed steps stop after this long (at least one runs after the warm-up step). */
	seconds: number;
}

/** Trains `request.model` on exactly `request.backend` for a few steps and reports images/s. */
export async function measureTrainingSpeed(request: SpeedRequest): Promise<BackendSpeed> {
	const active = await activateBackend(request.backend, { allowed: [request.backend] });
	if (active.id !== request.backend) {
		throw new AppFailure('BACKEND_UNAVAILABLE', `${request.backend} did not start.`);
	}
	const config = trainConfigSchema.parse({
		source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
		model: request.model,
		batch: request.batch,
		steps: 1000
	});
	const trainer = ContrastiveTrainer.create(config);
	try {
		const size = trainer.inputSize;
		// Fixed pseudo-random views: a step's cost does not depend on the pixels.
		const views = new Float32Array(2 * request.batch * size * size * 3);
		for (let i = 0; i < views.length; i++) views[i] = Math.sin(i * 12.9898);
		const what = `the speed probe of ${request.model}`;
		// The warm-up step compiles kernels (shaders on webgpu); it is not timed.
		await gpuChecked(what, trainer.step(views, 0));
		const started = performance.now();
		let steps = 0;
		do {
			await gpuChecked(what, trainer.step(views, steps + 1));
			steps++;
		} while (steps < 3 && performance.now() - started < request.seconds * 1000);
		const seconds = (performance.now() - started) / 1000;
		return { backend: request.backend, imagesPerSecond: (steps * request.batch) / seconds };
	} finally {
		trainer.dispose();
	}
}
