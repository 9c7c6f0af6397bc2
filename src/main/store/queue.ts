/** The work queue's rows: items in order, their state, and the global pause switch. */
import type Database from 'better-sqlite3';
import type { QueueItem } from '../../core/api/studies';

/** An item as stored (without the live fields the service adds). */
export interface StoredQueueItem {
	id: number;
	kind: QueueItem['kind'];
	state: QueueItem['state'];
	position: number;
	label: string;
	runId: number | null;
	studyId: number | null;
	dependsOn: number | null;
	/** Kind-specific: evaluation params, an export request. */
	payload: unknown;
	result: unknown;
	error: string | null;
	attempts: number;
	createdAt: string;
	startedAt: string | null;
	finishedAt: string | null;
}

interface QueueRow {
	id: number;
	kind: QueueItem['kind'];
	state: QueueItem['state'];
	position: number;
	label: string;
	run_id: number | null;
	study_id: number | null;
	depends_on: number | null;
	payload: string;
	result: string | null;
	error: string | null;
	attempts: number;
	created_at: string;
	started_at: string | null;
	finished_at: string | null;
}

const now = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;

function toItem(row: QueueRow): StoredQueueItem {
	return {
		id: row.id,
		kind: row.kind,
		state: row.state,
		position: row.position,
		label: row.label,
		runId: row.run_id,
		studyId: row.study_id,
		dependsOn: row.depends_on,
		payload: JSON.parse(row.payload) as unknown,
		result: row.result === null ? null : (JSON.parse(row.result) as unknown),
		error: row.error,
		attempts: row.attempts,
		createdAt: row.created_at,
		startedAt: row.started_at,
		finishedAt: row.finished_at
	};
}

/** Every item: pending ones in queue order, then finished ones newest first. */
export function listQueueItems(db: Database.Database): StoredQueueItem[] {
	return (
		db
			.prepare(
				`SELECT * FROM queue_items ORDER BY
				   CASE state WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END,
				   CASE WHEN state IN ('running', 'queued') THEN position ELSE -id END`
			)
			.all() as QueueRow[]
	).map(toItem);
}

/** One item. */
export function getQueueItem(db: Database.Database, id: number): StoredQueueItem | undefined {
	const row = db.prepare('SELECT * FROM queue_items WHERE id = ?').get(id) as QueueRow | undefined;
	return row ? toItem(row) : undefined;
}

/** The items of a study: those it created and those of runs it links. */
export function listStudyQueueItems(db: Database.Database, studyId: number): StoredQueueItem[] {
	return (
		db
			.prepare(
				`SELECT * FROM queue_items WHERE study_id = @studyId
				   OR run_id IN (SELECT run_id FROM study_runs WHERE study_id = @studyId)
				 ORDER BY id`
			)
			.all({ studyId }) as QueueRow[]
	).map(toItem);
}

/** The pending (queued or running) items of a run. */
export function pendingItemsOfRun(db: Database.Database, runId: number): StoredQueueItem[] {
	return (
		db
			.prepare(
				`SELECT * FROM queue_items WHERE run_id = ? AND state IN ('queued', 'running') ORDER BY position`
			)
			.all(runId) as QueueRow[]
	).map(toItem);
}

/** What a new item needs. */
export interface NewQueueItem {
	kind: QueueItem['kind'];
	label: string;
	runId?: number | null;
	studyId?: number | null;
	dependsOn?: number | null;
	payload?: unknown;
}

/** Appends an item at the end of the queue. */
export function addQueueItem(db: Database.Database, item: NewQueueItem): StoredQueueItem {
	const row = db
		.prepare(
			`INSERT INTO queue_items (kind, state, position, label, run_id, study_id, depends_on, payload)
			 VALUES (@kind, 'queued', (SELECT coalesce(max(position), 0) + 1 FROM queue_items),
			   @label, @runId, @studyId, @dependsOn, @payload)
			 RETURNING *`
		)
		.get({
			kind: item.kind,
			label: item.label,
			runId: item.runId ?? null,
			studyId: item.studyId ?? null,
			dependsOn: item.dependsOn ?? null,
			payload: JSON.stringify(item.payload ?? {})
		}) as QueueRow;
	return toItem(row);
}

/**
 * Claims a queued item for running; false when another caller changed it first (the update is
 * conditional, so an item runs once).
 */
export function claimQueueItem(db: Database.Database, id: number): boolean {
	return (
		db
			.prepare(
				`UPDATE queue_items SET state = 'running', attempts = attempts + 1, started_at = ${now},
				   finished_at = NULL, error = NULL WHERE id = ? AND state = 'queued'`
			)
			.run(id).changes > 0
	);
}

/** Records how an item ended (or puts it back in the queue with `queued`). */
export function finishQueueItem(
	db: Database.Database,
	id: number,
	outcome: { state: QueueItem['state']; error?: string | null; result?: unknown }
): StoredQueueItem | undefined {
	const pending = outcome.state === 'queued' || outcome.state === 'running';
	db.prepare(
		`UPDATE queue_items SET state = @state, error = @error,
		   result = coalesce(@result, result),
		   finished_at = CASE WHEN @pending THEN NULL ELSE ${now} END
		 WHERE id = @id`
	).run({
		id,
		state: outcome.state,
		error: outcome.error ?? null,
		result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
		pending: pending ? 1 : 0
	});
	return getQueueItem(db, id);
}

/**
 * Moves a queued item to `index` among the queued items (0 = next to run), renumbering them so
 * positions stay distinct.
 */
export function moveQueueItem(db: Database.Database, id: number, index: number): void {
	db.transaction(() => {
		const queued = (
			db.prepare(`SELECT id FROM queue_items WHERE state = 'queued' ORDER BY position`).all() as {
				id: number;
			}[]
		).map((row) => row.id);
		const from = queued.indexOf(id);
		if (from === -1) return;
		queued.splice(from, 1);
		queued.splice(Math.max(0, Math.min(index, queued.length)), 0, id);
		const base = (
			db
				.prepare(
					`SELECT coalesce(min(position), 1) AS base FROM queue_items WHERE state = 'queued'`
				)
				.get() as { base: number }
		).base;
		const update = db.prepare('UPDATE queue_items SET position = ? WHERE id = ?');
		queued.forEach((itemId, offset) => update.run(base + offset, itemId));
	})();
}

/** Puts items left running by a previous process back in the queue, at their old places. */
export function requeueRunningItems(db: Database.Database): number {
	return db
		.prepare(
			`UPDATE queue_items SET state = 'queued', started_at = NULL,
			   error = 'NoiseLab stopped while this ran; it continues from where it was.'
			 WHERE state = 'running'`
		)
		.run().changes;
}

/** Whether the whole queue is paused. */
export function queuePaused(db: Database.Database): boolean {
	const row = db.prepare('SELECT paused FROM queue_control WHERE id = 1').get() as
		{ paused: number } | undefined;
	return row?.paused === 1;
}

/** Pauses or resumes the whole queue. */
export function setQueuePaused(db: Database.Database, paused: boolean): void {
	db.prepare('UPDATE queue_control SET paused = ? WHERE id = 1').run(paused ? 1 : 0);
}

/** Removes finished items (done, failed, cancelled) older than the newest `keep`. */
export function pruneFinishedItems(db: Database.Database, keep: number): void {
	db.prepare(
		`DELETE FROM queue_items WHERE state IN ('done', 'cancelled') AND study_id IS NULL AND id NOT IN
		   (SELECT id FROM queue_items WHERE state IN ('done', 'cancelled') ORDER BY id DESC LIMIT ?)`
	).run(keep);
}
