import os from 'node:os';
import type { DatabaseStatus, DoctorReport } from '../../core/api/contract';
import type { Result } from '../../core/api/errors';
import { selectBackend, type BackendPreference } from '../../core/compute/backends';
import { appInfo, nodeVersionSatisfies } from '../app-info';
import type { ProbeOutcome } from '../compute/backend-monitor';
import { describeOwner, type FolderOwner } from '../data-folder-lock';
import type { DataDir } from '../paths';
import { databaseFileName, latestSchemaVersion, type Store } from '../store/database';
import path from 'node:path';

/**
 * The database section of the doctor report: its schema and journal, whether SQLite finds it
 * intact (`PRAGMA quick_check`), and which process owns the data folder.
 */
export function describeDatabase(
	dataDir: DataDir,
	store: Result<Store>,
	owner: FolderOwner | null = null
): DatabaseStatus {
	const latest = latestSchemaVersion();
	const file = path.join(dataDir.path, databaseFileName);
	const ownedBy = owner ? `; in use by ${describeOwner(owner)}` : '';
	if (!store.ok) {
		// A read-only look at a folder where NoiseLab never ran: nothing is wrong yet.
		const notYet = store.error.code === 'NOT_FOUND';
		return {
			path: file,
			status: notYet ? 'ok' : 'error',
			schemaVersion: null,
			latestSchemaVersion: latest,
			journalMode: null,
			message: notYet
				? `not created yet (NoiseLab creates it when it first starts here)`
				: store.error.message
		};
	}
	const { db } = store.value;
	try {
		const version = db.pragma('user_version', { simple: true }) as number;
		const journalMode = db.pragma('journal_mode', { simple: true }) as string;
		const problems = (db.pragma('quick_check') as { quick_check: string }[])
			.map((row) => row.quick_check)
			.filter((line) => line !== 'ok');
		if (problems.length > 0) {
			return {
				path: store.value.path,
				status: 'error',
				schemaVersion: version,
				latestSchemaVersion: latest,
				journalMode,
				message: damaged(store.value.path, problems.slice(0, 3).join('; '))
			};
		}
		return {
			path: store.value.path,
			status: 'ok',
			schemaVersion: version,
			latestSchemaVersion: latest,
			journalMode,
			message: `schema ${version} of ${latest}, ${journalMode.toUpperCase()} journal, integrity ok${ownedBy}`
		};
	} catch (error) {
		// A damaged file often fails the check itself (SQLITE_CORRUPT, "file is not a database").
		return {
			path: store.value.path,
			status: 'error',
			schemaVersion: null,
			latestSchemaVersion: latest,
			journalMode: null,
			message: damaged(store.value.path, (error as Error).message)
		};
	}
}

function damaged(file: string, finding: string): string {
	return `The database ${file} is damaged (SQLite's quick_check: ${finding}). Stop NoiseLab, keep a copy of the file, and restore it from a backup, or move it aside to start afresh (run folders under runs/ keep their checkpoints).`;
}

/** Everything the doctor report needs that the caller already holds. */
export interface DoctorInputs {
	dataDir: DataDir;
	store: Result<Store>;
	/** The process that owns the data folder, if one does. */
	owner: FolderOwner | null;
	probe: ProbeOutcome;
	preference: BackendPreference;
	electronVersion: string | null;
	now: Date;
}

/** Assembles the doctor report. Pure apart from reading the OS and the database pragmas. */
export function buildDoctorReport(inputs: DoctorInputs): DoctorReport {
	const { probe } = inputs;
	return {
		app: { name: appInfo.name, version: appInfo.version },
		runtime: {
			node: process.versions.node,
			nodeRequired: appInfo.nodeRequired,
			nodeOk: nodeVersionSatisfies(process.versions.node),
			electron: inputs.electronVersion,
			platform: process.platform,
			arch: process.arch,
			cpus: os.availableParallelism(),
			memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10
		},
		dataDir: inputs.dataDir,
		database: describeDatabase(inputs.dataDir, inputs.store, inputs.owner),
		workers: probe.workerError
			? { ok: false, detail: probe.workerError.message }
			: { ok: true, detail: 'a worker process started, answered and stopped' },
		backends: probe.probes,
		selection: selectBackend(inputs.preference, probe.probes),
		generatedAt: inputs.now.toISOString()
	};
}

/** Problems that make the installation unusable; `noiselab doctor` exits non-zero on any. */
export function doctorProblems(report: DoctorReport): string[] {
	const problems: string[] = [];
	if (!report.runtime.nodeOk) {
		problems.push(
			`Node ${report.runtime.node} is too old: NoiseLab needs ${report.runtime.nodeRequired}.`
		);
	}
	if (report.database.status === 'error') problems.push(report.database.message);
	if (!report.workers.ok) problems.push(report.workers.detail);
	if (report.selection.active === null) problems.push(report.selection.reason);
	return problems;
}
