/**
 * One owner per data folder: the process that may change it (the desktop app, `noiselab serve`,
 * `train`, `eval`, …) holds an exclusive lock on it for as long as it runs. A second owner is
 * refused with a message naming the holder; read-only commands take no lock.
 *
 * The lock is an operating-system lock, not the existence of a file: an exclusive SQLite
 * transaction held open on `noiselab.lock` (POSIX `fcntl` locks, `LockFileEx` on Windows). The
 * kernel releases it when the holder exits however it exits — SIGKILL, a crash, a power cut —
 * so a stale lock cannot exist, and a reused PID cannot be mistaken for the holder: a process
 * that died holds nothing. Who holds it is written beside it in `noiselab.owner.json` (PID,
 * start time, host, command), for messages only; a file left there by a crash is overwritten by
 * the next owner.
 *
 * POSIX drops every lock a process holds on a file when the process closes *any* descriptor of
 * it, so nothing in the owner may open `noiselab.lock` other than through this connection.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppFailure } from '../core/api/errors';
import { writeFileDurably } from './durable-file';

/** The lock file in the data folder. */
export const lockFileName = 'noiselab.lock';
/** Who holds the lock, beside it. */
export const ownerFileName = 'noiselab.owner.json';

/** The process that holds a data folder's lock, as it described itself. */
export interface FolderOwner {
	pid: number;
	hostname: string;
	/** What it runs, e.g. "noiselab serve --port 5177" or "the NoiseLab app". */
	command: string;
	/** When it took the lock (ISO 8601). */
	startedAt: string;
}

/** A held lock; `release` gives the folder up (the process's exit does too). */
export interface DataFolderLock {
	readonly owner: FolderOwner;
	release(): void;
}

/**
 * Takes the data folder's lock for this process. Throws AppFailure DATA_FOLDER_BUSY, naming the
 * holder and how to stop it, when another process holds it, and STORE_UNAVAILABLE when the
 * folder cannot hold a lock file at all (missing permissions, a read-only disk).
 */
export function lockDataFolder(dataDir: string, command: string): DataFolderLock {
	const file = path.join(dataDir, lockFileName);
	let connection: Database.Database | undefined;
	try {
		fs.mkdirSync(dataDir, { recursive: true });
		// timeout 0: a held lock answers SQLITE_BUSY at once instead of after 5 s of waiting.
		connection = new Database(file, { timeout: 0 });
		connection.exec('BEGIN EXCLUSIVE');
	} catch (error) {
		connection?.close();
		if ((error as { code?: string }).code === 'SQLITE_BUSY') throw folderBusy(dataDir);
		throw new AppFailure(
			'STORE_UNAVAILABLE',
			`Cannot lock the data folder ${dataDir}: ${(error as Error).message}. Check that it is writable, or set NOISELAB_HOME to another folder.`
		);
	}
	const held = connection;
	const owner: FolderOwner = {
		pid: process.pid,
		hostname: os.hostname(),
		command,
		startedAt: new Date().toISOString()
	};
	const ownerFile = path.join(dataDir, ownerFileName);
	try {
		writeFileDurably(ownerFile, Buffer.from(`${JSON.stringify(owner, null, '\t')}\n`));
	} catch {
		// Only messages need it: a folder that takes the lock but not this file still works.
	}
	let released = false;
	return {
		owner,
		release() {
			if (released) return;
			released = true;
			// The description goes first: once the lock is free, the next owner writes its own.
			if (readOwner(dataDir)?.pid === process.pid) fs.rmSync(ownerFile, { force: true });
			held.exec('ROLLBACK');
			held.close();
		}
	};
}

/** Who holds the folder's lock now, or null when nobody does (it is free, or never was). */
export function folderOwner(dataDir: string): FolderOwner | null {
	const file = path.join(dataDir, lockFileName);
	if (!fs.existsSync(file)) return null;
	let probe: Database.Database | undefined;
	try {
		probe = new Database(file, { timeout: 0, readonly: true });
		// A shared lock is refused only while an owner holds its exclusive one.
		probe.prepare('SELECT count(*) FROM sqlite_master').get();
		return null;
	} catch (error) {
		if ((error as { code?: string }).code !== 'SQLITE_BUSY') return null;
		return readOwner(dataDir) ?? unknownOwner;
	} finally {
		probe?.close();
	}
}

/** The owner a message names when the holder has not described itself (yet). */
const unknownOwner: FolderOwner = {
	pid: 0,
	hostname: os.hostname(),
	command: 'another NoiseLab process',
	startedAt: ''
};

/** Describes an owner for messages: "`noiselab serve` (PID 1234, since 2025-05-01 14:03)". */
export function describeOwner(owner: FolderOwner): string {
	if (owner.pid === 0) return owner.command;
	const since = owner.startedAt ? `, since ${owner.startedAt.slice(0, 16).replace('T', ' ')}` : '';
	const where = owner.hostname === os.hostname() ? '' : ` on ${owner.hostname}`;
	return `\`${owner.command}\` (PID ${owner.pid}${where}${since})`;
}

function folderBusy(dataDir: string): AppFailure {
	const owner = readOwner(dataDir) ?? unknownOwner;
	const local = owner.hostname === os.hostname();
	const stop =
		owner.pid === 0
			? 'Quit the other NoiseLab app or command'
			: local
				? `Stop it first (Ctrl-C in its terminal, quit the app, or \`kill ${owner.pid}\`)`
				: `Stop it on ${owner.hostname} first`;
	return new AppFailure(
		'DATA_FOLDER_BUSY',
		`The data folder ${dataDir} is in use by ${describeOwner(owner)}: one NoiseLab process changes a data folder at a time. ${stop}, or set NOISELAB_HOME to another folder. \`noiselab doctor\` and \`noiselab runs list\` work beside it.`
	);
}

function readOwner(dataDir: string): FolderOwner | null {
	try {
		const parsed = JSON.parse(
			fs.readFileSync(path.join(dataDir, ownerFileName), 'utf8')
		) as Partial<FolderOwner>;
		if (
			typeof parsed.pid !== 'number' ||
			typeof parsed.hostname !== 'string' ||
			typeof parsed.command !== 'string' ||
			typeof parsed.startedAt !== 'string'
		) {
			return null;
		}
		return {
			pid: parsed.pid,
			hostname: parsed.hostname,
			command: parsed.command,
			startedAt: parsed.startedAt
		};
	} catch {
		return null;
	}
}
