import { formatDuration } from '../../../core/format';
import type { RunDetail, RunRecord } from '../../../core/api/training';
import { openStore } from '../../store/database';
import { getRun, listCheckpoints, listMetrics, listRuns, publicRecord } from '../../store/runs';
import { resolveDataDir } from '../../paths';
import type { CliCommand } from '../command';

function table(runs: readonly RunRecord[]): string {
	if (runs.length === 0) return 'No runs yet. Start one with `noiselab train` or in the app.';
	const rows = runs.map((run) => [
		String(run.id),
		run.name,
		run.status,
		`${run.step}/${run.steps}`,
		run.config.model,
		run.sourceLabel,
		run.lastLoss === null ? '–' : run.lastLoss.toFixed(4),
		run.backend ?? '–',
		formatDuration(run.trainSeconds),
		run.createdAt.slice(0, 16).replace('T', ' ')
	]);
	const header = [
		'id',
		'name',
		'status',
		'step',
		'model',
		'source',
		'loss',
		'backend',
		'time',
		'created'
	];
	const widths = header.map((title, column) =>
		Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length))
	);
	const line = (cells: string[]) =>
		cells
			.map((cell, i) => cell.padEnd(widths[i] ?? 0))
			.join('  ')
			.trimEnd();
	return [line(header), ...rows.map(line)].join('\n');
}

function details(detail: RunDetail): string {
	const { run, metrics, checkpoints } = detail;
	const last = metrics.at(-1);
	return [
		`Run ${run.id} "${run.name}" — ${run.status}${run.error ? `: ${run.error}` : ''}`,
		`  source      ${run.sourceLabel}`,
		`  model       ${run.config.model} (${run.parameterCount?.toLocaleString('en-US') ?? '?'} parameters)`,
		`  progress    step ${run.step}/${run.steps}, ${formatDuration(run.trainSeconds)} of training on ${run.backend ?? '–'}`,
		`  optimiser   ${run.config.optimizer}, batch ${run.config.batch}, lr ${run.config.lr ?? 'paper rule'}, BN ${run.config.bnPerView ? 'per view' : 'shared'}`,
		last
			? `  last step   loss ${last.loss.toFixed(4)}, align ${last.align.toFixed(4)}, uniform ${last.uniform.toFixed(4)}, lr ${last.lr.toPrecision(3)}, ${last.imagesPerSecond.toFixed(0)} img/s`
			: '  last step   –',
		`  skipped     ${run.skippedImages} unreadable images`,
		`  checkpoints ${checkpoints.length === 0 ? '–' : checkpoints.map((c) => `${c.step} (${(c.bytes / 2 ** 20).toFixed(1)} MiB) ${c.path}`).join('\n              ')}`,
		`  created     ${run.createdAt} with NoiseLab ${run.appVersion}`
	].join('\n');
}

/** `noiselab runs list|show`: the training history, read from the app's database. */
export const runsCommand: CliCommand = {
	name: 'runs',
	summary: 'List training runs, or show one (with --json for scripts).',
	usage: 'list [--json]\n       noiselab runs show ID [--json]',
	flagHelp: { json: 'machine-readable output' },
	options: { json: { type: 'boolean', default: false } },
	positionals: true,
	async run(args, env) {
		const [action = 'list', id, ...extra] = args.positionals;
		if (
			extra.length > 0 ||
			!['list', 'show'].includes(action) ||
			(action === 'show' && id === undefined)
		) {
			env.stderr('Usage: noiselab runs list [--json] | noiselab runs show ID [--json]');
			return 2;
		}
		let store;
		try {
			store = openStore(resolveDataDir().path);
		} catch (error) {
			env.stderr((error as Error).message);
			return 1;
		}
		try {
			if (action === 'list') {
				const runs = listRuns(store.db).map(publicRecord);
				env.stdout(args.values.json ? JSON.stringify(runs, null, '\t') : table(runs));
				return 0;
			}
			const run = getRun(store.db, Number(id));
			if (!run) {
				env.stderr(`There is no run ${id}. See \`noiselab runs list\`.`);
				return 1;
			}
			const detail: RunDetail = {
				run: publicRecord(run),
				metrics: listMetrics(store.db, run.id),
				checkpoints: listCheckpoints(store.db, run.id)
			};
			env.stdout(args.values.json ? JSON.stringify(detail, null, '\t') : details(detail));
			return 0;
		} finally {
			store.close();
		}
	}
};
