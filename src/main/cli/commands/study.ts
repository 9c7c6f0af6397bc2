import fs from 'node:fs';
import path from 'node:path';
import {
	measureRealismParamsSchema,
	type QueueItem,
	type StudyDetail,
	type StudyEstimate,
	type StudySpecInput,
	type StudyTargetInput
} from '../../../core/api/studies';
import { formatDuration } from '../../../core/format';
import { agreementSentence } from '../../../core/studies/export';
import { paperCitation } from '../../../core/studies/paper-reference';
import {
	budgetPresets,
	findBudget,
	findTemplate,
	presetSource,
	specFromTemplate,
	studyTemplates
} from '../../../core/studies/templates';
import { modelPresetIds, type TrainConfig } from '../../../core/training/config';
import type { AppContext } from '../../app-context';
import { cliAppContext, type CliArgs, type CliCommand, type CliEnvironment } from '../command';

const usage = [
	'create (--template paper-small [--only PRESET,…] | --sources PRESET,PRESET,…) [--budget sketch|overnight|paper]',
	'       [--model M] [--steps N] [--batch B] [--optimizer sgd|adam] [--images N] [--repeats R]',
	'       [--eval DATASET,DATASET] [--protocol linear|knn] [--layer L] [--epochs E] [--views V] [--max-train N] [--name NAME]',
	'       noiselab study run ID',
	'       noiselab study show ID [--json]',
	'       noiselab study realism ID [--samples N] [--k K]',
	'       noiselab study export ID --format csv|latex|svg|json|bundle [--out PATH] [--target KEY]',
	'       noiselab study list'
].join('\n');

/** `noiselab study`: the paper's comparison of noise models as one action. */
export const studyCommand: CliCommand = {
	name: 'study',
	summary:
		'Studies: train every source with one budget and several seeds, evaluate them, and rank them against the paper.',
	usage,
	positionals: true,
	flagHelp: {
		template: `study template: ${studyTemplates.map((template) => template.id).join(', ')}`,
		only: 'with --template: only these of its sources (comma-separated presets)',
		sources: 'instead of a template: these presets (comma-separated)',
		budget: `named budget: ${budgetPresets.map((budget) => budget.id).join(', ')} (default sketch)`,
		model: `encoder preset: ${modelPresetIds.join(', ')} (overrides the budget)`,
		steps: 'optimiser steps per run (overrides the budget)',
		batch: 'pairs per step (overrides the budget)',
		optimizer: 'sgd or adam (overrides the budget)',
		images: 'distinct images per source (overrides the budget)',
		repeats: 'training seeds per source (default 1)',
		eval: 'evaluation datasets, comma-separated (default: the template’s, else fashion-mnist-mini)',
		protocol: 'linear (default) or knn, for every target',
		layer: 'the encoder layer probed, for every target (default fc6)',
		epochs: 'linear-probe epochs (overrides the budget)',
		views: 'augmented views per training image for the probe (overrides the budget)',
		'max-train': 'at most this many probe training images, stratified (default: all)',
		name: 'study name',
		format: 'export: csv, latex, svg (the figure), json, or bundle (a folder)',
		out: 'export: the file (or bundle folder) to write; default stdout (bundle: required)',
		target: 'export svg: the target shown (a column key, e.g. fashion-mnist-mini|linear|fc6)',
		samples: 'realism: images per side (default 500)',
		k: 'realism: neighbourhood size of the k-NN manifolds (default 3)',
		json: 'print JSON on stdout'
	},
	options: {
		template: { type: 'string' },
		only: { type: 'string' },
		sources: { type: 'string' },
		budget: { type: 'string' },
		model: { type: 'string' },
		steps: { type: 'string' },
		batch: { type: 'string' },
		optimizer: { type: 'string' },
		images: { type: 'string' },
		repeats: { type: 'string' },
		eval: { type: 'string' },
		protocol: { type: 'string' },
		layer: { type: 'string' },
		epochs: { type: 'string' },
		views: { type: 'string' },
		'max-train': { type: 'string' },
		name: { type: 'string' },
		format: { type: 'string' },
		out: { type: 'string' },
		target: { type: 'string' },
		samples: { type: 'string' },
		k: { type: 'string' },
		json: { type: 'boolean', default: false }
	},
	async run(args, env) {
		const [action, id] = args.positionals;
		if (action === 'create') return create(args, env);
		if (action === 'list') return withContext(env, (context) => list(context, env), 'read-only');
		if (action === 'run' || action === 'show' || action === 'export' || action === 'realism') {
			const studyId = Number(id);
			if (!Number.isInteger(studyId) || studyId < 1) {
				env.stderr(
					`noiselab study ${action} takes a study id (see noiselab study list); got ${JSON.stringify(id ?? '')}.`
				);
				return 2;
			}
			if (action === 'run') return withContext(env, (context) => run(context, studyId, env));
			if (action === 'realism') {
				return withContext(env, (context) => realism(context, studyId, args, env));
			}
			if (action === 'show') {
				return withContext(
					env,
					async (context) => {
						const detail = context.studies.get(studyId);
						env.stdout(args.values.json ? JSON.stringify(detail, null, '\t') : showStudy(detail));
						return 0;
					},
					'read-only'
				);
			}
			return withContext(env, (context) => exportStudy(context, studyId, args, env), 'read-only');
		}
		env.stderr(`Usage: noiselab study ${usage}`);
		return 2;
	}
};

