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
import { z } from 'zod';
import { AppFailure } from '../../core/api/errors';
import { evaluationRecordSchema, type EvaluationRecord } from '../../core/api/evaluation';
import { metricPointSchema, runRecordSchema, type RunRecord } from '../../core/api/training';
import { decodeCheckpoint, encodeCheckpoint } from '../../core/training/checkpoint';
import { writeFileDurably } from '../durable-file';
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
import { readCheckpoint, writeCheckpoint } from './checkpoint-files';

const bundleFormat = 'noiselab-run-bundle';

const bundleMetaSchema = z.object({
	format: z.literal(bundleFormat),
	version: z.literal(1),
	run: runRecordSchema,
	metrics: z.array(metricPointSchema),
	evaluations: z.array(evaluationRecordSchema),
	checkpointStep: z.number().int(),
	checkpointMeta: z.record(z.string(), z.unknown()),
	/** The probe files of `evaluations`, by the exporting store's evaluation id. */
	probes: z.array(z.object({ evaluationId: z.number().int(), base64: z.string() })).optional()
});

type BundleProbe = NonNullable<z.infer<typeof bundleMetaSchema>['probes']>[number];

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

/** Writes run `runId` into `file` (atomically). */
export function exportRunBundle(
	db: Database.Database,
	runId: number,
	file: string
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
			probes: collectProbes(db, evaluations)
		},
		tensors: contents.tensors
	});
	const target = path.resolve(file);
	const temporary = `${target}.${process.pid}.tmp`;
	try {
		fs.writeFileSync(temporary, bytes);
		fs.renameSync(temporary, target);
	} catch (error) {
		fs.rmSync(temporary, { force: true });
		throw new AppFailure('IO_ERROR', `Cannot write ${target}: ${(error as Error).message}`);
	}
	return { path: target, bytes: bytes.length };
}

/**
 * Reads a bundle into the store as a new run (named "… (imported)"); returns its record. Each
 * carried probe is written into the new run's folder under its new evaluation's id; one that
 * does not decode is dropped and the run's notes say so (the evaluation's figures still come).
 */
export function importRunBundle(db: Database.Database, file: string, runsDir: string): RunRecord {
	let meta: z.infer<typeof bundleMetaSchema>;
	let tensors: ReturnType<typeof decodeCheckpoint>['tensors'];
	try {
		const bytes = fs.readFileSync(file);
		const decoded = decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
		const parsed = bundleMetaSchema.safeParse(decoded.meta);
		if (!parsed.success) {
			throw new Error(
				decoded.meta.format === bundleFormat
					? `its header does not validate (${parsed.error.issues[0]?.message ?? 'unknown'})`
					: 'it is not a NoiseLab run bundle (a checkpoint, perhaps?)'
			);
		}
		meta = parsed.data;
		tensors = decoded.tensors;
	} catch (error) {
		if (error instanceof AppFailure) throw error;
		throw new AppFailure('INVALID_REQUEST', `Cannot import ${file}: ${(error as Error).message}`);
	}
	const { run } = meta;
	return db.transaction(() => {
		const created = createRun(
			db,
			{
				name: `${run.name} (imported)`,
				config: run.config,
				sourceLabel: run.sourceLabel,
				appVersion: run.appVersion
			},
			(id) => path.join(runsDir, `run-${id}`)
		);
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
		const code = (error as NodeJS.ErrnoException).code;
		throw new AppFailure(
			code === 'ENOSPC' ? 'DISK_FULL' : 'IO_ERROR',
			`Cannot write the linear probe ${file}: ${(error as Error).message}`
		);
	}
}
