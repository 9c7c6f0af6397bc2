import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { latestSchemaVersion, openStore } from '../../src/main/store/database';
import { migrations, type Migration } from '../../src/main/store/migrations/index';
import { readSettings, writeSettings } from '../../src/main/store/settings';
import { temporaryFolder } from '../support/paths';

const sha256 = (file: string) =>
	crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('the SQLite store', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	beforeEach(() => {
		folder = temporaryFolder();
	});
	afterEach(() => folder.remove());

	it('creates the database in WAL mode with every migration applied once', () => {
		const store = openStore(`${folder.path}/nested/data`);
		expect(fs.existsSync(store.path)).toBe(true);
		expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
		expect(store.db.pragma('user_version', { simple: true })).toBe(latestSchemaVersion());
		expect(
			store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'settings'").get()
		).toBeTruthy();
		store.close();
	});

	it('reopens idempotently and keeps the data', () => {
		const first = openStore(folder.path);
		writeSettings(first.db, { backend: 'cpu' });
		first.close();
		const second = openStore(folder.path);
		expect(second.db.pragma('user_version', { simple: true })).toBe(latestSchemaVersion());
		expect(readSettings(second.db)).toEqual({ backend: 'cpu', replicas: null, allowedFolders: [] });
		second.close();
	});

	it('refuses a database from a newer NoiseLab and leaves the file untouched', () => {
		const store = openStore(folder.path);
		const file = store.path;
		store.close();
		const raw = new Database(file);
		raw.pragma(`user_version = ${latestSchemaVersion() + 5}`);
		raw.pragma('journal_mode = DELETE');
		raw.close();
		const before = sha256(file);
		let thrown: unknown;
		try {
			openStore(folder.path);
		} catch (error) {
			thrown = error;
		}
		expect(thrown).toBeInstanceOf(AppFailure);
		expect((thrown as AppFailure).code).toBe('STORE_SCHEMA_TOO_NEW');
		expect((thrown as AppFailure).message).toContain(`schema version ${latestSchemaVersion() + 5}`);
		expect((thrown as AppFailure).message).toContain('Update NoiseLab');
		expect(sha256(file)).toBe(before);
	});

	it('runs each migration in a transaction: a failing one changes nothing', () => {
		openStore(folder.path).close();
		const broken: Migration = {
			version: migrations.length + 1,
			name: 'broken',
			sql: 'CREATE TABLE half_done (id INTEGER); INSERT INTO no_such_table VALUES (1);'
		};
		expect(() => openStore(folder.path, [...migrations, broken])).toThrow(/no_such_table/);
		const store = openStore(folder.path);
		expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length);
		expect(
			store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()
		).toBeUndefined();
		store.close();
	});

	it('applies only the migrations it has not seen', () => {
		openStore(folder.path).close();
		const next: Migration = {
			version: migrations.length + 1,
			name: 'notes',
			sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT;'
		};
		const store = openStore(folder.path, [...migrations, next]);
		expect(store.db.pragma('user_version', { simple: true })).toBe(next.version);
		store.db.prepare('INSERT INTO notes (body) VALUES (?)').run('kept');
		store.close();
		const again = openStore(folder.path, [...migrations, next]);
		expect(again.db.prepare('SELECT count(*) AS n FROM notes').get()).toEqual({ n: 1 });
		again.close();
	});

	it('refuses migrations that are not numbered 1, 2, 3, …', () => {
		const gap: Migration = { version: migrations.length + 2, name: 'gap', sql: '' };
		expect(() => openStore(folder.path, [...migrations, gap])).toThrow(
			`expected ${migrations.length + 1}`
		);
	});

	it('falls back to the default for a stored setting that no longer validates', () => {
		const store = openStore(folder.path);
		store.db.prepare("INSERT INTO settings (key, value) VALUES ('backend', '\"quantum\"')").run();
		expect(readSettings(store.db)).toEqual({ backend: 'auto', replicas: null, allowedFolders: [] });
		store.close();
	});
});