/** Commands that only read (show, list, export) run beside the app; create and run own the folder. */
async function withContext(
	env: CliEnvironment,
	action: (context: AppContext) => Promise<number>,
	access: 'owner' | 'read-only' = 'owner'
): Promise<number> {
	const context = cliAppContext(env, access);
	try {
		if (!context.store.ok) {
			env.stderr(context.store.error.message);
			return 1;
		}
		return await action(context);
	} catch (error) {
		env.stderr((error as Error).message);
		return 1;
	} finally {
		context.close();
	}
}

/**
 * Builds the spec from flags; returns problems instead when there are any. `unavailable` names
 * presets that cannot generate yet (preset → why): a template's are left out, named ones refused.
 */
export function specFromFlags(
	values: CliArgs['values'],
	unavailable: Readonly<Record<string, string>> = {}
): { spec: StudySpecInput } | { problems: string[] } {
	const problems: string[] = [];
	const text = (name: string) => values[name] as string | undefined;
	const number = (name: string): number | undefined => {
		const value = text(name);
		if (value === undefined) return undefined;
		const parsed = Number(value);
		if (!Number.isInteger(parsed))
			problems.push(`--${name} takes a whole number; got ${JSON.stringify(value)}.`);
		return parsed;
	};
	const list = (name: string) =>
		text(name)
			?.split(',')
			.map((part) => part.trim())
			.filter(Boolean);
	const budgetName = text('budget') ?? 'sketch';
	const budget = findBudget(budgetName);
	if (!budget) {
		problems.push(
			`Unknown budget "${budgetName}". Budgets: ${budgetPresets.map((b) => b.id).join(', ')}.`
		);
	}
	const templateName = text('template');
	const sources = list('sources');
	if ((templateName === undefined) === (sources === undefined)) {
		problems.push('Name the sources: --template paper-small, or --sources PRESET,PRESET,….');
	}
	const template = templateName === undefined ? undefined : findTemplate(templateName);
	if (templateName !== undefined && !template) {
		problems.push(
			`Unknown template "${templateName}". Templates: ${studyTemplates.map((t) => t.id).join(', ')}.`
		);
	}
	const datasets = list('eval');
	for (const preset of sources ?? []) {
		if (Object.hasOwn(unavailable, preset)) {
			problems.push(`${preset} cannot be used yet: ${unavailable[preset]}`);
		}
	}
	if (problems.length > 0 || !budget) return { problems };
	let spec: StudySpecInput;
	try {
		spec = template
			? specFromTemplate(template, budget, {
					...(list('only') ? { only: list('only') } : {}),
					...(datasets ? { datasets } : {}),
					unavailable
				})
			: {
					name: `Study of ${sources?.length ?? 0} sources · ${budget.label.toLowerCase()}`,
					template: null,
					sources: (sources ?? []).map(presetSource),
					budget: budget.budget,
					repeats: 1,
					evaluation: {
						targets: (datasets ?? ['fashion-mnist-mini']).map((dataset) => ({ dataset })),
						...budget.evaluation
					}
				};
	} catch (error) {
		return { problems: [(error as Error).message] };
	}
	const overrides = {
		...(text('model') === undefined ? {} : { model: text('model') }),
		...(text('optimizer') === undefined ? {} : { optimizer: text('optimizer') }),
		...(text('steps') === undefined ? {} : { steps: number('steps') }),
		...(text('batch') === undefined ? {} : { batch: number('batch') }),
		...(text('images') === undefined ? {} : { images: number('images') })
	};
	const customised = Object.keys(overrides).length > 0;
	const targets: StudyTargetInput[] = spec.evaluation.targets.map((target) => ({
		...target,
		...(text('protocol') === undefined ? {} : { protocol: text('protocol') }),
		...(text('layer') === undefined ? {} : { layer: text('layer') })
	})) as StudyTargetInput[];
	spec = {
		...spec,
		// A template's default name carries its budget's; an edited budget is "custom".
		...(customised && text('name') === undefined && template
			? { name: `${template.label} · custom` }
			: {}),
		...(text('name') === undefined ? {} : { name: text('name') }),
		...(text('repeats') === undefined ? {} : { repeats: number('repeats') }),
		budget: {
			...budget.budget,
			...overrides,
			...(customised ? { name: 'custom' } : {})
		} as StudySpecInput['budget'],
		evaluation: {
			...spec.evaluation,
			targets,
			...(text('epochs') === undefined ? {} : { epochs: number('epochs') }),
			...(text('views') === undefined ? {} : { views: number('views') }),
			...(text('max-train') === undefined ? {} : { maxTrain: number('max-train') })
		}
	};
	if (problems.length > 0) return { problems };
	return { spec };
}

