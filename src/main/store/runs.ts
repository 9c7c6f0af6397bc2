import type Database from 'better-sqlite3';
import { gpuAdapterSchema, type BackendId, type GpuAdapter } from '../../core/compute/backends';
import {
	resumableStatuses,
	type CheckpointRecord,
	type MetricPoint,
	type MetricPointInput,
	type RunRecord,
	type RunStatus
} from '../../core/api/training';
import { importedEncoderSchema, type ImportedEncoder } from '../../core/api/interop';
import { trainConfigSchema, type TrainConfig } from '../../core/training/config';

interface RunRow {
	id: number;
	name: string;
	status: RunStatus;
	config: string;
	source_label: string;
	backend: BackendId | null;
	adapter: string | null;
	step: number;
	steps: number;
	parameter_count: number | null;
	last_loss: number | null;
	train_seconds: number;
	skipped_images: number;
	error: string | null;
	app_version: string;
	folder: string;
	tags: string;
	notes: string;
	created_at: string;
	updated_at: string;
	finished_at: string | null;
	kind: 'trained' | 'imported';
	imported: string | null;
	/** Whether a training of the run waits in the work queue (from {@link runColumns}). */
	queued?: number;
}

/**
 * A run as stored: the API record plus the folder that holds its checkpoints. `status` is the
 * stored one; {@link publicRecord} shows a resumable run that waits in the queue as `queued`.
 */
export interface StoredRun extends RunRecord {
	folder: string;
	queued: boolean;
}

/** The run columns plus whether a training of the run waits in the queue (migration 7). */
const runColumns = `runs.*, EXISTS (SELECT 1 FROM queue_items q WHERE q.run_id = runs.id
	AND q.kind = 'train' AND q.state = 'queued') AS queued`;

const now = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;

function toRun(row: RunRow): StoredRun {
	return {
		id: row.id,
		name: row.name,
		status: row.status,
		kind: row.kind,
		imported: row.imported === null ? null : importedEncoderSchema.parse(JSON.parse(row.imported)),
		// Parsing fills defaults added by later versions, so old rows stay readable.
		config: trainConfigSchema.parse(JSON.parse(row.config)),
		sourceLabel: row.source_label,
		backend: row.backend,
		adapter: parseAdapter(row.adapter),
		step: row.step,
		steps: row.steps,
		parameterCount: row.parameter_count,
		lastLoss: row.last_loss,
		trainSeconds: row.train_seconds,
		skippedImages: row.skipped_images,
		error: row.error,
		tags: JSON.parse(row.tags) as string[],
		notes: row.notes,
		appVersion: row.app_version,
		createdAt: row.created_at,
		updatedAt: row.updated_at,
		finishedAt: row.finished_at,
		folder: row.folder,
		queued: row.queued === 1
	};
}

/** A stored adapter, or null when there is none or it no longer validates. */
function parseAdapter(json: string | null): GpuAdapter | null {
	if (json === null) return null;
	try {
		const parsed = gpuAdapterSchema.safeParse(JSON.parse(json));
		return parsed.success ? parsed.data : null;
	} catch {
		return null;
	}
}

/**
 * The API record of a stored run (without the store's own fields): a paused, interrupted or
 * failed run whose training waits in the work queue reads `queued`.
 */
export function publicRecord(run: StoredRun): RunRecord {
	const { folder, queued, ...record } = run;
	void folder;
	return queued && resumableStatuses.includes(record.status)
		? { ...record, status: 'queued' }
		: record;
}

/** Runs, newest first. */
export function listRuns(db: Database.Database): StoredRun[] {
	return (db.prepare(`SELECT ${runColumns} FROM runs ORDER BY id DESC`).all() as RunRow[]).map(
		toRun
	);
}

/** The run with this id. */
export function getRun(db: Database.Database, id: number): StoredRun | undefined {
	const row = db.prepare(`SELECT ${runColumns} FROM runs WHERE id = ?`).get(id) as
		RunRow | undefined;
	return row ? toRun(row) : undefined;
}

/**
 * Creates a run, `running` unless `status` says otherwise (the queue creates runs `paused` at
 * step 0 until their turn); `folderFor` names its folder from the new id.
 */
