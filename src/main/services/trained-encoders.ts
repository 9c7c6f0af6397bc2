/**
 * Generator parameters that name a trained encoder (`feature_vis-dead_leaves`): resolving
 * `newest:PRESET` and `run:ID` to one checkpoint, `run:ID@SHA256`, and pinning that checkpoint
 * where the workers read it (`generation/pinned-encoders.ts`). Every path that hands a
 * configuration to a worker or stores it (previews, diagnostics, exports, presets, training runs,
 * `noiselab generate`, precision and recall) pins it first, so what runs and what is recorded is
 * always the reproducible form.
 */
import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { AppFailure } from '../../core/api/errors';
import type { CheckpointRecord } from '../../core/api/training';
import {
	encoderTrainingSuggestion,
	type GeneratorRequirement,
	type GeneratorRequirements,
	type ResolvedEncoder
} from '../../core/api/trained-encoders';
import { resolveConfig, type ConfigRequest } from '../../core/generators/registry';
import {
	encoderReferenceForms,
	formatPinnedEncoder,
	parseEncoderReference,
	type EncoderReference
} from '../../core/generators/trained-encoders';
import { trainConfigSchema, type TrainConfig } from '../../core/training/config';
import { pinEncoder, pinnedEncoderPath } from '../generation/pinned-encoders';
import { getRun, listCheckpoints, listRuns, type StoredRun } from '../store/runs';

/** What a reference resolves to, or why it does not. */
type Resolution =
	| {
			ok: true;
			/** The checkpoint to pin from; null when it is pinned already. */
			checkpoint: CheckpointRecord | null;
			encoder: ResolvedEncoder;
	  }
	| { ok: false; message: string; suggestTrainingOn: string | null };

/** Resolves and pins the trained encoders that generator configurations name. */
export class TrainedEncoders {
	/** `db` throws when the store could not open, which callers report. */
	constructor(
		private readonly db: () => Database.Database,
		private readonly cacheDir: string
	) {}

	/**
	 * `config` with every encoder parameter pinned to a checkpoint (`run:ID@SHA256`), the
	 * checkpoint linked into the cache for the workers. A configuration without encoder
	 * parameters comes back unchanged; one that does not resolve to a generator too (its
	 * caller reports that). Throws NOT_FOUND naming what is missing and what to do.
	 */
	pin<C extends ConfigRequest>(config: C): C {
		const params = this.encoderParams(config);
		if (params.length === 0) return config;
		const pinned: Record<string, unknown> = { ...config.params };
		for (const { name, value } of params) {
			const resolution = this.resolve(value);
			if (!resolution.ok) throw new AppFailure('NOT_FOUND', `${name}: ${resolution.message}`);
			if (resolution.checkpoint) {
				pinEncoder(this.cacheDir, resolution.checkpoint.path, resolution.encoder.sha256);
			}
			pinned[name] = resolution.encoder.reference;
		}
		return { ...config, params: pinned };
	}

	/** A training configuration whose generator source (if any) is pinned. */
	pinTrainConfig(config: TrainConfig): TrainConfig {
		if (config.source.kind !== 'generator') return config;
		const source = this.pin(config.source.config);
		if (source === config.source.config) return config;
		return { ...config, source: { ...config.source, config: source } };
	}

	/** What `config` needs before it can generate, whether it is there, and how to get it. */
	requirements(config: ConfigRequest): GeneratorRequirements {
		const requirements = this.encoderParams(config).map(({ name, value }): GeneratorRequirement => {
			const resolution = this.resolve(value);
			if (resolution.ok) {
				const { encoder } = resolution;
				return {
					kind: 'trained-encoder',
					param: name,
					requested: value,
					available: true,
					encoder,
					message: `Uses run ${encoder.runId} “${encoder.runName}” (${encoder.model}${encoder.step === null ? '' : `, step ${encoder.step}`}, checkpoint ${encoder.sha256.slice(0, 12)}…).`,
					training: null
				};
			}
			const preset = resolution.suggestTrainingOn;
			const training = preset === null ? null : encoderTrainingSuggestion(preset);
			return {
				kind: 'trained-encoder',
				param: name,
				requested: value,
				available: false,
				encoder: null,
				message: resolution.message,
				training: training && { ...training, config: trainConfigSchema.parse(training.config) }
			};
		});
		return { ready: requirements.every((requirement) => requirement.available), requirements };
	}

