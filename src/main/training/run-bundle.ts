/**
 * A run as one file, to archive it or move it to another machine: its record, logged metrics,
 * its own evaluations (the encoder and its random-init control) and its newest checkpoint
 * (weights, BN statistics and optimiser state, so an imported run can be evaluated or resumed),
 * and the linear probes those evaluations kept, so Explain can take class targets for it.
 * The container is the checkpoint format with a different `format` tag in its header; the probe
 * files travel byte for byte, base64 in the header, because the data section holds float32
 * tensors only. Bundles written before probes were carried simply lack `probes`: the field is
 * optional and older readers ignore it, so the version stays 1.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { AppFailure } from '../../core/api/errors';
import type { EvaluationRecord } from '../../core/api/evaluation';
import type { RunRecord } from '../../core/api/training';
import { checkpointMagic, encodeCheckpoint } from '../../core/training/checkpoint';
import { writeFailure, writeFileDurably } from '../durable-file';
import { writeNewFile } from '../new-file';
import { decodeProbeFile, probeFilePath } from '../evaluation/probe-files';
import {
	createEvaluation,
	finishEvaluation,
	getProbePath,
	listEvaluations
} from '../store/evaluations';
import {
	addCheckpoint,
	appendMetrics,
	createRun,
	getRun,
	listCheckpoints,
	listMetrics,
	publicRecord,
	setRunStatus
} from '../store/runs';
import { bundleFormat, dataSectionSha256, type BundleMeta, type RunBundle } from './bundle-reader';
import { readCheckpoint, writeCheckpoint } from './checkpoint-files';

type BundleProbe = NonNullable<BundleMeta['probes']>[number];

/**
 * The kept probe files of `evaluations` that can still be read and decode. A missing or damaged
 * file is left out rather than failing the export: the run is still worth moving, and the import
 * could not use a damaged probe anyway.
 */
function collectProbes(db: Database.Database, evaluations: EvaluationRecord[]): BundleProbe[] {
	const probes: BundleProbe[] = [];
	for (const evaluation of evaluations) {
		const file = getProbePath(db, evaluation.id);
		if (file === null) continue;
		try {
			const bytes = fs.readFileSync(file);
			decodeProbeFile(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), file);
			probes.push({ evaluationId: evaluation.id, base64: bytes.toString('base64') });
		} catch {
			continue;
		}
	}
	return probes;
}

/** Describes an evaluation in a note to the user. */
function describeEvaluation(evaluation: EvaluationRecord): string {
	const encoder =
		evaluation.role === 'random-init'
			? 'random-init control'
			: `encoder at step ${evaluation.checkpointStep ?? '?'}`;
	return `${evaluation.dataset}, ${evaluation.layer}, ${encoder}`;
}

/**
 * Writes run `runId` into `file` (atomically) and returns the path written: `file`, or when a
 * file of that name exists, `file (2)…` beside it. With `overwrite`, an existing run bundle is
 * replaced; any other existing file never is.
 */
export function exportRunBundle(
	db: Database.Database,
	runId: number,
	file: string,
	overwrite = false
): { path: string; bytes: number } {
	const run = getRun(db, runId);
	if (!run) throw new AppFailure('NOT_FOUND', `There is no run ${runId}.`);
	const checkpoint = listCheckpoints(db, runId).at(-1);
	if (!checkpoint) {
		throw new AppFailure('INVALID_REQUEST', `Run "${run.name}" has no checkpoint to export yet.`);
	}
	const contents = readCheckpoint(checkpoint.path, checkpoint.sha256);
	const evaluations = listEvaluations(db, runId).filter(
		(evaluation) => evaluation.runId === runId && evaluation.role !== 'real'
	);
	const bytes = encodeCheckpoint({
		meta: {
			format: bundleFormat,
			version: 1,
			run: publicRecord(run),
			metrics: listMetrics(db, runId),
			evaluations,
			checkpointStep: checkpoint.step,
			checkpointMeta: contents.meta,
			dataSha256: dataSectionSha256(contents.tensors),
			probes: collectProbes(db, evaluations)
		},
		tensors: contents.tensors
	});
	const written = writeNewFile(path.resolve(file), bytes, {
		overwrite,
		isReplaceable: isRunBundleFile,
		what: 'run bundle'
	});
	return { path: written, bytes: bytes.length };
}

/**
 * Whether `file` starts as the bundles this code writes do: the checkpoint signature, then a
 * header whose first field is the bundle format. The only files `overwrite` may replace.
 */
export function isRunBundleFile(file: string): boolean {
	const expected = Buffer.from(`{"meta":{"format":"${bundleFormat}"`);
	const head = Buffer.alloc(12 + expected.length);
	let fd: number | null = null;
	try {
		fd = fs.openSync(file, 'r');
		const read = fs.readSync(fd, head, 0, head.length, 0);
		return (
			read === head.length &&
			head.toString('latin1', 0, 4) === checkpointMagic &&
			head.subarray(12).equals(expected)
		);
	} catch {
		return false;
	} finally {
		if (fd !== null) fs.closeSync(fd);
	}
}

