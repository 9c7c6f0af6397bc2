/** Training runs: one row per run, its sessions (each worker start), logged metrics and checkpoints. */
export default {
	version: 3,
	name: 'runs',
	sql: `
		CREATE TABLE runs (
			id INTEGER PRIMARY KEY,
			name TEXT NOT NULL,
			status TEXT NOT NULL CHECK (status IN
				('running', 'paused', 'interrupted', 'completed', 'cancelled', 'failed', 'diverged')),
			config TEXT NOT NULL,
			source_label TEXT NOT NULL,
			backend TEXT,
			step INTEGER NOT NULL DEFAULT 0,
			steps INTEGER NOT NULL,
			parameter_count INTEGER,
			last_loss REAL,
			train_seconds REAL NOT NULL DEFAULT 0,
			skipped_images INTEGER NOT NULL DEFAULT 0,
			error TEXT,
			app_version TEXT NOT NULL,
			folder TEXT NOT NULL,
			tags TEXT NOT NULL DEFAULT '[]',
			notes TEXT NOT NULL DEFAULT '',
			created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
			updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
			finished_at TEXT
		) STRICT;

		CREATE TABLE run_sessions (
			id INTEGER PRIMARY KEY,
			run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
			backend TEXT,
			backend_reason TEXT,
			start_step INTEGER NOT NULL,
			end_step INTEGER,
			outcome TEXT,
			started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
			ended_at TEXT
		) STRICT;

		CREATE TABLE run_metrics (
			run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
			step INTEGER NOT NULL,
			loss REAL NOT NULL,
			align REAL NOT NULL,
			uniform REAL NOT NULL,
			lr REAL NOT NULL,
			images_per_second REAL NOT NULL,
			PRIMARY KEY (run_id, step)
		) STRICT, WITHOUT ROWID;

		CREATE TABLE run_checkpoints (
			run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
			step INTEGER NOT NULL,
			path TEXT NOT NULL,
			bytes INTEGER NOT NULL,
			sha256 TEXT NOT NULL,
			created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
			PRIMARY KEY (run_id, step)
		) STRICT;
	`
};
