import fs from 'node:fs';
import path from 'node:path';
import { AppFailure } from '../../../core/api/errors';
import { formatDuration } from '../../../core/format';
import { imageFormats, type ImageFormat } from '../../../core/generators/manifest';
import { describeRange, parseParamAssignments } from '../../../core/generators/params';
import { findGenerator, findPreset, generators, presets } from '../../../core/generators/registry';
import { cacheDirVariable } from '../../generation/disk-cache';
import { TrainedEncoders } from '../../services/trained-encoders';
import { openStoreReadOnly, type Store } from '../../store/database';
import { exportDataset, type ExportProgress } from '../../generation/export-dataset';
import { resolveDataDir } from '../../paths';
import type { CliCommand, CliEnvironment } from '../command';

/** The data folder's store, read-only; a folder without one has no runs to name an encoder. */
function openRuns(dataDir: string): Store {
	try {
		return openStoreReadOnly(dataDir);
	} catch (error) {
		if (!(error instanceof AppFailure) || error.code !== 'NOT_FOUND') throw error;
		throw new AppFailure(
			'NOT_FOUND',
			`There are no runs in ${dataDir} yet to take a trained encoder from: train one first (noiselab train --preset dead_leaves-mixed), or set NOISELAB_HOME to the data folder that has it.`
		);
	}
}

/** The catalogue `--list` prints: presets, then every generator with its parameters. */
function catalogue(): string {
	const lines = ['Presets (the paper’s datasets and controls):'];
	for (const preset of presets)
		lines.push(`  ${preset.name.padEnd(28)} ${preset.size} px  ${preset.description}`);
	lines.push('', 'Generators and their parameters (--generator ID --param name=value):');
	for (const generator of generators) {
		lines.push(
			`  ${generator.id}${generator.speed === 'slow' ? ' (slow)' : ''}: ${generator.description}`
		);
		for (const [name, spec] of Object.entries(generator.params)) {
			const fallback = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
			lines.push(
				`      ${name.padEnd(22)} ${describeRange(spec)}, default ${fallback}. ${spec.help}`
			);
		}
	}
	return lines.join('\n');
}

/** A progress line: bar, counts, rate and ETA. */
export function progressLine(progress: ExportProgress): string {
	const width = 28;
	const fraction = progress.total === 0 ? 1 : progress.done / progress.total;
	const filled = Math.round(fraction * width);
	const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
	const eta = progress.etaSeconds === null ? '' : `  ETA ${formatDuration(progress.etaSeconds)}`;
	return `${bar} ${progress.done}/${progress.total} (${Math.floor(fraction * 100)}%)  ${progress.imagesPerSecond.toFixed(1)} img/s${eta}`;
}

function progressReporter(
	env: CliEnvironment,
	interactive: boolean
): (progress: ExportProgress) => void {
	let lastPrinted = 0;
	return (progress) => {
		if (progress.phase !== 'generating') {
			if (progress.phase === 'sharding') env.stderr('Writing shards…');
			return;
		}
		if (interactive) {
			process.stderr.write(`\r${progressLine(progress)}\u001b[K`);
			return;
		}
		// In logs, one line every few seconds is enough.
		const nowSeconds = performance.now() / 1000;
		if (nowSeconds - lastPrinted >= 5 || progress.done === progress.total) {
			lastPrinted = nowSeconds;
			env.stderr(progressLine(progress));
		}
	};
}

function integerFlag(
	value: unknown,
	name: string,
	min: number,
	max = Number.MAX_SAFE_INTEGER
): number | string {
	const number = Number(value);
	return Number.isInteger(number) && number >= min && number <= max
		? number
		: `--${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}; got ${JSON.stringify(value)}.`;
}

