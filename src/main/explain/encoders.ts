/** Which weights and which probe an Explain request means, resolved from the store. */
import { correspondingLayer, type FeatureLayer } from '../../core/encoders/architecture';
import type Database from 'better-sqlite3';
import { AppFailure } from '../../core/api/errors';
import { recipeOfRun } from '../../core/encoders/build';
import type { EncoderRef } from '../../core/api/explain';
import { findProbe } from '../store/evaluations';
import { getRun, listCheckpoints } from '../store/runs';
import type { EncoderSpec } from './explain-session';

/**
 * Each run's newest checkpoint (or its random-init encoder) and the newest linear probe of that
 * encoder on `dataset`, when one was kept.
 */
export function resolveEncoders(
	db: Database.Database,
	refs: readonly EncoderRef[],
	dataset: string | null,
	/** Probes that read a layer before the map's layer cannot explain it and are skipped. */
	camLayer?: FeatureLayer
): EncoderSpec[] {
	return refs.map(({ runId, randomInit }) => {
		const run = getRun(db, runId);
		if (!run) {
			throw new AppFailure('NOT_FOUND', `There is no run ${runId}. See the Runs list for the ids.`);
		}
		const checkpoint = randomInit ? undefined : listCheckpoints(db, runId).at(-1);
		if (!randomInit && !checkpoint) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`Run "${run.name}" has no checkpoint yet: train it a little longer, or explain its random init.`
			);
		}
		const recipe = recipeOfRun(run);
		const probe =
			dataset === null
				? null
				: findProbe(db, {
						runId,
						randomInit,
						checkpointStep: checkpoint?.step ?? null,
						dataset,
						...(camLayer ? { camLayer: correspondingLayer(recipe.architecture, camLayer) } : {})
					});
		return {
			runId,
			randomInit,
			label: randomInit
				? `${run.name} (random init)`
				: run.kind === 'imported'
					? `${run.name} (imported)`
					: `${run.name} @ step ${checkpoint?.step}`,
			recipe,
			checkpoint: checkpoint
				? { path: checkpoint.path, sha256: checkpoint.sha256, step: checkpoint.step }
				: null,
			probe
		};
	});
}
