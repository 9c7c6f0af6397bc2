/**
 * `npm run bench:generators`: images per second of every preset at 128 px, on one thread and on
 * all cores (worker threads, generation only, no encoding), plus the process's peak memory.
 *
 * Options: --size 128, --seconds 2 (per measurement), --preset a,b (filter), --include-slow.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { findPreset, presets, resolveConfig } from '../src/core/generators/registry';

interface Job {
	preset: string;
	size: number;
	seconds: number;
	/** Each thread takes indices offset, offset + stride, … so threads never repeat work. */
	offset: number;
	stride: number;
}

interface Measurement {
	/** The first image, cold: caches, tables, texture pools and JIT warm-up included. */
	firstSeconds: number;
	images: number;
	seconds: number;
}

/** Generates images of one preset for about `seconds` after one cold image. */
async function measure(job: Job): Promise<Measurement> {
	const resolved = resolveConfig({ preset: job.preset, size: job.size });
	if (!resolved.ok) throw new Error(resolved.message);
	const { generator, params, size } = resolved.value;
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
	return { firstSeconds, images, seconds: (performance.now() - started) / 1000 };
}

function onThreads(base: Omit<Job, 'offset' | 'stride'>, threads: number): Promise<number> {
	return Promise.all(
		Array.from(
			{ length: threads },
			(_, offset) =>
				new Promise<number>((resolve, reject) => {
					const worker = new Worker(__filename, {
						workerData: { ...base, offset, stride: threads }
					});
					worker.once('message', (result: { images: number; seconds: number }) =>
						resolve(result.images / result.seconds)
					);
					worker.once('error', reject);
				})
		)
	).then((rates) => rates.reduce((sum, rate) => sum + rate, 0));
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			size: { type: 'string', default: '128' },
			seconds: { type: 'string', default: '2' },
			preset: { type: 'string' },
			'include-slow': { type: 'boolean', default: false }
		}
	});
	const size = Number(values.size);
	const seconds = Number(values.seconds);
	const cores = os.availableParallelism();
	const wanted = values.preset?.split(',') ?? presets.map((preset) => preset.name);
	let peakRss = process.memoryUsage().rss;
	const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
	console.log(
		`Generator throughput at ${size} px on ${cores} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.versions.node}`
	);
	console.log(
		`${'preset'.padEnd(28)} ${'first image'.padStart(12)} ${'1 thread'.padStart(12)} ${`${cores} threads`.padStart(12)}`
	);
	for (const name of wanted) {
		const preset = findPreset(name);
		const resolved = resolveConfig({ preset: name, size });
		if (!preset || !resolved.ok) {
			console.log(`${name.padEnd(28)} unknown preset`);
			continue;
		}
		const { generator } = resolved.value;
		if (Object.values(generator.params).some((spec) => spec.kind === 'encoder')) {
			console.log(
				`${name.padEnd(28)} skipped: needs a trained encoder (time it with noiselab generate)`
			);
			continue;
		}
		if (generator.speed === 'slow' && !values['include-slow']) {
			console.log(
				`${name.padEnd(28)} ${'skipped: slow generator (use --include-slow)'.padStart(12)}`
			);
			continue;
		}
		const single = await measure({ preset: name, size, seconds, offset: 0, stride: 1 });
		const singleRate = single.images / single.seconds;
		const rate = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} img/s`.padStart(12);
		const first = `${single.firstSeconds.toFixed(single.firstSeconds < 1 ? 3 : 1)} s`.padStart(12);
		// The all-cores run repeats the cold start on every thread; skip it where that is minutes.
		const all =
			single.firstSeconds + 1 / singleRate > 4 * seconds
				? 'skipped (slow)'.padStart(12)
				: rate(await onThreads({ preset: name, size, seconds }, cores));
		console.log(`${name.padEnd(28)} ${first} ${rate(singleRate)} ${all}`);
	}
	clearInterval(sample);
	console.log(
		`Peak memory (RSS, main thread plus worker threads): ${(peakRss / 2 ** 20).toFixed(0)} MiB`
	);
}

if (isMainThread) {
	main().catch((error: unknown) => {
		console.error(error);
		process.exit(1);
	});
} else {
	measure(workerData as Job).then((result) => parentPort?.postMessage(result));
}