/** `noiselab generate`: exports a dataset of noise images in the paper's layout. */
export const generateCommand: CliCommand = {
	name: 'generate',
	summary: 'Export a dataset of noise images (paper layout, manifest, resumable).',
	usage:
		'--preset NAME | --generator ID [--param k=v ...] --count N --out DIR [--size S] [--seed S] [--format jpg|png] [--quality Q] [--start-index I] [--workers W] [--shards] [--part I/N]\n       noiselab generate --list',
	flagHelp: {
		preset: 'a preset, e.g. dead_leaves-mixed (see --list)',
		generator: 'a generator id, with its defaults (see --list)',
		param: 'override a parameter, name=value (repeatable)',
		count: 'number of images',
		out: 'output folder (empty, new, or the same dataset to resume)',
		size: 'image size in pixels, 32–512 (default: the preset’s)',
		seed: 'dataset seed (default 0); image i is always the same for a seed',
		format: 'jpg (default, as the paper) or png',
		quality: 'JPEG quality 1–100 (default 95, as the paper)',
		'start-index': 'first image index (default 0)',
		workers: 'worker threads (default: all cores)',
		shards: 'also write WebDataset tar shards (one per 1000 images)',
		part: 'render only part I of N (1-based) of the range, for one task of a cluster array; then noiselab dataset merge DIR',
		list: 'list presets, generators and their parameters'
	},
	options: {
		preset: { type: 'string' },
		generator: { type: 'string' },
		param: { type: 'string', multiple: true },
		count: { type: 'string' },
		out: { type: 'string' },
		size: { type: 'string' },
		seed: { type: 'string', default: '0' },
		format: { type: 'string', default: 'jpg' },
		quality: { type: 'string', default: '95' },
		'start-index': { type: 'string', default: '0' },
		workers: { type: 'string' },
		shards: { type: 'boolean', default: false },
		part: { type: 'string' },
		list: { type: 'boolean', default: false }
	},
	async run(args, env) {
		const values = args.values;
		if (values.list) {
			env.stdout(catalogue());
			return 0;
		}
		const problems: string[] = [];
		const presetName = values.preset as string | undefined;
		const generatorId = values.generator as string | undefined;
		if (!presetName && !generatorId)
			problems.push('Name a --preset or a --generator (see noiselab generate --list).');
		if (values.count === undefined) problems.push('--count is required.');
		if (values.out === undefined) problems.push('--out is required.');
		else if (fs.statSync(path.resolve(String(values.out)), { throwIfNoEntry: false })?.isFile()) {
			problems.push(`--out: ${path.resolve(String(values.out))} is a file, not a folder.`);
		}
		const format = String(values.format) as ImageFormat;
		if (!imageFormats.includes(format))
			problems.push(`--format must be jpg or png; got ${JSON.stringify(values.format)}.`);
		const numbers = {
			count: integerFlag(values.count, 'count', 1),
			seed: integerFlag(values.seed, 'seed', 0, 2 ** 32 - 1),
			quality: integerFlag(values.quality, 'quality', 1, 100),
			startIndex: integerFlag(values['start-index'], 'start-index', 0),
			size: values.size === undefined ? undefined : integerFlag(values.size, 'size', 32, 512),
			workers:
				values.workers === undefined ? undefined : integerFlag(values.workers, 'workers', 1, 64)
		};
		for (const value of Object.values(numbers)) if (typeof value === 'string') problems.push(value);
		const partMatch = values.part === undefined ? null : /^(\d+)\/(\d+)$/.exec(String(values.part));
		if (values.part !== undefined && !partMatch) {
			problems.push(
				`--part must be I/N, e.g. 3/8 (the third of eight parts); got ${JSON.stringify(values.part)}.`
			);
		}
		const schemaOwner = presetName
			? findGenerator(findPreset(presetName)?.generator ?? '')
			: findGenerator(generatorId ?? '');
		let params: Record<string, unknown> = {};
		const assignments = (values.param as string[] | undefined) ?? [];
		if (assignments.length > 0 && schemaOwner) {
			const parsed = parseParamAssignments(schemaOwner.params, assignments);
			if (parsed.ok) params = parsed.value;
			else problems.push(parsed.message);
		}
		if (problems.length > 0 || values.count === undefined || values.out === undefined) {
			env.stderr(problems.join('\n'));
			return 2;
		}
		// Export threads share the generator cache (texture pool, fractal categories, pinned
		// encoders) in the data folder.
		const dataDir = resolveDataDir().path;
		const cacheDir = (process.env[cacheDirVariable] ??= path.join(dataDir, 'cache'));
		let config = {
			preset: presetName,
			generator: presetName ? undefined : generatorId,
			params,
			size: numbers.size as number | undefined
		};
		// A trained encoder (feature_vis-dead_leaves) is resolved from the runs and pinned; the
		// store is opened only then, read-only (beside a running app, without its lock).
		let store: Store | null = null;
		try {
			config = new TrainedEncoders(() => (store ??= openRuns(dataDir)).db, cacheDir).pin(config);
		} catch (error) {
			env.stderr((error as Error).message);
			return 1;
		} finally {
			(store as Store | null)?.close();
		}
		const controller = new AbortController();
		const onInterrupt = () => {
			if (controller.signal.aborted) process.exit(130);
			controller.abort();
			env.stderr('\nStopping after the images in progress… (press Ctrl-C again to quit at once)');
		};
		process.on('SIGINT', onInterrupt);
		const interactive = process.stderr.isTTY === true;
		const result = await exportDataset(
			{
				...config,
				seed: numbers.seed as number,
				count: numbers.count as number,
				startIndex: numbers.startIndex as number,
				outDir: String(values.out),
				format,
				quality: numbers.quality as number,
				shards: values.shards === true,
				workers: numbers.workers as number | undefined,
				...(partMatch ? { part: { index: Number(partMatch[1]), of: Number(partMatch[2]) } } : {})
			},
			{
				threadFile: path.join(env.distDir, 'workers', 'generate-thread.cjs'),
				signal: controller.signal,
				onProgress: progressReporter(env, interactive)
			}
		);
		process.off('SIGINT', onInterrupt);
		if (interactive) process.stderr.write('\n');
		if (!result.ok) {
			env.stderr(result.error.message);
			return result.error.code === 'CANCELLED' ? 130 : 1;
		}
		const summary = result.value;
		const rate = summary.written / Math.max(summary.seconds, 1e-3);
		env.stdout(
			`${summary.manifest.complete ? 'Done' : 'Stopped'}: ${summary.outDir} holds ${summary.manifest.written} of ${summary.manifest.count} images` +
				(summary.manifest.part
					? ` of part ${summary.manifest.part.index}/${summary.manifest.part.of} (indices ${summary.manifest.startIndex}–${summary.manifest.startIndex + summary.manifest.count - 1})`
					: '') +
				` (${summary.written} written now at ${rate.toFixed(1)} img/s, ${summary.skipped} already there${summary.resumed ? ', resumed' : ''}).`
		);
		return 0;
	}
};