async function create(args: CliArgs, env: CliEnvironment): Promise<number> {
	const built = specFromFlags(args.values);
	if ('problems' in built) {
		env.stderr(built.problems.join('\n'));
		return 2;
	}
	return withContext(env, async (context) => {
		// What cannot generate yet is known before anything is measured.
		const presets = new Set([
			...studyTemplates.flatMap((template) => template.sources.map((source) => source.preset)),
			...built.spec.sources.flatMap((source) => (source.kind === 'generator' ? [source.key] : []))
		]);
		const availability = new Map(
			[...presets].map((preset) => [preset, context.studies.availability(preset)])
		);
		const unavailable: Record<string, string> = {};
		for (const [preset, { unavailable: why }] of availability) {
			if (why !== null) unavailable[preset] = why;
		}
		const checked = specFromFlags(args.values, unavailable);
		if ('problems' in checked) {
			env.stderr(checked.problems.join('\n'));
			return 2;
		}
		const spec = checked.spec;
		const leftOut = built.spec.sources.filter(
			(source) => !spec.sources.some((kept) => kept.key === source.key)
		);
		for (const source of leftOut) {
			const training = availability.get(source.key)?.training;
			env.stderr(
				`Left out ${source.key}: ${unavailable[source.key] ?? 'not available'}${training ? ` To include it, train that encoder first (it goes through the work queue): ${trainCommand(training)}; then create the study again.` : ''}`
			);
		}
		env.stderr('Measuring the budget’s training speed and each generator (this takes a minute)…');
		const estimate = await context.studies.estimate(spec, (done, total, message) =>
			env.stderr(`  [${done}/${total}] ${message}`)
		);
		const detail = await context.studies.create(spec, estimate);
		env.stderr(planText(detail.study.id, estimate, detail));
		if (args.values.json) env.stdout(JSON.stringify(detail, null, '\t'));
		else env.stdout(String(detail.study.id));
		return 0;
	});
}

