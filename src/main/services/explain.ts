/** Explain: Grad-CAM maps of runs' encoders, computed in a trainer worker per request. */
import { AppFailure } from '../../core/api/errors';
import type { ExplainParams, ExplainResult } from '../../core/api/explain';
import type { BackendPreference } from '../../core/compute/backends';
import type { EncoderToExplain } from '../explain/explain-job';
import type { Store } from '../store/database';
import { getRun, listCheckpoints } from '../store/runs';
import type { TrainerTasks } from '../workers/entries/trainer';
import type { WorkerFactory } from '../workers/host';

export class ExplainService {
	constructor(
		private readonly workers: WorkerFactory,
		private readonly store: () => Store,
		private readonly options: { cacheDir: string; preference: () => BackendPreference }
	) {}

	async compute(params: ExplainParams): Promise<ExplainResult> {
		const db = this.store().db;
		const encoders: EncoderToExplain[] = params.encoders.map(({ runId, randomInit }) => {
			const run = getRun(db, runId);
			if (!run) throw new AppFailure('NOT_FOUND', `There is no run ${runId}.`);
			const checkpoint = randomInit ? undefined : listCheckpoints(db, runId).at(-1);
			if (!randomInit && !checkpoint) {
				throw new AppFailure('INVALID_REQUEST', `Run "${run.name}" has no checkpoint yet.`);
			}
			return {
				runId,
				randomInit,
				label: randomInit ? `${run.name} (random init)` : `${run.name} @ step ${checkpoint?.step}`,
				model: run.config.model,
				seed: run.config.seed,
				checkpoint: checkpoint ? { path: checkpoint.path, sha256: checkpoint.sha256 } : null
			};
		});
		const worker = this.workers.start<TrainerTasks>('trainer');
		try {
			const result = await worker.run(
				'explain',
				{ params, encoders, backend: this.options.preference(), cacheDir: this.options.cacheDir },
				{ timeoutMs: 300_000 }
			);
			if (!result.ok) throw new AppFailure(result.error.code, result.error.message);
			return result.value;
		} finally {
			worker.stop();
		}
	}
}
