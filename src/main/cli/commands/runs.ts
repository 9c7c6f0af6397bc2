import fs from 'node:fs';
import path from 'node:path';
import { describeAdapter } from '../../../core/compute/backends';
import { formatDuration } from '../../../core/format';
import { engineLabel } from '../../../core/training/parallelism';
import { configDiff } from '../../../core/history/config-diff';
import { runsToCsv, runsToLatex } from '../../../core/history/export';
import { accuracyColumns, accuracyTitle, buildRows, modelLabel } from '../../../core/history/table';
import { describeArchitecture } from '../../../core/encoders/architecture';
import { listEvaluations } from '../../store/evaluations';
import { readRunBundle } from '../../training/bundle-reader';
import { exportRunBundle, importRunBundle } from '../../training/run-bundle';
import type { RunDetail, RunRecord } from '../../../core/api/training';
import { AppFailure } from '../../../core/api/errors';
import { lockDataFolder, type DataFolderLock } from '../../data-folder-lock';
import { openStore, openStoreReadOnly } from '../../store/database';
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
		modelLabel(run),
		run.kind,
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
		'kind',
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
		`  model       ${run.imported ? describeArchitecture(run.imported.architecture) : run.config.model} (${run.parameterCount?.toLocaleString('en-US') ?? '?'} parameters)`,
		...(run.imported
			? [
					`  imported    ${run.imported.fileName} (${run.imported.format}), SHA-256 ${run.imported.sha256}`,
					`  from        ${run.imported.sourceName || '–'}; licence ${run.imported.licence || '–'}`,
					...run.imported.notes.map((note) => `              ${note}`)
				]
			: []),
		`  progress    step ${run.step}/${run.steps}, ${formatDuration(run.trainSeconds)} of training on ${run.backend ? engineLabel(run.backend, run.config.replicas) : '–'}${run.adapter ? ` (${describeAdapter(run.adapter)})` : ''}`,
		`  optimiser   ${run.config.optimizer}, batch ${run.config.batch}, lr ${run.config.lr ?? 'paper rule'}, BN ${run.config.bnPerView ? 'per view' : 'shared'}`,
		last
			? `  last step   loss ${last.loss.toFixed(4)}, align ${last.align.toFixed(4)}, uniform ${last.uniform.toFixed(4)}, lr ${last.lr.toPrecision(3)}, ${last.imagesPerSecond.toFixed(0)} img/s`
			: '  last step   –',
		`  skipped     ${run.skippedImages} unreadable images`,
		`  checkpoints ${checkpoints.length === 0 ? '–' : checkpoints.map((c) => `${c.step} (${(c.bytes / 2 ** 20).toFixed(1)} MiB) ${c.path}`).join('\n              ')}`,
		`  created     ${run.createdAt} with NoiseLab ${run.appVersion}`
	].join('\n');
}

/** Two or more runs side by side: what differs in their configs, their losses and accuracies. */
function comparison(
	runs: readonly RunRecord[],
	evaluations: ReturnType<typeof listEvaluations>
): string {
	const rows = buildRows(runs, evaluations);
	const columns = accuracyColumns(evaluations).filter((column) =>
		rows.some((row) => row.accuracies[column.key] !== undefined)
	);
	const header = ['', ...runs.map((run) => `${run.id} ${run.name}`)];
	const lines: string[][] = [
		['status', ...runs.map((run) => run.status)],
		['source', ...runs.map((run) => run.sourceLabel)],
		['step', ...runs.map((run) => `${run.step}/${run.steps}`)],
		['final loss', ...runs.map((run) => (run.lastLoss === null ? '–' : run.lastLoss.toFixed(4)))],
		...configDiff(runs.map((run) => run.config)).map((entry) => [
			entry.path,
			...entry.values.map((value) => value ?? '–')
		]),
		...columns.map((column) => [
			accuracyTitle(column),
			...rows.map((row) => {
				const value = row.accuracies[column.key];
				return value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;
			})
		])
	];
	const widths = header.map((_, column) =>
		Math.max(...[header, ...lines].map((line) => (line[column] ?? '').length))
	);
	const format = (line: readonly string[]) =>
		line
			.map((cell, column) => cell.padEnd(widths[column] ?? 0))
			.join('  ')
			.trimEnd();
	return [format(header), ...lines.map(format)].join('\n');
}