/** The `noiselab train` command line of a suggested training. */
function trainCommand(training: { name: string; config: TrainConfig }): string {
	const { source, model, steps, batch, optimizer } = training.config;
	const preset = source.kind === 'generator' ? source.config.preset : undefined;
	return [
		'noiselab train',
		...(preset ? [`--preset ${preset}`] : []),
		`--model ${model} --optimizer ${optimizer} --steps ${steps} --batch ${batch}`,
		`--name "${training.name}"`
	].join(' ');
}

function planText(id: number, estimate: StudyEstimate, detail: StudyDetail): string {
	const { spec } = detail;
	const lines = [
		`Study ${id} "${spec.name}": ${spec.sources.length} sources × ${spec.repeats} repeat${spec.repeats === 1 ? '' : 's'}, budget ${spec.budget.name} (${spec.budget.model}, ${spec.budget.steps} ${spec.budget.optimizer} steps of ${spec.budget.batch}, ${spec.budget.images.toLocaleString('en-US')} images per source).`,
		`Training: ${estimate.secondsPerStep.toFixed(2)} s/step on ${estimate.backend}, consuming ${estimate.trainingImagesPerSecond.toFixed(0)} img/s.`,
		...estimate.sources.map(
			(source) =>
				`  ${source.label.padEnd(26)} ${source.data.padEnd(6)} ${source.why}${source.generationSeconds > 0 ? ` Generation ${source.slowerThanLimit ? '>' : '≈'} ${formatDuration(source.generationSeconds)}.` : ''}`
		),
		`${estimate.reusedRuns} of ${estimate.trainings} trainings reuse existing runs. ${estimate.evaluationBasis}`,
		`Estimated total: ${formatDuration(estimate.totalSeconds)}. ${detail.items.length} items queued; run them with: noiselab study run ${id}`
	];
	return lines.join('\n');
}

async function list(context: AppContext, env: CliEnvironment): Promise<number> {
	const studies = context.studies.list();
	if (studies.length === 0) {
		env.stdout('No studies yet. Create one with `noiselab study create --template paper-small`.');
		return 0;
	}
	for (const study of studies) {
		const { trainings, evaluations } = study.progress;
		env.stdout(
			`${String(study.id).padStart(3)}  ${study.status.padEnd(10)} ${study.name}  (${study.sources} sources × ${study.repeats}, ${study.budget}; trainings ${trainings.done}/${trainings.total}, evaluations ${evaluations.done}/${evaluations.total})`
		);
	}
	return 0;
}

/** `study realism ID`: measures and stores each source's precision and recall, then shows the table. */
async function realism(
	context: AppContext,
	studyId: number,
	args: CliArgs,
	env: CliEnvironment
): Promise<number> {
	const parsed = measureRealismParamsSchema.safeParse({
		id: studyId,
		...(args.values.samples === undefined ? {} : { samples: Number(args.values.samples) }),
		...(args.values.k === undefined ? {} : { k: Number(args.values.k) })
	});
	if (!parsed.success) {
		env.stderr(
			parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('\n')
		);
		return 2;
	}
	const started = performance.now();
	let last = '';
	const detail = await context.studies.measureRealism(parsed.data, (done, total, message) => {
		const line = `[${done}/${total}] ${message}`;
		if (line !== last) env.stderr(line);
		last = line;
	});
	env.stderr(`Measured in ${formatDuration((performance.now() - started) / 1000)}.`);
	env.stdout(showStudy(detail));
	return 0;
}

