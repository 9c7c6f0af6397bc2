/**
 * `npm run bench:generators`: images per second of every preset at 128 px, on one thread and on
 * all cores (worker threads, generation only, no encoding), against the previous version of the
 * generators, with each preset's peak memory.
 *
 * Each preset runs in a child process of its own, so its peak RSS (main thread plus worker
 * threads, and the previous version where compared) is its own. The previous version (commit {@link previousVersionCommit} unless
 * `--baseline` names another, `--baseline none` to skip) is bundled from git and timed on the
 * same thread as the current code in alternating slices, so a loaded machine slows both alike
 * and the factor stays meaningful when the absolute rates are not.
 *
 * Options: --size 128, --seconds 2 (per measurement), --preset a,b (filter), --include-slow,
 * --baseline <commit>|none.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as current from '../src/core/generators/registry';
import type { ResolvedConfig } from '../src/core/generators/registry';
import { installWasmStyleganConvolutions } from '../src/main/compute/kernels/wasm-stylegan-conv';
import { loadPreviousRegistry, previousVersionCommit } from './previous-version';

type Registry = typeof current;

// As the app's generator threads do (the previous version, bundled apart, keeps its own).
installWasmStyleganConvolutions();

interface Job {
	preset: string;
	size: number;
	seconds: number;
	/** Each thread takes indices offset, offset + stride, … so threads never repeat work. */
	offset: number;
	stride: number;
}

/** What a preset's child process reports. */
interface PresetResult {
	/** The first image, cold: caches, tables, texture pools and JIT warm-up included. */
	firstSeconds: number;
	single: number;
	/** Null when skipped (the cold start would be repeated on every thread). */
	all: number | null;
	/** Rates of the interleaved comparison, or why there is none. */
	previous: { current: number; previous: number } | string;
	peakRssMiB: number;
}

type Resolved = Pick<ResolvedConfig, 'generator' | 'params' | 'size'>;

function resolve(registry: Registry, preset: string, size: number): Resolved | string {
	if (!registry.findPreset(preset)) return 'no such preset';
	const resolved = registry.resolveConfig({ preset, size });
	return resolved.ok ? resolved.value : resolved.message;
}

/** Generates images of one preset for about `seconds` after one cold image. */
async function measure(job: Job): Promise<{ firstSeconds: number; rate: number }> {
	const resolved = resolve(current, job.preset, job.size);
	if (typeof resolved === 'string') throw new Error(resolved);
	const { generator, params, size } = resolved;
	const cold = performance.now();
	await generator.generate(params, 1, job.offset, size);
	const firstSeconds = (performance.now() - cold) / 1000;
	const started = performance.now();
	let images = 0;
	let index = job.offset + job.stride;
	// One image at least; a generator slower than the budget is measured on that one image.
	while ((performance.now() - started) / 1000 < job.seconds || images < 1) {
		await generator.generate(params, 1, index, size);
		index += job.stride;
		images++;
	}
	return { firstSeconds, rate: (1000 * images) / (performance.now() - started) };
}

function onThreads(base: Omit<Job, 'offset' | 'stride'>, threads: number): Promise<number> {
	return Promise.all(
		Array.from(
			{ length: threads },
			(_, offset) =>
				new Promise<number>((resolveRate, reject) => {
					const worker = new Worker(__filename, {
						workerData: { ...base, offset, stride: threads }
					});
					worker.once('message', (result: { rate: number }) => resolveRate(result.rate));
					worker.once('error', reject);
				})
		)
	).then((rates) => rates.reduce((sum, rate) => sum + rate, 0));
}

/**
 * Current and previous code on the same thread, in alternating slices of about a quarter
 * second, on the same indices, both starting with cold caches (this runs before anything else
 * in the preset's process). Returns the current code's cold first image too, or only that when
 * a cold image takes longer than `slowSeconds`.
 */
async function interleaved(
	now: Resolved,
	before: Resolved,
	seconds: number,
	slowSeconds: number
): Promise<{ firstSeconds: number; rates: { current: number; previous: number } | null }> {
	const versions = [now, before];
	const first = versions.map(() => 0);
	for (const [v, version] of versions.entries()) {
		const cold = performance.now();
		await version.generator.generate(version.params, 1, 0, version.size);
		first[v] = (performance.now() - cold) / 1000;
	}
	const firstSeconds = first[0] as number;
	if (Math.max(...first) > slowSeconds) return { firstSeconds, rates: null };
	const time = new Float64Array(2);
	const images = new Int32Array(2);
	const elapsed = () => (time[0] as number) + (time[1] as number);
	while (elapsed() < 2000 * seconds) {
		for (let v = 0; v < 2; v++) {
			const { generator, params, size } = versions[v] as Resolved;
			const sliceEnd = performance.now() + 250;
			const start = performance.now();
			do {
				await generator.generate(params, 1, 1 + (images[v] as number), size);
				images[v] = (images[v] as number) + 1;
			} while (performance.now() < sliceEnd);
			time[v] = (time[v] as number) + performance.now() - start;
		}
	}
	const rateOf = (v: number) => (1000 * (images[v] as number)) / (time[v] as number);
	return { firstSeconds, rates: { current: rateOf(0), previous: rateOf(1) } };
}