/** `noiselab runs list|show|compare|export`: the training history, read from the app's database. */
export const runsCommand: CliCommand = {
	name: 'runs',
	summary: 'List, show, compare or export training runs (with --json for scripts).',
	usage:
		'list [--json]\n       noiselab runs show ID [--json]\n       noiselab runs compare ID ID ...\n       noiselab runs export [--format csv|latex] [--out FILE]\n       noiselab runs bundle ID --out FILE.nlrun [--overwrite]\n       noiselab runs import FILE.nlrun',
	flagHelp: {
		json: 'machine-readable output',
		format: 'export format: csv (default) or latex (a booktabs tabular)',
		out: 'export into this file instead of printing it',
		overwrite:
			'bundle: replace an existing bundle at --out (default: write beside it as "name (2)")'
	},
	options: {
		json: { type: 'boolean', default: false },
		format: { type: 'string', default: 'csv' },
		out: { type: 'string' },
		overwrite: { type: 'boolean', default: false }
	},
	positionals: true,
	async run(args, env) {
		const [action = 'list', ...ids] = args.positionals;
		const usage = () => {
			env.stderr(
				'Usage: noiselab runs list [--json] | show ID [--json] | compare ID ID ... | export [--format csv|latex] [--out FILE] | bundle ID --out FILE | import FILE'
			);
			return 2;
		};
		if (
			!['list', 'show', 'compare', 'export', 'bundle', 'import'].includes(action) ||
			((action === 'bundle' || action === 'import') && ids.length !== 1) ||
			(action === 'bundle' && args.values.out === undefined) ||
			(action === 'show' && ids.length !== 1) ||
			(action === 'compare' && ids.length < 2) ||
			((action === 'list' || action === 'export') && ids.length > 0)
		) {
			return usage();
		}
		const badId = (action === 'import' ? [] : ids).find((id) => !/^[1-9]\d*$/.test(id));
		if (badId !== undefined) {
			env.stderr(
				`noiselab runs ${action} takes run ids (see noiselab runs list); got ${JSON.stringify(badId)}.`
			);
			return 2;
		}
		const format = String(args.values.format);
		if (format !== 'csv' && format !== 'latex') {
			env.stderr(`--format must be csv or latex; got ${JSON.stringify(format)}.`);
			return 2;
		}
		const id = ids[0];
		const dataDir = resolveDataDir().path;
		// Only `import` changes the data folder: it takes the folder's lock. The rest read it
		// read-only, so they work beside a running app and never disturb it.
		let lock: DataFolderLock | null = null;
		let store;
		try {
			if (action === 'import') {
				lock = lockDataFolder(dataDir, `noiselab runs import ${String(id)}`);
				store = openStore(dataDir);
			} else store = openStoreReadOnly(dataDir);
		} catch (error) {
			lock?.release();
			const nothingYet = error instanceof AppFailure && error.code === 'NOT_FOUND';
			if (nothingYet && action === 'list') {
				env.stdout(args.values.json ? '[]' : table([]));
				return 0;
			}
			env.stderr((error as Error).message);
			return 1;
		}
		try {
			if (action === 'list') {
				const runs = listRuns(store.db).map(publicRecord);
				env.stdout(args.values.json ? JSON.stringify(runs, null, '\t') : table(runs));
				return 0;
			}
			if (action === 'bundle') {
				const written = exportRunBundle(
					store.db,
					Number(id),
					String(args.values.out),
					args.values.overwrite === true
				);
				env.stderr(
					`Wrote run ${id} to ${written.path} (${(written.bytes / 2 ** 20).toFixed(1)} MiB).`
				);
				return 0;
			}
			if (action === 'import') {
				const file = path.resolve(String(id));
				// Read and checked in full (streamed, within limits) before anything is written.
				const bundle = await readRunBundle(file);
				const imported = importRunBundle(store.db, bundle, path.join(dataDir, 'runs'), file);
				env.stderr(`Imported run ${imported.id} "${imported.name}" (${imported.status}).`);
				if (args.values.json) env.stdout(JSON.stringify(imported, null, '\t'));
				return 0;
			}
			if (action === 'export') {
				const runs = listRuns(store.db).map(publicRecord);
				const evaluations = listEvaluations(store.db);
				const rows = buildRows(runs, evaluations);
				const columns = accuracyColumns(evaluations);
				const text =
					format === 'csv' ? runsToCsv(rows, columns, evaluations) : runsToLatex(rows, columns);
				if (args.values.out === undefined) env.stdout(text);
				else {
					const target = path.resolve(String(args.values.out));
					fs.writeFileSync(target, text);
					env.stderr(`Wrote ${runs.length} runs to ${target}.`);
				}
				return 0;
			}
			if (action === 'compare') {
				const runs = [];
				for (const wanted of ids) {
					const found = getRun(store.db, Number(wanted));
					if (!found) {
						env.stderr(`There is no run ${wanted}. See \`noiselab runs list\`.`);
						return 1;
					}
					runs.push(publicRecord(found));
				}
				const evaluations = listEvaluations(store.db);
				env.stdout(
					args.values.json
						? JSON.stringify(
								{ runs, differences: configDiff(runs.map((run) => run.config)) },
								null,
								'\t'
							)
						: comparison(runs, evaluations)
				);
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
		} catch (error) {
			env.stderr((error as Error).message);
			return 1;
		} finally {
			store.close();
			lock?.release();
		}
	}
};