/** A queue item as one progress line. */
function itemLine(item: QueueItem, index: number, total: number): string {
	const progress = item.progress
		? ` ${Math.round((100 * item.progress.done) / Math.max(1, item.progress.total))}% ${item.progress.message}`
		: '';
	return `[${index}/${total}] ${item.label}${progress}`.slice(0, 160);
}

async function run(context: AppContext, studyId: number, env: CliEnvironment): Promise<number> {
	const detail = context.studies.get(studyId);
	const runIds = new Set(detail.runs.map((link) => link.runId));
	const inStudy = (item: { studyId: number | null; runId: number | null }) =>
		item.studyId === studyId || (item.runId !== null && runIds.has(item.runId));
	if (context.queue.state().paused) {
		env.stderr('The work queue was paused (Pause all); resuming it.');
		context.queue.setPaused(false);
	}
	const started = performance.now();
	const interactive = process.stderr.isTTY;
	let lastLine = 0;
	let lastItem: number | null = null;
	const show = () => {
		const items = context.queue.state().items.filter(inStudy);
		const done = items.filter((item) => item.state === 'done').length;
		const current = items.find((item) => item.state === 'running');
		if (!current) return;
		const line = itemLine(current, done + 1, items.length);
		if (interactive) process.stderr.write(`\r${line}\u001b[K`);
		else if (current.id !== lastItem || performance.now() - lastLine > 10_000) {
			env.stderr(line);
			lastLine = performance.now();
		}
		lastItem = current.id;
	};
	const unsubscribe = context.events.subscribe((event) => {
		if (event.name === 'queue.changed' || event.name === 'queue.progress') show();
		if (event.name === 'queue.changed' && interactive) {
			for (const item of event.payload.items) {
				if (inStudy(item) && item.state === 'failed' && item.finishedAt !== null) {
					// Failures are listed at the end; the study goes on with the rest.
				}
			}
		}
	});
	let interrupted = false;
	const onInterrupt = () => {
		if (interrupted) process.exit(130);
		interrupted = true;
		env.stderr(
			'\nStopping at a checkpoint… (press Ctrl-C again to quit at once). Continue later with: noiselab study run ' +
				studyId
		);
		void context.queue.stopWorking();
	};
	process.on('SIGINT', onInterrupt);
	try {
		context.queue.work(inStudy);
		show();
		await context.queue.idle();
		await context.queue.stopWorking();
	} finally {
		process.off('SIGINT', onInterrupt);
		unsubscribe();
	}
	if (interactive) process.stderr.write('\n');
	const final = context.studies.get(studyId);
	env.stderr(`Worked ${formatDuration((performance.now() - started) / 1000)}.`);
	env.stdout(showStudy(final));
	if (interrupted) return 130;
	return final.study.status === 'completed' ? 0 : 1;
}

function percent(value: number | null | undefined, digits = 1): string {
	return value === null || value === undefined ? '–' : (value * 100).toFixed(digits);
}

