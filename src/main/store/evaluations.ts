import { featureLayers, type FeatureLayer } from '../../core/encoders/architecture';
import fs from 'node:fs';
import { recipeOfRun, weightsKey } from '../../core/encoders/build';
import type Database from 'better-sqlite3';
import {
	evaluateParamsSchema,
	type EvaluationMetrics,
	type EvaluationRecord,
	type EvaluationRole
} from '../../core/api/evaluation';
import { getRun } from './runs';

interface EvaluationRow {
	id: number;
	group_id: string;
	run_id: number;
	role: EvaluationRole;
	checkpoint_step: number | null;
	dataset: string;
	protocol: EvaluationRecord['protocol'];
	layer: EvaluationRecord['layer'];
	status: EvaluationRecord['status'];
	metrics: string | null;
	config: string;
	error: string | null;
	seconds: number | null;
	created_at: string;
	finished_at: string | null;
	/** Migration 5: the linear probe's file, when one was kept. */
	probe_path: string | null;
}

const now = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;

function toRecord(row: EvaluationRow): EvaluationRecord {
	return {
		id: row.id,
		groupId: row.group_id,
		runId: row.run_id,
		role: row.role,
		checkpointStep: row.checkpoint_step,
		dataset: row.dataset,
		protocol: row.protocol,
		layer: row.layer,
		status: row.status,
		metrics: row.metrics === null ? null : (JSON.parse(row.metrics) as EvaluationMetrics),
		config: evaluateParamsSchema.parse(JSON.parse(row.config)),
		error: row.error,
		seconds: row.seconds,
		createdAt: row.created_at,
		finishedAt: row.finished_at
	};
}

/** Evaluations, newest first; those of one run (as encoder or control) when `runId` is given. */
export function listEvaluations(db: Database.Database, runId?: number): EvaluationRecord[] {
	const rows =
		runId === undefined
			? db.prepare('SELECT * FROM evaluations ORDER BY id DESC').all()
			: db
					.prepare(
						`SELECT * FROM evaluations WHERE group_id IN
						   (SELECT group_id FROM evaluations WHERE run_id = ?) ORDER BY id DESC`
					)
					.all(runId);
	return (rows as EvaluationRow[]).map(toRecord);
}

/** The evaluations of one group, in creation order. */
export function listEvaluationsOfGroup(db: Database.Database, groupId: string): EvaluationRecord[] {
	return (
		db
			.prepare('SELECT * FROM evaluations WHERE group_id = ? ORDER BY id')
			.all(groupId) as EvaluationRow[]
	).map(toRecord);
}

/** Evaluations of any of these runs (as encoder or control), oldest first. */
export function listEvaluationsOfRuns(
	db: Database.Database,
	runIds: readonly number[]
): EvaluationRecord[] {
	if (runIds.length === 0) return [];
	const rows = db
		.prepare(
			`SELECT * FROM evaluations WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY id`
		)
		.all(JSON.stringify(runIds)) as EvaluationRow[];
	return rows.map(toRecord);
}

/** One evaluation. */
export function getEvaluation(db: Database.Database, id: number): EvaluationRecord | undefined {
	const row = db.prepare('SELECT * FROM evaluations WHERE id = ?').get(id) as
		EvaluationRow | undefined;
	return row ? toRecord(row) : undefined;
}

/** Records an evaluation that starts. */
export function createEvaluation(
	db: Database.Database,
	evaluation: Pick<
		EvaluationRecord,
		'groupId' | 'runId' | 'role' | 'checkpointStep' | 'dataset' | 'protocol' | 'layer' | 'config'
	>
): EvaluationRecord {
	const row = db
		.prepare(
			`INSERT INTO evaluations (group_id, run_id, role, checkpoint_step, dataset, protocol, layer, status, config)
			 VALUES (@groupId, @runId, @role, @checkpointStep, @dataset, @protocol, @layer, 'running', @config)
			 RETURNING *`
		)
		.get({ ...evaluation, config: JSON.stringify(evaluation.config) }) as EvaluationRow;
	return toRecord(row);
}

/** Records how an evaluation ended. */
export function finishEvaluation(
	db: Database.Database,
	id: number,
	outcome: {
		status: EvaluationRecord['status'];
		metrics: EvaluationMetrics | null;
		error: string | null;
		seconds: number | null;
		/** The linear probe's file, kept for Explain. */
		probePath?: string | null;
	}
): EvaluationRecord | undefined {
	db.prepare(
		`UPDATE evaluations SET status = @status, metrics = @metrics, error = @error,
		   seconds = @seconds, probe_path = @probePath, finished_at = ${now} WHERE id = @id`
	).run({
		id,
		status: outcome.status,
		metrics: outcome.metrics ? JSON.stringify(outcome.metrics) : null,
		error: outcome.error,
		seconds: outcome.seconds,
		probePath: outcome.probePath ?? null
	});
	return getEvaluation(db, id);
}

/** Where the linear probe of evaluation `id` was kept, or null (none kept, or no such evaluation). */
export function getProbePath(db: Database.Database, id: number): string | null {
	const row = db.prepare('SELECT probe_path FROM evaluations WHERE id = ?').get(id) as
		Pick<EvaluationRow, 'probe_path'> | undefined;
	return row?.probe_path ?? null;
}

