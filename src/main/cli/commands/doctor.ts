import type { DoctorReport } from '../../../core/api/contract';
import { unwrap } from '../../../core/api/errors';
import { adapterFacts, backendIds, describeAdapter } from '../../../core/compute/backends';
import { doctorProblems } from '../../services/system';
import { cliAppContext, type CliCommand } from '../command';

const sourceNames = {
	'electron-userData': 'Electron userData',
	NOISELAB_HOME: 'from $NOISELAB_HOME',
	platform: 'platform default; set NOISELAB_HOME to move it'
} as const;

/** Renders the report as the terminal shows it. */
export function formatDoctorReport(report: DoctorReport): string {
	const mark = (good: boolean) => (good ? '✓' : '✗');
	const row = (good: boolean, label: string, detail: string) =>
		`  ${mark(good)} ${label.padEnd(15)} ${detail}`;
	const { runtime, database } = report;
	const lines = [
		`${report.app.name} ${report.app.version} — doctor`,
		'',
		row(
			runtime.nodeOk,
			'Node',
			`${runtime.node} (needs ${runtime.nodeRequired})${runtime.electron ? `, Electron ${runtime.electron}` : ''}`
		),
		row(
			true,
			'Machine',
			`${runtime.platform} ${runtime.arch}, ${runtime.cpus} cores, ${runtime.memoryGiB} GiB`
		),
		row(true, 'Data folder', `${report.dataDir.path} (${sourceNames[report.dataDir.source]})`),
		row(
			database.status === 'ok',
			'Database',
			database.status === 'ok' ? `${database.path}: ${database.message}` : database.message
		),
		row(report.workers.ok, 'Workers', report.workers.detail),
		'',
		'  Compute backends (best first)'
	];
	for (const id of backendIds) {
		const probe = report.backends.find((candidate) => candidate.id === id);
		if (!probe) continue;
		const extra = probe.available ? ` — ${probe.version ?? '?'}, ${probe.probeMs} ms` : '';
		lines.push(row(probe.available, id, `${probe.detail}${extra}`));
		if (probe.adapter) {
			lines.push(`    ${' '.repeat(15)} adapter: ${describeAdapter(probe.adapter)}`);
			lines.push(`    ${' '.repeat(15)} ${adapterFacts(probe.adapter)}`);
		}
	}
	lines.push(
		'',
		`  Active backend: ${report.selection.active ?? 'none'} — ${report.selection.reason}`
	);
	return lines.join('\n');
}

/** `noiselab doctor`: a truthful health report; exits 1 when the app could not work. */
export const doctorCommand: CliCommand = {
	name: 'doctor',
	summary: 'Check Node, the data folder, the database, worker processes and every compute backend.',
	usage: '[--json]',
	flagHelp: { json: 'print the report as JSON' },
	options: { json: { type: 'boolean', default: false } },
	async run(args, env) {
		// Read-only: beside a running app it must not change anything (a run it trains stays running).
		const context = cliAppContext(env, 'read-only');
		try {
			const report = unwrap(await context.dispatch('system.doctor', {})) as DoctorReport;
			env.stdout(args.values.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report));
			const problems = doctorProblems(report);
			if (problems.length > 0 && !args.values.json) {
				env.stderr(
					`\nNoiseLab cannot work here yet:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`
				);
			}
			return problems.length > 0 ? 1 : 0;
		} finally {
			context.close();
		}
	}
};
