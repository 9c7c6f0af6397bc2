import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppFailure } from '../../core/api/errors';
import { appInfo } from '../app-info';
import { migrations as knownMigrations, type Migration } from './migrations/index';

/** The database file's name inside the data folder. */
export const databaseFileName = 'noiselab.sqlite';

/** An open store. Only the main/server process holds one: it is the single writer. */
export interface Store {
	readonly db: Database.Database;
	readonly path: string;
	readonly schemaVersion: number;
	close(): void;
}

/**
 * Opens (creating if needed) the SQLite store in `dataDir`, in WAL mode, and runs the
 * migrations it has not seen, each in its own transaction. A database written by a newer
 * NoiseLab is refused untouched with STORE_SCHEMA_TOO_NEW.
 */
export function openStore(
	dataDir: string,
	migrations: readonly Migration[] = knownMigrations
): Store {
	assertConsecutive(migrations);
	const latest = migrations.at(-1)?.version ?? 0;
	const file = path.join(dataDir, databaseFileName);
	let db: Database.Database;
	try {
		fs.mkdirSync(dataDir, { recursive: true });
		db = new Database(file);
	} catch (error) {
		throw new AppFailure(
			'STORE_UNAVAILABLE',
			`Cannot open the database ${file}: ${(error as Error).message}. Check that the folder is writable, or set NOISELAB_HOME to another folder.`
		);
	}
	try {
		// Read the version before anything writes to the file.
		const found = db.pragma('user_version', { simple: true }) as number;
		if (found > latest) {
			throw new AppFailure(
				'STORE_SCHEMA_TOO_NEW',
				`The database ${file} has schema version ${found}, but NoiseLab ${appInfo.version} knows versions up to ${latest}: a newer NoiseLab wrote it. It was left unchanged. Update NoiseLab, or set NOISELAB_HOME to another folder.`
			);
		}
		db.pragma('journal_mode = WAL');
		db.pragma('foreign_keys = ON');
		db.pragma('busy_timeout = 5000');
		for (const migration of migrations) {
			if (migration.version <= found) continue;
			db.transaction(() => {
				db.exec(migration.sql);
				db.pragma(`user_version = ${migration.version}`);
			})();
		}
	} catch (error) {
		db.close();
		if (error instanceof AppFailure) throw error;
		throw new AppFailure(
			'STORE_UNAVAILABLE',
			`Cannot prepare the database ${file}: ${(error as Error).message}.`
		);
	}
	return { db, path: file, schemaVersion: latest, close: () => db.close() };
}

/**
 * Opens the store without changing anything, for commands that only read (`doctor`, `runs
 * list`, `explain`) beside a running app: no migration, no pragma that writes, and the file
 * opened read-only, so even a bug cannot write. A missing database is NOT_FOUND; one that needs
 * a migration first is STORE_UNAVAILABLE (the next writing start migrates it).
 */
export function openStoreReadOnly(
	dataDir: string,
	migrations: readonly Migration[] = knownMigrations
): Store {
	const latest = migrations.at(-1)?.version ?? 0;
	const file = path.join(dataDir, databaseFileName);
	if (!fs.existsSync(file)) {
		throw new AppFailure(
			'NOT_FOUND',
			`There is no database in ${dataDir} yet: NoiseLab creates it when it first starts there.`
		);
	}
	let db: Database.Database;
	try {
		db = new Database(file, { readonly: true, fileMustExist: true });
	} catch (error) {
		throw new AppFailure(
			'STORE_UNAVAILABLE',
			`Cannot open the database ${file}: ${(error as Error).message}.`
		);
	}
	try {
		db.pragma('busy_timeout = 5000');
		const found = db.pragma('user_version', { simple: true }) as number;
		if (found > latest) {
			throw new AppFailure(
				'STORE_SCHEMA_TOO_NEW',
				`The database ${file} has schema version ${found}, but NoiseLab ${appInfo.version} knows versions up to ${latest}: a newer NoiseLab wrote it. Update NoiseLab, or set NOISELAB_HOME to another folder.`
			);
		}
		if (found < latest) {
			throw new AppFailure(
				'STORE_UNAVAILABLE',
				`The database ${file} has schema version ${found}; this NoiseLab reads version ${latest}. Start NoiseLab (the app, \`noiselab serve\` or \`noiselab train\`) once to upgrade it.`
			);
		}
	} catch (error) {
		db.close();
		if (error instanceof AppFailure) throw error;
		throw new AppFailure(
			'STORE_UNAVAILABLE',
			`Cannot read the database ${file}: ${(error as Error).message}.`
		);
	}
	return { db, path: file, schemaVersion: latest, close: () => db.close() };
}

/** The newest schema version this build knows. */
export function latestSchemaVersion(migrations: readonly Migration[] = knownMigrations): number {
	return migrations.at(-1)?.version ?? 0;
}

function assertConsecutive(migrations: readonly Migration[]): void {
	migrations.forEach((migration, index) => {
		if (migration.version !== index + 1) {
			throw new Error(
				`Migration ${migration.name} has version ${migration.version}; expected ${index + 1}. Migrations must be numbered 1, 2, 3, … in order.`
			);
		}
	});
}