/** Which encoder's probe {@link findProbe} looks for. */
export interface ProbeQuery {
	runId: number;
	/** The run's random-init control instead of its trained encoder. */
	randomInit: boolean;
	/** The trained encoder's checkpoint step; ignored for the random-init control. */
	checkpointStep: number | null;
	/** The evaluation dataset's name, as evaluations store it. */
	dataset: string;
	/**
	 * Only probes that can explain a map at this conv block: those reading it or a later layer
	 * (Grad-CAM differentiates the probe's logit back to the block). Absent: any layer.
	 */
	camLayer?: FeatureLayer;
}

/** A kept linear probe: the evaluation that trained it and where its file is. */
export interface ProbeLocation {
	evaluationId: number;
	path: string;
	/** The layer it reads. */
	layer: EvaluationRecord['layer'];
	/** The evaluation's top-1 test accuracy (0–1). */
	accuracy: number | null;
}

/**
 * The probe of the newest completed linear evaluation of one encoder on `dataset` whose file is
 * still there, or null. A run's trained encoder was measured under role 'encoder' when the run
 * itself was evaluated, and under role 'real' (with `run_id` = this run) when it served as the
 * real-data control of another run's evaluation: both are the same weights at that step. A
 * random-init encoder is its recipe (architecture and seed): its own run's control comes first,
 * then that of any run with the same random-init weights (a study evaluates each seed's control
 * with one source's run only).
 */
export function findProbe(db: Database.Database, query: ProbeQuery): ProbeLocation | null {
	const rows = query.randomInit
		? randomInitRows(db, query)
		: (db
				.prepare(
					`SELECT * FROM evaluations WHERE run_id = ? AND role IN ('encoder', 'real')
					   AND checkpoint_step IS ? AND dataset = ? AND protocol = 'linear'
					   AND status = 'completed' AND probe_path IS NOT NULL
					 ORDER BY id DESC`
				)
				.all(query.runId, query.checkpointStep, query.dataset) as EvaluationRow[]);
	for (const row of rows) {
		if (row.probe_path === null || !fs.existsSync(row.probe_path)) continue;
		if (
			query.camLayer !== undefined &&
			featureLayers.indexOf(row.layer) < featureLayers.indexOf(query.camLayer)
		) {
			continue;
		}
		const metrics = row.metrics === null ? null : (JSON.parse(row.metrics) as EvaluationMetrics);
		return {
			evaluationId: row.id,
			path: row.probe_path,
			layer: row.layer,
			accuracy: metrics?.top1 ?? null
		};
	}
	return null;
}

/** Random-init probes of the queried run's weights: its own newest first, then other runs'. */
function randomInitRows(db: Database.Database, query: ProbeQuery): EvaluationRow[] {
	const run = getRun(db, query.runId);
	if (!run) return [];
	const weights = weightsKey(recipeOfRun(run), null);
	const rows = db
		.prepare(
			`SELECT * FROM evaluations WHERE role = 'random-init' AND dataset = ?
			   AND protocol = 'linear' AND status = 'completed' AND probe_path IS NOT NULL
			 ORDER BY run_id = ? DESC, id DESC`
		)
		.all(query.dataset, query.runId) as EvaluationRow[];
	const sameWeights = new Map<number, boolean>([[run.id, true]]);
	return rows.filter((row) => {
		let same = sameWeights.get(row.run_id);
		if (same === undefined) {
			const owner = getRun(db, row.run_id);
			same = owner !== undefined && weightsKey(recipeOfRun(owner), null) === weights;
			sameWeights.set(row.run_id, same);
		}
		return same;
	});
}

/** Marks evaluations left running by a previous session as cancelled. */
export function markInterruptedEvaluations(db: Database.Database): void {
	db.prepare(
		`UPDATE evaluations SET status = 'cancelled', error = 'NoiseLab stopped during this evaluation.',
		   finished_at = ${now} WHERE status = 'running'`
	).run();
}

/** A dataset folder the user registered. */
export interface RegisteredDataset {
	path: string;
	classes: string[];
	trainCount: number;
	testCount: number;
	notes: string[];
}

/** Registered dataset folders, oldest first. */
export function listRegisteredDatasets(db: Database.Database): RegisteredDataset[] {
	return (
		db.prepare('SELECT * FROM eval_datasets ORDER BY id').all() as {
			path: string;
			classes: string;
			train_count: number;
			test_count: number;
			notes: string;
		}[]
	).map((row) => ({
		path: row.path,
		classes: JSON.parse(row.classes) as string[],
		trainCount: row.train_count,
		testCount: row.test_count,
		notes: JSON.parse(row.notes) as string[]
	}));
}

/** Remembers (or refreshes) a registered dataset folder. */
export function saveRegisteredDataset(db: Database.Database, dataset: RegisteredDataset): void {
	db.prepare(
		`INSERT INTO eval_datasets (path, classes, train_count, test_count, notes)
		 VALUES (@path, @classes, @trainCount, @testCount, @notes)
		 ON CONFLICT(path) DO UPDATE SET classes = excluded.classes, train_count = excluded.train_count,
		   test_count = excluded.test_count, notes = excluded.notes`
	).run({
		...dataset,
		classes: JSON.stringify(dataset.classes),
		notes: JSON.stringify(dataset.notes)
	});
}