/** The study as text: progress, the results table and the agreement with the paper. */
export function showStudy(detail: StudyDetail): string {
	const { study, spec, results } = detail;
	const header = ['source', 'paper', ...results.targets.map((target) => target.label)];
	const hasGap = results.rows.some((row) => row.kind === 'real');
	if (hasGap) header.push(...results.targets.map((target) => `gap closed (${target.label})`));
	header.push(...results.extraColumns.map((column) => column.label));
	const rows = results.rows.map((row) => [
		`${row.label}${row.paper?.match === 'approximate' ? ' †' : ''}`,
		row.paper ? row.paper.top1.toFixed(1) : '–',
		...results.targets.map((target) => {
			const cell = row.cells[target.key];
			if (!cell || cell.mean === null) return '–';
			return `${percent(cell.mean)} ± ${cell.sd === null ? '–' : percent(cell.sd)} (n=${cell.n})`;
		}),
		...(hasGap
			? results.targets.map(
					(target) =>
						percent(row.cells[target.key]?.gapClosed, 0) +
						(row.cells[target.key]?.gapClosed == null ? '' : '%')
				)
			: []),
		...results.extraColumns.map((column) => column.values[row.key]?.toFixed(2) ?? '–')
	]);
	const widths = header.map((title, column) =>
		Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length))
	);
	const line = (cells: string[]) =>
		cells
			.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
			.join('  ')
			.trimEnd();
	const { trainings, evaluations } = study.progress;
	const failed = detail.items.filter(
		(item) => item.state === 'failed' || item.state === 'cancelled'
	);
	return [
		`Study ${study.id} "${study.name}" — ${study.status}: trainings ${trainings.done}/${trainings.total}, evaluations ${evaluations.done}/${evaluations.total}${study.progress.pending > 0 ? `, ${study.progress.pending} items waiting` : ''}.`,
		`Budget ${spec.budget.name}: ${spec.budget.model}, ${spec.budget.steps} ${spec.budget.optimizer} steps of ${spec.budget.batch} pairs, ${spec.budget.images.toLocaleString('en-US')} images per source; ${spec.repeats} seed${spec.repeats === 1 ? '' : 's'} from ${spec.seed}.`,
		'Linear-probe top-1 (%), mean ± sd over seeds; paper: ImageNet-100 top-1.',
		'',
		line(header),
		...rows.map(line),
		'',
		...results.targets.map(
			(target) => `${target.label}: ${agreementSentence(results, target.key)}.`
		),
		...realismNote(detail),
		`† approximate match of the paper's dataset. Paper: ${paperCitation.short}; ${paperCitation.source}`,
		...(failed.length > 0
			? [
					'',
					'Failed or cancelled:',
					...failed.map(
						(item) =>
							`  #${item.id} ${item.label}: ${item.state}${item.error ? ` — ${item.error}` : ''}`
					)
				]
			: [])
	].join('\n');
}

/** What the realism columns were measured with, when they are shown. */
function realismNote(detail: StudyDetail): string[] {
	const measured = detail.plan.flatMap((source) => (source.realism ? [source.realism] : []));
	const [first] = measured;
	if (!first) return [];
	return [
		`precision (realism) and recall (diversity): improved precision and recall of ${measured.length} source${measured.length === 1 ? '' : 's'}' images against ${first.dataset} (k = ${first.k}, ${first.samples} images per side, ${first.layer} of ${first.encoderLabel}).`
	];
}

async function exportStudy(
	context: AppContext,
	studyId: number,
	args: CliArgs,
	env: CliEnvironment
): Promise<number> {
	const format = args.values.format as string | undefined;
	const out = args.values.out as string | undefined;
	if (format === 'bundle') {
		if (!out) {
			env.stderr('--format bundle needs --out FOLDER.');
			return 2;
		}
		const summary = context.studies.exportBundle(studyId, path.resolve(out));
		env.stderr(
			`Wrote ${summary.runs} run bundle${summary.runs === 1 ? '' : 's'} and study.json to ${summary.path} (${(summary.bytes / 2 ** 20).toFixed(1)} MiB).${summary.skipped.length > 0 ? `\nLeft out: ${summary.skipped.join('; ')}` : ''}`
		);
		return 0;
	}
	if (format !== 'csv' && format !== 'latex' && format !== 'svg' && format !== 'json') {
		env.stderr(
			`--format takes csv, latex, svg, json or bundle; got ${JSON.stringify(format ?? '')}.`
		);
		return 2;
	}
	const file = context.studies.exportText(
		studyId,
		format,
		args.values.target as string | undefined
	);
	if (out) {
		fs.writeFileSync(path.resolve(out), file.content);
		env.stderr(`Wrote ${path.resolve(out)}.`);
	} else {
		process.stdout.write(file.content);
	}
	return 0;
}
