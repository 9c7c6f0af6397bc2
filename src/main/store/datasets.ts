import type Database from 'better-sqlite3';
import type { DatasetRecord } from '../../core/api/generators';
import type { DatasetManifest } from '../../core/generators/manifest';

interface DatasetRow {
	id: number;
	path: string;
	generator: string;
	preset: string | null;
	params: string;
	size: number;
	seed: number;
	count: number;
	written: number;
	format: string;
	status: DatasetRecord['status'];
	error: string | null;
	created_at: string;
	updated_at: string;
}

function toRecord(row: DatasetRow): DatasetRecord {
	return {
		id: row.id,
		path: row.path,
		generator: row.generator,
		preset: row.preset,
		params: JSON.parse(row.params) as Record<string, unknown>,
		size: row.size,
		seed: row.seed,
		count: row.count,
		written: row.written,
		format: row.format as DatasetRecord['format'],
		status: row.status,
		error: row.error,
		createdAt: row.created_at,
		updatedAt: row.updated_at
	};
}

/** Exported datasets, newest first. */
export function listDatasets(db: Database.Database): DatasetRecord[] {
	return (
		db.prepare('SELECT * FROM datasets ORDER BY updated_at DESC, id DESC').all() as DatasetRow[]
	).map(toRecord);
}

/** The dataset with this id. */
export function getDataset(db: Database.Database, id: number): DatasetRecord | undefined {
	const row = db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
	return row ? toRecord(row) : undefined;
}

/** Records an export that starts or resumes (one row per folder; the latest request sets its count, as in the manifest). */
export function startDataset(
	db: Database.Database,
	dataset: Pick<
		DatasetRecord,
		'path' | 'generator' | 'preset' | 'params' | 'size' | 'seed' | 'count' | 'format'
	>
): DatasetRecord {
	const row = db
		.prepare(
			`INSERT INTO datasets (path, generator, preset, params, size, seed, count, format, status)
			 VALUES (@path, @generator, @preset, @params, @size, @seed, @count, @format, 'running')
			 ON CONFLICT(path) DO UPDATE SET generator = excluded.generator, preset = excluded.preset,
			   params = excluded.params, size = excluded.size, seed = excluded.seed,
			   count = excluded.count, format = excluded.format,
			   status = 'running', error = NULL, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
			 RETURNING *`
		)
		.get({ ...dataset, params: JSON.stringify(dataset.params) }) as DatasetRow;
	return toRecord(row);
}

/** Updates the count of written images while an export runs. */
export function updateDatasetProgress(db: Database.Database, id: number, written: number): void {
	db.prepare(
		`UPDATE datasets SET written = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`
	).run(written, id);
}

/** Records how an export ended. */
export function finishDataset(
	db: Database.Database,
	id: number,
	outcome: {
		status: DatasetRecord['status'];
		error: string | null;
		manifest: DatasetManifest | null;
		written?: number;
	}
): DatasetRecord | undefined {
	db.prepare(
		`UPDATE datasets SET status = @status, error = @error,
		   manifest = coalesce(@manifest, manifest), written = coalesce(@written, written),
		   count = coalesce(@count, count), updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
		 WHERE id = @id`
	).run({
		id,
		status: outcome.status,
		error: outcome.error,
		manifest: outcome.manifest ? JSON.stringify(outcome.manifest) : null,
		written: outcome.manifest?.written ?? outcome.written ?? null,
		count: outcome.manifest?.count ?? null
	});
	return getDataset(db, id);
}

/** Marks exports left `running` by a previous session (the app quit or crashed) as cancelled. */
export function markInterruptedDatasets(db: Database.Database): void {
	db.prepare(
		`UPDATE datasets SET status = 'cancelled', error = 'The app stopped during the export; export again to resume.'
		 WHERE status = 'running'`
	).run();
}