/**
 * Adds a bundle that {@link readRunBundle} read and checked to the store as a new run (named
 * "… (imported)") and returns its record. Each carried probe is written into the new run's
 * folder under its new evaluation's id; one that does not decode is dropped and the run's notes
 * say so (the evaluation's figures still come). `file` names the bundle in notes. If writing
 * fails (a full disk), nothing of the run is left: not its row, not its folder.
 */
export function importRunBundle(
	db: Database.Database,
	bundle: RunBundle,
	runsDir: string,
	file: string
): RunRecord {
	const { meta, tensors } = bundle;
	let folder: string | null = null;
	try {
		return addBundleRun(db, meta, tensors, runsDir, file, (created) => (folder = created));
	} catch (error) {
		if (folder !== null) fs.rmSync(folder, { recursive: true, force: true });
		throw error;
	}
}

function addBundleRun(
	db: Database.Database,
	meta: BundleMeta,
	tensors: RunBundle['tensors'],
	runsDir: string,
	file: string,
	onFolder: (folder: string) => void
): RunRecord {
	const { run } = meta;
	return db.transaction(() => {
		const created = createRun(
			db,
			{
				name: `${run.name} (imported)`,
				config: run.config,
				sourceLabel: run.sourceLabel,
				appVersion: run.appVersion,
				imported: run.imported
			},
			(id) => path.join(runsDir, `run-${id}`)
		);
		onFolder(created.folder);
		const checkpoint = writeCheckpoint(
			path.join(created.folder, 'checkpoints'),
			meta.checkpointStep,
			{ meta: { ...meta.checkpointMeta, runId: created.id }, tensors }
		);
		addCheckpoint(db, created.id, checkpoint);
		appendMetrics(db, created.id, meta.metrics, {
			step: meta.checkpointStep,
			trainSeconds: run.trainSeconds,
			skippedImages: run.skippedImages
		});
		db.prepare(
			'UPDATE runs SET backend = ?, adapter = ?, parameter_count = ?, tags = ?, notes = ? WHERE id = ?'
		).run(
			run.backend,
			run.adapter ? JSON.stringify(run.adapter) : null,
			run.parameterCount,
			JSON.stringify(run.tags),
			run.notes,
			created.id
		);
		// A run that was training when it was exported continues from its checkpoint here.
		const status = run.status === 'running' ? 'interrupted' : run.status;
		setRunStatus(db, created.id, status, run.error);
		const probes = new Map((meta.probes ?? []).map((probe) => [probe.evaluationId, probe]));
		const dropped: string[] = [];
		const groups = new Map<string, string>();
		// Oldest first, so the ids keep their order: "newest" (findProbe, lists) stays the newest.
		const oldestFirst = [...meta.evaluations].sort((a, b) => a.id - b.id);
		for (const evaluation of oldestFirst) {
			const groupId = groups.get(evaluation.groupId) ?? crypto.randomUUID();
			groups.set(evaluation.groupId, groupId);
			const stored = createEvaluation(db, {
				groupId,
				runId: created.id,
				role: evaluation.role,
				checkpointStep: evaluation.checkpointStep,
				dataset: evaluation.dataset,
				protocol: evaluation.protocol,
				layer: evaluation.layer,
				config: { ...evaluation.config, runId: created.id, realRunId: null }
			});
			const probe = probes.get(evaluation.id);
			let probePath: string | null = null;
			if (probe) {
				const bytes = Buffer.from(probe.base64, 'base64');
				try {
					decodeProbeFile(
						new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
						`The probe of evaluation ${evaluation.id} in ${file}`
					);
					probePath = probeFilePath(created.folder, stored.id);
				} catch {
					dropped.push(describeEvaluation(evaluation));
				}
				if (probePath !== null) writeProbe(probePath, bytes);
			}
			finishEvaluation(db, stored.id, {
				status: evaluation.status === 'running' ? 'cancelled' : evaluation.status,
				metrics: evaluation.metrics,
				error: evaluation.error,
				seconds: evaluation.seconds,
				probePath
			});
		}
		if (dropped.length > 0) {
			const note =
				`Imported without ${dropped.length === 1 ? 'the linear probe' : 'the linear probes'} ` +
				`of ${dropped.join('; ')}: damaged in the bundle. ` +
				'Evaluate again with the linear probe to explain classes.';
			db.prepare('UPDATE runs SET notes = ? WHERE id = ?').run(
				run.notes === '' ? note : `${run.notes}\n\n${note}`,
				created.id
			);
		}
		return publicRecord(getRun(db, created.id) ?? created);
	})();
}

/** Writes carried probe bytes unchanged (re-encoding could differ from the original file). */
function writeProbe(file: string, bytes: Uint8Array): void {
	try {
		writeFileDurably(file, bytes);
	} catch (error) {
		throw writeFailure(error, `the linear probe ${path.basename(file)}`, path.dirname(file));
	}
}
