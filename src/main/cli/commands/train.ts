import path from 'node:path';
import { formatDuration } from '../../../core/format';
import type { RunProgress, RunRecord } from '../../../core/api/training';
import { parseParamAssignments } from '../../../core/generators/params';
import { findGenerator, findPreset } from '../../../core/generators/registry';
import {
	maxReplicas,
	modelPresetIds,
	trainConfigSchema,
	type TrainConfig
} from '../../../core/training/config';
import { engineLabel } from '../../../core/training/parallelism';
import { backendPreferences } from '../../../core/compute/backends';
import type { AppContext } from '../../app-context';
import { cliAppContext, type CliArgs, type CliCommand, type CliEnvironment } from '../command';
import { flagProblems, folderProblem } from '../flags';

/** A progress line: bar, step, loss terms, throughput and ETA. */
export function trainProgressLine(progress: RunProgress): string {
	const width = 24;
	const fraction = progress.steps === 0 ? 1 : progress.step / progress.steps;
	const filled = Math.round(fraction * width);
	const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
	const metric = progress.metric;
	const figures = metric
		? `  loss ${metric.loss.toFixed(4)} (align ${metric.align.toFixed(3)}, unif ${metric.uniform.toFixed(3)})  lr ${metric.lr.toPrecision(3)}  ${metric.imagesPerSecond.toFixed(0)} img/s`
		: '';
	const eta = progress.etaSeconds === null ? '' : `  ETA ${formatDuration(progress.etaSeconds)}`;
	return `${bar} ${progress.step}/${progress.steps}  epoch ${progress.epoch.toFixed(2)}${figures}${eta}`;
}

/** Builds a run configuration from flags; returns problems instead when there are any. */
export function configFromFlags(
	values: CliArgs['values']
): { config: unknown } | { problems: string[] } {
	const problems: string[] = [];
	// Not-a-number stays NaN, which the schema refuses against the flag's name.
	const number = (name: string): number | undefined =>
		values[name] === undefined ? undefined : Number(values[name]);
	const preset = values.preset as string | undefined;
	const generator = values.generator as string | undefined;
	const folder = values.folder as string | undefined;
	if ([preset ?? generator, folder].filter(Boolean).length !== 1) {
		problems.push('Name one data source: --preset NAME, --generator ID or --folder DIR.');
	}
	let source: unknown;
	if (folder) {
		const problem = folderProblem('folder', path.resolve(folder));
		if (problem) problems.push(problem);
		source = {
			kind: 'folder',
			path: path.resolve(folder),
			...(values['max-side'] === undefined ? {} : { maxSide: number('max-side') })
		};
	} else {
		const owner = preset
			? findGenerator(findPreset(preset)?.generator ?? '')
			: findGenerator(generator ?? '');
		let params: Record<string, unknown> = {};
		const assignments = (values.param as string[] | undefined) ?? [];
		if (assignments.length > 0 && owner) {
			const parsed = parseParamAssignments(owner.params, assignments);
			if (parsed.ok) params = parsed.value;
			else problems.push(parsed.message);
		}
		source = {
			kind: 'generator',
			config: {
				...(preset === undefined ? {} : { preset }),
				...(generator === undefined ? {} : { generator }),
				params,
				...(values.size === undefined ? {} : { size: number('size') })
			},
			...(values.count === undefined ? {} : { count: number('count') }),
			...(values['data-seed'] === undefined ? {} : { seed: number('data-seed') })
		};
	}
	const optional = (flag: string, key: string, value: unknown) =>
		values[flag] === undefined ? {} : { [key]: value };
	const raw = {
		source,
		steps: number('steps'),
		...optional('model', 'model', values.model),
		...optional('batch', 'batch', number('batch')),
		...optional('optimizer', 'optimizer', values.optimizer),
		...optional('lr', 'lr', number('lr')),
		...optional('seed', 'seed', number('seed')),
		...optional('backend', 'backend', values.backend),
		...optional('replicas', 'replicas', number('replicas')),
		...optional('checkpoint-every', 'checkpointEvery', number('checkpoint-every')),
		...(values['bn-shared'] ? { bnPerView: false } : {})
	};
	if (problems.length > 0) return { problems };
	const parsed = trainConfigSchema.safeParse(raw);
	if (!parsed.success) return { problems: flagProblems(parsed.error.issues, trainFlags, values) };
	return { config: parsed.data };
}

/** The flag that sets each field of the run configuration, for messages. */
const trainFlags: Record<string, string> = {
	'source.path': 'folder',
	'source.maxSide': 'max-side',
	'source.count': 'count',
	'source.seed': 'data-seed',
	'source.config.preset': 'preset',
	'source.config.generator': 'generator',
	'source.config.params': 'param',
	'source.config.size': 'size',
	steps: 'steps',
	model: 'model',
	batch: 'batch',
	optimizer: 'optimizer',
	lr: 'lr',
	seed: 'seed',
	backend: 'backend',
	checkpointEvery: 'checkpoint-every'
};