export function createRun(
	db: Database.Database,
	run: {
		name: string | null;
		config: TrainConfig;
		sourceLabel: string;
		appVersion: string;
		status?: 'running' | 'paused';
		/** An external encoder's record; the run is then of kind `imported`. */
		imported?: ImportedEncoder | null;
	},
	folderFor: (id: number) => string
): StoredRun {
	return db.transaction(() => {
		const { lastInsertRowid } = db
			.prepare(
				`INSERT INTO runs (name, status, config, source_label, steps, app_version, folder, kind, imported)
				 VALUES ('', @status, @config, @sourceLabel, @steps, @appVersion, '', @kind, @imported)`
			)
			.run({
				status: run.status ?? 'running',
				config: JSON.stringify(run.config),
				sourceLabel: run.sourceLabel,
				steps: run.config.steps,
				appVersion: run.appVersion,
				kind: run.imported ? 'imported' : 'trained',
				imported: run.imported ? JSON.stringify(run.imported) : null
			});
		const id = Number(lastInsertRowid);
		db.prepare('UPDATE runs SET name = ?, folder = ? WHERE id = ?').run(
			run.name ?? `run-${id}`,
			folderFor(id),
			id
		);
		return getRun(db, id) as StoredRun;
	})();
}

/** Renames a run, or changes its tags or notes. */
export function updateRun(
	db: Database.Database,
	id: number,
	update: { name?: string | undefined; tags?: string[] | undefined; notes?: string | undefined }
): StoredRun | undefined {
	db.prepare(
		`UPDATE runs SET name = coalesce(@name, name), tags = coalesce(@tags, tags),
		   notes = coalesce(@notes, notes), updated_at = ${now} WHERE id = @id`
	).run({
		id,
		name: update.name ?? null,
		tags: update.tags ? JSON.stringify(update.tags) : null,
		notes: update.notes ?? null
	});
	return getRun(db, id);
}

/** Deletes a run with its metrics, checkpoint records and evaluations (the caller removes its files). */
export function deleteRun(db: Database.Database, id: number): boolean {
	return db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
}

/** Changes a run's status (and error); finished statuses stamp `finished_at`. */
export function setRunStatus(
	db: Database.Database,
	id: number,
	status: RunStatus,
	error: string | null = null
): StoredRun | undefined {
	const finished = status === 'completed' || status === 'cancelled' || status === 'diverged';
	db.prepare(
		`UPDATE runs SET status = @status, error = @error, updated_at = ${now},
		   finished_at = CASE WHEN @finished THEN ${now} ELSE NULL END
		 WHERE id = @id`
	).run({ id, status, error, finished: finished ? 1 : 0 });
	return getRun(db, id);
}

/** What a worker reports when a session starts. */
export function startRunSession(
	db: Database.Database,
	runId: number,
	session: {
		backend: BackendId;
		backendReason: string;
		adapter: GpuAdapter | null;
		/** Kept in the run's config: later sessions train with the same replicas. */
		replicas: number;
		startStep: number;
		parameterCount: number;
		sourceLabel: string;
	}
): number {
	const adapter = session.adapter ? JSON.stringify(session.adapter) : null;
	return db.transaction(() => {
		db.prepare(
			`UPDATE runs SET backend = ?, adapter = ?, parameter_count = ?, source_label = ?,
			   config = json_set(config, '$.replicas', ?), updated_at = ${now}
			 WHERE id = ?`
		).run(
			session.backend,
			adapter,
			session.parameterCount,
			session.sourceLabel,
			session.replicas,
			runId
		);
		const { lastInsertRowid } = db
			.prepare(
				`INSERT INTO run_sessions (run_id, backend, backend_reason, adapter, start_step)
				 VALUES (?, ?, ?, ?, ?)`
			)
			.run(runId, session.backend, session.backendReason, adapter, session.startStep);
		return Number(lastInsertRowid);
	})();
}

/** Closes a session with how it ended. */
export function endRunSession(
	db: Database.Database,
	sessionId: number,
	endStep: number,
	outcome: string
): void {
	db.prepare(
		`UPDATE run_sessions SET end_step = ?, outcome = ?, ended_at = ${now} WHERE id = ?`
	).run(endStep, outcome, sessionId);
}

