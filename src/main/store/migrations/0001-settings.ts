/** The first schema: user settings as JSON values by key. */
export default {
	version: 1,
	name: 'settings',
	sql: `
		CREATE TABLE settings (
			key TEXT PRIMARY KEY,
			value TEXT NOT NULL,
			updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
		) STRICT;
	`
};