/** `noiselab train`: a contrastive pretraining run, recorded in the app's database. */
export const trainCommand: CliCommand = {
	name: 'train',
	summary:
		'Pretrain an encoder on noise (or an image folder) with the alignment + uniformity loss.',
	usage:
		'(--preset NAME | --generator ID [--param k=v ...] | --folder DIR) --steps N [--model tiny|small|alexnet] [--batch B] [--lr LR] [--optimizer sgd|adam] [--name NAME] [--backend auto|wasm|…] [--replicas K]\n       noiselab train --resume RUN_ID',
	flagHelp: {
		preset: 'generator preset to stream on the fly, e.g. dead_leaves-mixed',
		generator: 'generator id (with --param overrides)',
		param: 'override a generator parameter, name=value (repeatable)',
		size: 'generated image size in px (default: the preset’s)',
		count: 'virtual dataset size (default 105000, as the paper)',
		'data-seed': 'seed of the virtual dataset (default 0)',
		folder: 'train on a folder of images instead (e.g. a real-image control)',
		'max-side': 'folder images: scale so the shorter side is at most this (default 256)',
		steps: 'optimiser steps',
		model: `encoder preset: ${modelPresetIds.join(', ')} (default tiny)`,
		batch: 'positive pairs per step (default 128; the paper uses 768)',
		optimizer: 'sgd (default, as the paper) or adam',
		lr: 'base learning rate (default 0.12·batch/256 for SGD, 1e-3 for Adam)',
		seed: 'run seed: weights, data order and augmentations (default 0)',
		backend: `${backendPreferences.join(', ')} (default: Settings)`,
		replicas: `data-parallel wasm replicas, 1–${maxReplicas} (default: Settings, else the cores the data threads leave)`,
		'checkpoint-every': 'steps between checkpoints (default 200)',
		'bn-shared': 'batch-norm statistics over both views (default: per view, as the paper)',
		name: 'run name (default run-ID)',
		resume: 'continue a paused or interrupted run by id',
		json: 'print the final run record as JSON on stdout'
	},
	options: {
		preset: { type: 'string' },
		generator: { type: 'string' },
		param: { type: 'string', multiple: true },
		size: { type: 'string' },
		count: { type: 'string' },
		'data-seed': { type: 'string' },
		folder: { type: 'string' },
		'max-side': { type: 'string' },
		steps: { type: 'string' },
		model: { type: 'string' },
		batch: { type: 'string' },
		optimizer: { type: 'string' },
		lr: { type: 'string' },
		seed: { type: 'string' },
		backend: { type: 'string' },
		replicas: { type: 'string' },
		'checkpoint-every': { type: 'string' },
		'bn-shared': { type: 'boolean', default: false },
		name: { type: 'string' },
		resume: { type: 'string' },
		json: { type: 'boolean', default: false }
	},
	async run(args, env) {
		const { values } = args;
		// Everything the flags can get wrong is refused before the data folder is touched.
		let request: { resume: number } | { config: TrainConfig };
		if (values.resume !== undefined) {
			const id = Number(values.resume);
			if (!Number.isInteger(id) || id < 1) {
				env.stderr(
					`--resume takes a run id (see noiselab runs list); got ${JSON.stringify(values.resume)}.`
				);
				return 2;
			}
			request = { resume: id };
		} else {
			const built = configFromFlags(values);
			if ('problems' in built) {
				env.stderr(built.problems.join('\n'));
				return 2;
			}
			request = { config: trainConfigSchema.parse(built.config) };
		}
		const context = cliAppContext(env);
		try {
			if (!context.store.ok) {
				env.stderr(context.store.error.message);
				return 1;
			}
			const run =
				'resume' in request
					? context.training.resume(request.resume)
					: context.training.start({
							name: values.name as string | undefined,
							config: request.config
						});
			return await follow(context, run, env, Boolean(values.json));
		} catch (error) {
			env.stderr((error as Error).message);
			return 1;
		} finally {
			context.close();
		}
	}
};

/** Shows a run's progress until its session ends; Ctrl-C pauses it at a checkpoint. */
async function follow(
	context: AppContext,
	run: RunRecord,
	env: CliEnvironment,
	json: boolean
): Promise<number> {
	const interactive = process.stderr.isTTY;
	env.stderr(
		`Run ${run.id} "${run.name}": ${run.sourceLabel}, model ${run.config.model}, ${run.steps} steps, batch ${run.config.batch}.`
	);
	let lastPrinted = 0;
	const unsubscribe = context.events.subscribe((event) => {
		if (event.name !== 'runs.progress' || event.payload.runId !== run.id) return;
		const progress = event.payload;
		if (progress.phase === 'starting' || (progress.metric === null && progress.message)) {
			if (progress.message) env.stderr(progress.message);
			return;
		}
		if (interactive) {
			process.stderr.write(`\r${trainProgressLine(progress)}\u001b[K`);
			return;
		}
		const now = performance.now() / 1000;
		if (now - lastPrinted >= 5 || progress.step === progress.steps) {
			lastPrinted = now;
			env.stderr(trainProgressLine(progress));
		}
	});
	const onInterrupt = () => {
		if (stopping) process.exit(130);
		stopping = true;
		env.stderr(
			'\nPausing at a checkpoint… (press Ctrl-C again to quit at once; resume with --resume)'
		);
		context.training.pause(run.id);
	};
	let stopping = false;
	process.on('SIGINT', onInterrupt);
	try {
		await context.training.idle();
	} finally {
		process.off('SIGINT', onInterrupt);
		unsubscribe();
	}
	if (interactive) process.stderr.write('\n');
	const final = context.training.get(run.id).run;
	if (json) env.stdout(JSON.stringify(final, null, '\t'));
	const summary =
		`Run ${final.id} "${final.name}" ${final.status} at step ${final.step}/${final.steps}` +
		(final.lastLoss === null ? '' : `, loss ${final.lastLoss.toFixed(4)}`) +
		` on ${final.backend ? engineLabel(final.backend, final.config.replicas) : 'no backend'} in ${formatDuration(final.trainSeconds)}.`;
	env.stderr(final.error ? `${summary}\n${final.error}` : summary);
	switch (final.status) {
		case 'completed':
			return 0;
		case 'paused':
		case 'cancelled':
			return 130;
		default:
			return 1;
	}
}