/** Runs in the preset's child process. */
async function measurePreset(
	preset: string,
	size: number,
	seconds: number,
	baseline: string
): Promise<PresetResult> {
	const cores = os.availableParallelism();
	let previous: PresetResult['previous'] = 'not asked';
	let firstSeconds: number | null = null;
	if (baseline !== 'none') {
		try {
			const before = resolve(loadPreviousRegistry(baseline), preset, size);
			const now = resolve(current, preset, size);
			if (typeof before === 'string') previous = `previous: ${before}`;
			else if (typeof now !== 'string') {
				const comparison = await interleaved(now, before, seconds, 4 * seconds);
				firstSeconds = comparison.firstSeconds;
				previous = comparison.rates ?? 'skipped (slow)';
			}
		} catch (error) {
			previous = `no previous version: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
		}
	}
	const single = await measure({ preset, size, seconds, offset: 0, stride: 1 });
	firstSeconds ??= single.firstSeconds;
	// The all-cores run repeats the cold start on every thread; skip it where that is minutes.
	const slow = firstSeconds + 1 / single.rate > 4 * seconds;
	const all = slow ? null : await onThreads({ preset, size, seconds }, cores);
	const peakRssMiB = process.resourceUsage().maxRSS / 1024;
	return { firstSeconds, single: single.rate, all, previous, peakRssMiB };
}

const rate = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} img/s`.padStart(12);

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			size: { type: 'string', default: '128' },
			seconds: { type: 'string', default: '2' },
			preset: { type: 'string' },
			'include-slow': { type: 'boolean', default: false },
			baseline: { type: 'string', default: previousVersionCommit }
		}
	});
	const size = Number(values.size);
	const seconds = Number(values.seconds);
	const baseline = values.baseline;
	const cores = os.availableParallelism();
	const wanted = values.preset?.split(',') ?? current.presets.map((preset) => preset.name);
	console.log(
		`Generator throughput at ${size} px on ${cores} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.versions.node}, load average ${os.loadavg()[0]?.toFixed(1)}`
	);
	if (baseline !== 'none')
		console.log(
			`previous = commit ${baseline}, timed on the same thread as the current code in alternating slices; ×: current / previous from those slices`
		);
	console.log(
		`${'preset'.padEnd(26)} ${'first image'.padStart(11)} ${'1 thread'.padStart(12)} ${`${cores} threads`.padStart(12)} ${'previous'.padStart(12)} ${'×'.padStart(6)} ${'peak RSS'.padStart(9)}`
	);
	for (const name of wanted) {
		const resolved = resolve(current, name, size);
		if (typeof resolved === 'string') {
			console.log(`${name.padEnd(26)} ${resolved}`);
			continue;
		}
		if (Object.values(resolved.generator.params).some((spec) => spec.kind === 'encoder')) {
			console.log(
				`${name.padEnd(26)} skipped: needs a trained encoder (time it with noiselab generate)`
			);
			continue;
		}
		if (resolved.generator.speed === 'slow' && !values['include-slow']) {
			console.log(`${name.padEnd(26)} skipped: slow generator (use --include-slow)`);
			continue;
		}
		const output = execFileSync(
			process.execPath,
			[__filename, '--child', JSON.stringify({ preset: name, size, seconds, baseline })],
			{ encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 2 ** 24 }
		);
		const result = JSON.parse(output.trim().split('\n').pop() ?? '{}') as PresetResult;
		const first = `${result.firstSeconds.toFixed(result.firstSeconds < 1 ? 3 : 1)} s`.padStart(11);
		const all = result.all === null ? 'skipped'.padStart(12) : rate(result.all);
		const comparison =
			typeof result.previous === 'string'
				? `  ${result.previous}`
				: `${rate(result.previous.previous)} ${`${(result.previous.current / result.previous.previous).toFixed(2)}×`.padStart(6)}`;
		const rss = `${result.peakRssMiB.toFixed(0)} MiB`.padStart(9);
		const row = `${name.padEnd(26)} ${first} ${rate(result.single)} ${all}`;
		console.log(
			typeof result.previous === 'string'
				? `${row} ${''.padStart(19)} ${rss}${comparison}`
				: `${row} ${comparison} ${rss}`
		);
	}
}

if (!isMainThread) {
	measure(workerData as Job).then((result) => parentPort?.postMessage(result));
} else if (process.argv[2] === '--child') {
	const { preset, size, seconds, baseline } = JSON.parse(process.argv[3] ?? '{}') as {
		preset: string;
		size: number;
		seconds: number;
		baseline: string;
	};
	measurePreset(preset, size, seconds, baseline).then(
		(result) => {
			console.log(JSON.stringify(result));
			process.exit(0);
		},
		(error: unknown) => {
			console.error(error);
			process.exit(1);
		}
	);
} else {
	main().catch((error: unknown) => {
		console.error(error);
		process.exit(1);
	});
}