/**
 * Appends logged steps in one transaction and moves the run's step, loss and time forward.
 * Rows at the same step replace older ones: a resumed run re-trains the steps after its last
 * checkpoint and logs them again.
 */
export function appendMetrics(
	db: Database.Database,
	runId: number,
	points: readonly MetricPointInput[],
	progress: { step: number; trainSeconds: number; skippedImages: number }
): void {
	const insert = db.prepare(
		`INSERT OR REPLACE INTO run_metrics
		   (run_id, step, loss, align, uniform, lr, images_per_second, seconds)
		 VALUES (@runId, @step, @loss, @align, @uniform, @lr, @imagesPerSecond, @seconds)`
	);
	db.transaction(() => {
		for (const point of points) insert.run({ runId, ...point, seconds: point.seconds ?? null });
		const last = points.at(-1);
		db.prepare(
			`UPDATE runs SET step = @step, last_loss = coalesce(@loss, last_loss),
			   train_seconds = train_seconds + @trainSeconds, skipped_images = skipped_images + @skipped,
			   updated_at = ${now}
			 WHERE id = @runId`
		).run({
			runId,
			step: progress.step,
			loss: last?.loss ?? null,
			trainSeconds: progress.trainSeconds,
			skipped: progress.skippedImages
		});
	})();
}

/** Logged steps after `afterStep`, in order. */
export function listMetrics(db: Database.Database, runId: number, afterStep = -1): MetricPoint[] {
	return db
		.prepare(
			`SELECT step, loss, align, uniform, lr, images_per_second AS imagesPerSecond, seconds
			 FROM run_metrics WHERE run_id = ? AND step > ? ORDER BY step`
		)
		.all(runId, afterStep) as MetricPoint[];
}

/**
 * The training seconds a run had reached at `step` (where a resumed session's clock starts):
 * 0 at step 0, null when that step was logged without a time (before migration 9) or not at all.
 */
export function secondsAtStep(db: Database.Database, runId: number, step: number): number | null {
	if (step === 0) return 0;
	const row = db
		.prepare('SELECT seconds FROM run_metrics WHERE run_id = ? AND step = ?')
		.get(runId, step) as { seconds: number | null } | undefined;
	return row?.seconds ?? null;
}

/**
 * Moves a run back to a checkpoint before it resumes: forgets the metrics logged after it, so
 * the re-trained steps are not mixed with the lost ones.
 */
export function rewindRun(db: Database.Database, runId: number, step: number): void {
	db.transaction(() => {
		db.prepare('DELETE FROM run_metrics WHERE run_id = ? AND step > ?').run(runId, step);
		db.prepare(`UPDATE runs SET step = ?, updated_at = ${now} WHERE id = ?`).run(step, runId);
	})();
}

/** Records a written checkpoint. */
export function addCheckpoint(
	db: Database.Database,
	runId: number,
	checkpoint: Omit<CheckpointRecord, 'createdAt'>
): void {
	db.prepare(
		`INSERT OR REPLACE INTO run_checkpoints (run_id, step, path, bytes, sha256)
		 VALUES (@runId, @step, @path, @bytes, @sha256)`
	).run({ runId, ...checkpoint });
}

/** Forgets a checkpoint whose file was deleted. */
export function removeCheckpoint(db: Database.Database, runId: number, step: number): void {
	db.prepare('DELETE FROM run_checkpoints WHERE run_id = ? AND step = ?').run(runId, step);
}

/** A run's checkpoints, oldest first. */
export function listCheckpoints(db: Database.Database, runId: number): CheckpointRecord[] {
	return db
		.prepare(
			`SELECT step, path, bytes, sha256, created_at AS createdAt
			 FROM run_checkpoints WHERE run_id = ? ORDER BY step`
		)
		.all(runId) as CheckpointRecord[];
}

/** Marks runs left `running` by a previous session (the app quit or crashed) as interrupted. */
export function markInterruptedRuns(db: Database.Database): StoredRun[] {
	const rows = db
		.prepare(
			`UPDATE runs SET status = 'interrupted',
			   error = 'NoiseLab stopped while this run was training. Resume continues from its last checkpoint.',
			   updated_at = ${now}
			 WHERE status = 'running' RETURNING *`
		)
		.all() as RunRow[];
	return rows.map(toRun);
}
