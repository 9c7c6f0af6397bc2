import type Database from 'better-sqlite3';
import { appSettingsSchema, defaultSettings, type AppSettings } from '../../core/api/settings';

/**
 * Reads all settings. A stored value that no longer validates (written by another version, or
 * edited by hand) falls back to its default rather than breaking startup.
 */
export function readSettings(db: Database.Database): AppSettings {
	const rows = db.prepare('SELECT key, value FROM settings').all() as {
		key: string;
		value: string;
	}[];
	const settings: Record<string, unknown> = { ...defaultSettings };
	const shape = appSettingsSchema.shape as Record<
		string,
		(typeof appSettingsSchema.shape)[keyof AppSettings]
	>;
	for (const { key, value } of rows) {
		const field = shape[key];
		if (!field) continue;
		try {
			const parsed = field.safeParse(JSON.parse(value));
			if (parsed.success) settings[key] = parsed.data;
		} catch {
			// Unparseable JSON: keep the default.
		}
	}
	return appSettingsSchema.parse(settings);
}

/**
 * Writes the given settings in one transaction and returns the full result. The API's
 * `settings.update` passes only what `appSettingsUpdateSchema` allows; the main process may
 * write any setting (the allowed folders go through the host-path policy).
 */
export function writeSettings(db: Database.Database, update: Partial<AppSettings>): AppSettings {
	const upsert = db.prepare(
		`INSERT INTO settings (key, value) VALUES (?, ?)
		 ON CONFLICT(key) DO UPDATE SET value = excluded.value,
		   updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
	);
	db.transaction(() => {
		for (const [key, value] of Object.entries(update)) {
			if (value !== undefined) upsert.run(key, JSON.stringify(value));
		}
	})();
	return readSettings(db);
}