	/** The encoder parameters of a configuration with their effective values. */
	private encoderParams(config: ConfigRequest): { name: string; value: string }[] {
		const resolved = resolveConfig(config);
		if (!resolved.ok) return [];
		return Object.entries(resolved.value.generator.params)
			.filter(([, spec]) => spec.kind === 'encoder')
			.map(([name]) => ({ name, value: String(resolved.value.params[name]) }));
	}

	private resolve(value: string): Resolution {
		const reference = parseEncoderReference(value);
		if (!reference) {
			return {
				ok: false,
				message: `“${value}” names no encoder; use ${encoderReferenceForms}.`,
				suggestTrainingOn: null
			};
		}
		return reference.kind === 'newest' ? this.newest(reference.preset) : this.ofRun(reference);
	}

	/** The newest completed run trained on `preset` (unmodified) that still has a checkpoint. */
	private newest(preset: string): Resolution {
		const db = this.db();
		const candidates = listRuns(db)
			.filter(
				(run) =>
					run.status === 'completed' &&
					run.config.source.kind === 'generator' &&
					run.config.source.config.preset === preset &&
					Object.keys(run.config.source.config.params).length === 0
			)
			.sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? '') || b.id - a.id);
		for (const run of candidates) {
			const checkpoint = listCheckpoints(db, run.id).at(-1);
			if (checkpoint && fs.existsSync(checkpoint.path)) return found(run, checkpoint);
		}
		return {
			ok: false,
			message: `No completed run has trained on ${preset} yet: train one (Train → New run in the app, or noiselab train --preset ${preset}), or name a run with run:ID.`,
			suggestTrainingOn: preset
		};
	}

	private ofRun(reference: Extract<EncoderReference, { kind: 'run' }>): Resolution {
		const { runId, sha256 } = reference;
		const run = getRun(this.db(), runId) ?? null;
		if (sha256 !== null && fs.existsSync(pinnedEncoderPath(this.cacheDir, sha256))) {
			// Pinned earlier: still usable after the run pruned that checkpoint or was deleted.
			const step = run
				? listCheckpoints(this.db(), runId).find((c) => c.sha256 === sha256)?.step
				: undefined;
			return {
				ok: true,
				checkpoint: null,
				encoder: {
					runId,
					runName: run?.name ?? `run ${runId} (deleted)`,
					model: run?.config.model ?? 'unknown',
					step: step ?? null,
					sha256,
					reference: formatPinnedEncoder({ runId, sha256 })
				}
			};
		}
		if (!run) {
			return { ok: false, message: `There is no run ${runId}.`, suggestTrainingOn: null };
		}
		const checkpoints = listCheckpoints(this.db(), runId);
		const checkpoint =
			sha256 === null ? checkpoints.at(-1) : checkpoints.find((c) => c.sha256 === sha256);
		if (!checkpoint || !fs.existsSync(checkpoint.path)) {
			return {
				ok: false,
				message:
					sha256 === null
						? `Run ${runId} “${run.name}” has no checkpoint yet; train it first.`
						: `Run ${runId} “${run.name}” no longer has the checkpoint ${sha256.slice(0, 12)}… (older checkpoints are pruned); use run:${runId} for its newest.`,
				suggestTrainingOn: null
			};
		}
		return found(run, checkpoint);
	}
}

function found(run: StoredRun, checkpoint: CheckpointRecord): Resolution {
	return {
		ok: true,
		checkpoint,
		encoder: {
			runId: run.id,
			runName: run.name,
			model: run.config.model,
			step: checkpoint.step,
			sha256: checkpoint.sha256,
			reference: formatPinnedEncoder({ runId: run.id, sha256: checkpoint.sha256 })
		}
	};
}
