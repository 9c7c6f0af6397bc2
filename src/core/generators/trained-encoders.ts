/**
 * Trained encoders as generator inputs: `feature_vis-dead_leaves` visualises an encoder the app
 * has trained. A parameter names the encoder in one of three forms:
 *
 * - `newest:PRESET` — the newest completed run trained on that preset (the preset's default);
 * - `run:ID` — run ID's newest checkpoint;
 * - `run:ID@SHA256` — one checkpoint of run ID, by the SHA-256 of its file.
 *
 * Only the last form is reproducible, so the app resolves the first two to it (in the main
 * process, which owns the runs) before anything is generated, stored or written to a manifest.
 * Generators then get the checkpoint's weights from an injected {@link EncoderWeightsSource}:
 * core never reads files, and a dataset stays a pure function of (params, seed, index, size)
 * given those weights.
 */
import type { ModelPresetId } from '../training/config';

/** A trained encoder as a parameter names it, parsed. */
export type EncoderReference =
	{ kind: 'newest'; preset: string } | { kind: 'run'; runId: number; sha256: string | null };

/** An encoder pinned to one checkpoint file: what generation needs. */
export interface PinnedEncoder {
	runId: number;
	/** SHA-256 of the checkpoint file, 64 lowercase hex digits. */
	sha256: string;
}

/** The accepted forms, for help texts and error messages. */
export const encoderReferenceForms = 'newest:PRESET, run:ID or run:ID@SHA256';

const newestPattern = /^newest:([a-z0-9_-]+)$/i;
const runPattern = /^run:(\d{1,9})(?:@([0-9a-f]{64}))?$/;

/** Parses a reference, or returns null when it has none of the accepted forms. */
export function parseEncoderReference(text: string): EncoderReference | null {
	const newest = newestPattern.exec(text);
	if (newest) return { kind: 'newest', preset: newest[1] as string };
	const run = runPattern.exec(text);
	if (!run) return null;
	const runId = Number(run[1]);
	if (runId < 1) return null;
	return { kind: 'run', runId, sha256: run[2] ?? null };
}

/** The text form of a pinned encoder: `run:ID@SHA256`. */
export function formatPinnedEncoder(encoder: PinnedEncoder): string {
	return `run:${encoder.runId}@${encoder.sha256}`;
}

/** The pinned encoder a reference names, or null when it is symbolic or malformed. */
export function pinnedEncoder(text: string): PinnedEncoder | null {
	const reference = parseEncoderReference(text);
	if (reference?.kind !== 'run' || reference.sha256 === null) return null;
	return { runId: reference.runId, sha256: reference.sha256 };
}

/** A checkpoint's tensors by name (float32, with their shapes). */
export type EncoderTensors = Record<string, { shape: number[]; data: Float32Array }>;

/** The weights of a trained encoder, as its checkpoint holds them. */
export interface EncoderWeights {
	/** The encoder preset the run trained (its architecture). */
	model: ModelPresetId;
	tensors: EncoderTensors;
}

/**
 * Gives the weights of a pinned encoder. It must return the weights of exactly that checkpoint
 * (verified against its SHA-256) or throw an Error that names the run and what to do.
 */
export type EncoderWeightsSource = (encoder: PinnedEncoder) => EncoderWeights;

let installed: EncoderWeightsSource | null = null;

/** Installs the process's source of encoder weights (workers do, at start-up). */
export function installEncoderWeightsSource(source: EncoderWeightsSource | null): void {
	installed = source;
}

/** The installed source's weights for `encoder`; throws when this process has none installed. */
export function installedEncoderWeights(encoder: PinnedEncoder): EncoderWeights {
	if (!installed) {
		throw new Error(
			`No trained encoders are available in this process, so run ${encoder.runId}'s encoder cannot be loaded; generate through NoiseLab (the app or the CLI), which provides them.`
		);
	}
	return installed(encoder);
}
