import os from 'node:os';
import type { DatabaseStatus, DoctorReport } from '../../core/api/contract';
import type { Result } from '../../core/api/errors';
import { selectBackend, type BackendPreference } from '../../core/compute/backends';
import { appInfo, nodeVersionSatisfies } from '../app-info';
import type { ProbeOutcome } from '../compute/backend-monitor';
import type { DataDir } from '../paths';
import { databaseFileName, latestSchemaVersion, type Store } from '../store/database';
import path from 'node:path';

/** The database section of the doctor report. */
export function describeDatabase(dataDir: DataDir, store: Result<Store>): DatabaseStatus {
	const latest = latestSchemaVersion();
	if (!store.ok) {
		return {
			path: path.join(dataDir.path, databaseFileName),
			status: 'error',
			schemaVersion: null,
			latestSchemaVersion: latest,
			journalMode: null,
			message: store.error.message
		};
	}
	const { db } = store.value;
	const version = db.pragma('user_version', { simple: true }) as number;
	const journalMode = db.pragma('journal_mode', { simple: true }) as string;
	return {
		path: store.value.path,
		status: 'ok',
		schemaVersion: version,
		latestSchemaVersion: latest,
		journalMode,
		message: `schema ${version} of ${latest}, ${journalMode.toUpperCase()} journal`
	};
}

/** Everything the doctor report needs that the caller already holds. */
export interface DoctorInputs {
	dataDir: DataDir;
	store: Result<Store>;
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
		database: describeDatabase(inputs.dataDir, inputs.store),
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
