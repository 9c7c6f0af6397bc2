/**
 * A run as one file, to archive it or move it to another machine: its record, logged metrics,
 * its own evaluations (the encoder and its random-init control) and its newest checkpoint
 * (weights, BN statistics and optimiser state, so an imported run can be evaluated or resumed).
 * The container is the checkpoint format with a different `format` tag in its header.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { AppFailure } from '../../core/api/errors';
import { evaluationRecordSchema } from '../../core/api/evaluation';
import { metricPointSchema, runRecordSchema, type RunRecord } from '../../core/api/training';
import { decodeCheckpoint, encodeCheckpoint } from '../../core/training/checkpoint';
import { createEvaluation, finishEvaluation, listEvaluations } from '../store/evaluations';
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
	checkpointMeta: z.record(z.string(), z.unknown())
});

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
			checkpointMeta: contents.meta
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

/** Reads a bundle into the store as a new run (named "… (imported)"); returns its record. */
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
			'UPDATE runs SET backend = ?, parameter_count = ?, tags = ?, notes = ? WHERE id = ?'
		).run(run.backend, run.parameterCount, JSON.stringify(run.tags), run.notes, created.id);
		// A run that was training when it was exported continues from its checkpoint here.
		const status = run.status === 'running' ? 'interrupted' : run.status;
		setRunStatus(db, created.id, status, run.error);
		const groups = new Map<string, string>();
		for (const evaluation of meta.evaluations) {
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
			finishEvaluation(db, stored.id, {
				status: evaluation.status === 'running' ? 'cancelled' : evaluation.status,
				metrics: evaluation.metrics,
				error: evaluation.error,
				seconds: evaluation.seconds
			});
		}
		return publicRecord(getRun(db, created.id) ?? created);
	})();
}
