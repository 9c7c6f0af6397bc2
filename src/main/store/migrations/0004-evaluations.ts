/** Evaluations of run encoders (with their controls), and the dataset folders a user registered. */
export default {
	version: 4,
	name: 'evaluations',
	sql: `
		CREATE TABLE evaluations (
			id INTEGER PRIMARY KEY,
			group_id TEXT NOT NULL,
			run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
			role TEXT NOT NULL CHECK (role IN ('encoder', 'random-init', 'real')),
			checkpoint_step INTEGER,
			dataset TEXT NOT NULL,
			protocol TEXT NOT NULL CHECK (protocol IN ('linear', 'knn')),
			layer TEXT NOT NULL,
			status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
			metrics TEXT,
			config TEXT NOT NULL,
			error TEXT,
			seconds REAL,
			created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
			finished_at TEXT
		) STRICT;
		CREATE INDEX evaluations_by_run ON evaluations (run_id);
		CREATE INDEX evaluations_by_group ON evaluations (group_id);

		CREATE TABLE eval_datasets (
			id INTEGER PRIMARY KEY,
			path TEXT NOT NULL UNIQUE,
			classes TEXT NOT NULL,
			train_count INTEGER NOT NULL,
			test_count INTEGER NOT NULL,
			notes TEXT NOT NULL DEFAULT '[]',
			created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
		) STRICT;
	`
};
