/** User presets of generator settings, and the datasets exported from the app. */
export default {
	version: 2,
	name: 'presets-and-datasets',
	sql: `
		CREATE TABLE generator_presets (
			id INTEGER PRIMARY KEY,
			name TEXT NOT NULL UNIQUE COLLATE NOCASE,
			generator TEXT NOT NULL,
			generator_version INTEGER NOT NULL,
			params TEXT NOT NULL,
			size INTEGER NOT NULL,
			seed INTEGER NOT NULL,
			created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
			updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
		) STRICT;

		CREATE TABLE datasets (
			id INTEGER PRIMARY KEY,
			path TEXT NOT NULL UNIQUE,
			generator TEXT NOT NULL,
			preset TEXT,
			params TEXT NOT NULL,
			size INTEGER NOT NULL,
			seed INTEGER NOT NULL,
			count INTEGER NOT NULL,
			written INTEGER NOT NULL DEFAULT 0,
			format TEXT NOT NULL,
			status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'cancelled', 'failed')),
			error TEXT,
			manifest TEXT,
			created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
			updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
		) STRICT;
	`
};
