/**
 * Studies and the work queue. A study owns its sources, targets and (source, repeat) → run
 * links; a run may belong to several studies. The queue holds every long piece of work
 * (generating a cached dataset, a training, an evaluation) in order, so it survives restarts.
 */
export default {
	version: 7,
	name: 'studies-and-queue',
	sql: `
		CREATE TABLE studies (
			id INTEGER PRIMARY KEY,
			name TEXT NOT NULL,
			template TEXT,
			budget TEXT NOT NULL,
			evaluation TEXT NOT NULL,
			repeats INTEGER NOT NULL CHECK (repeats >= 1),
			seed INTEGER NOT NULL,
			data_seed INTEGER NOT NULL,
			estimate TEXT,
			created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
			updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
		) STRICT;

		CREATE TABLE study_sources (
			study_id INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
			key TEXT NOT NULL,
			position INTEGER NOT NULL,
			source TEXT NOT NULL,
			plan TEXT NOT NULL,
			PRIMARY KEY (study_id, key)
		) STRICT;

		CREATE TABLE study_targets (
			study_id INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
			position INTEGER NOT NULL,
			dataset TEXT NOT NULL,
			protocol TEXT NOT NULL,
			layer TEXT NOT NULL,
			PRIMARY KEY (study_id, position)
		) STRICT;

		CREATE TABLE study_runs (
			study_id INTEGER NOT NULL,
			source_key TEXT NOT NULL,
			repeat INTEGER NOT NULL,
			run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
			reused INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (study_id, source_key, repeat),
			FOREIGN KEY (study_id, source_key) REFERENCES study_sources (study_id, key) ON DELETE CASCADE
		) STRICT;
		CREATE INDEX study_runs_by_run ON study_runs (run_id);

		CREATE TABLE queue_items (
			id INTEGER PRIMARY KEY,
			kind TEXT NOT NULL CHECK (kind IN ('generate', 'train', 'evaluate')),
			state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
			position INTEGER NOT NULL,
			label TEXT NOT NULL,
			run_id INTEGER REFERENCES runs (id) ON DELETE CASCADE,
			study_id INTEGER REFERENCES studies (id) ON DELETE CASCADE,
			depends_on INTEGER REFERENCES queue_items (id) ON DELETE SET NULL,
			payload TEXT NOT NULL DEFAULT '{}',
			result TEXT,
			error TEXT,
			attempts INTEGER NOT NULL DEFAULT 0,
			created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
			started_at TEXT,
			finished_at TEXT
		) STRICT;
		CREATE INDEX queue_items_by_state ON queue_items (state, position);
		CREATE INDEX queue_items_by_run ON queue_items (run_id);
		CREATE INDEX queue_items_by_study ON queue_items (study_id);

		CREATE TABLE queue_control (
			id INTEGER PRIMARY KEY CHECK (id = 1),
			paused INTEGER NOT NULL DEFAULT 0
		) STRICT;
		INSERT INTO queue_control (id, paused) VALUES (1, 0);
	`
};
