import type Database from 'better-sqlite3';
import type { UserPreset } from '../../core/api/generators';
import { AppFailure } from '../../core/api/errors';

interface PresetRow {
	id: number;
	name: string;
	generator: string;
	generator_version: number;
	params: string;
	size: number;
	seed: number;
	created_at: string;
	updated_at: string;
}

function toPreset(row: PresetRow): UserPreset {
	return {
		id: row.id,
		name: row.name,
		generator: row.generator,
		generatorVersion: row.generator_version,
		params: JSON.parse(row.params) as Record<string, unknown>,
		size: row.size,
		seed: row.seed,
		createdAt: row.created_at,
		updatedAt: row.updated_at
	};
}

/** The user's presets, sorted by name. */
export function listPresets(db: Database.Database): UserPreset[] {
	return (
		db.prepare('SELECT * FROM generator_presets ORDER BY name COLLATE NOCASE').all() as PresetRow[]
	).map(toPreset);
}

/** Saves a preset; a preset with the same name (any case) is overwritten. */
export function savePreset(
	db: Database.Database,
	preset: Pick<UserPreset, 'name' | 'generator' | 'generatorVersion' | 'params' | 'size' | 'seed'>
): UserPreset {
	const row = db
		.prepare(
			`INSERT INTO generator_presets (name, generator, generator_version, params, size, seed)
			 VALUES (@name, @generator, @generatorVersion, @params, @size, @seed)
			 ON CONFLICT(name) DO UPDATE SET generator = excluded.generator,
			   generator_version = excluded.generator_version, params = excluded.params,
			   size = excluded.size, seed = excluded.seed,
			   updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
			 RETURNING *`
		)
		.get({ ...preset, params: JSON.stringify(preset.params) }) as PresetRow;
	return toPreset(row);
}

/** Renames a preset; refuses a name another preset already has. */
export function renamePreset(db: Database.Database, id: number, name: string): UserPreset {
	const clash = db
		.prepare('SELECT id FROM generator_presets WHERE name = ? COLLATE NOCASE AND id != ?')
		.get(name, id);
	if (clash)
		throw new AppFailure(
			'INVALID_REQUEST',
			`A preset named "${name}" already exists; choose another name.`
		);
	const row = db
		.prepare(
			`UPDATE generator_presets SET name = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? RETURNING *`
		)
		.get(name, id) as PresetRow | undefined;
	if (!row) throw new AppFailure('NOT_FOUND', `No saved preset has id ${id}.`);
	return toPreset(row);
}

/** Deletes a preset; returns whether it existed. */
export function deletePreset(db: Database.Database, id: number): boolean {
	return db.prepare('DELETE FROM generator_presets WHERE id = ?').run(id).changes > 0;
}
