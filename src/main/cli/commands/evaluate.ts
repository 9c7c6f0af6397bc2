import path from 'node:path';
import type { ApiEvent } from '../../../core/api/contract';
import { evaluateParamsSchema, type EvaluationRecord } from '../../../core/api/evaluation';
import { gapClosed } from '../../../core/evaluation/metrics';
import { formatDuration } from '../../../core/format';
import { featureLayers } from '../../../core/encoders/architecture';
import { cliAppContext, formatPercent, type CliCommand, type CliEnvironment } from '../command';
import { flagProblems, shownValue } from '../flags';

/** The result lines of one evaluation group: each encoder's accuracy and the gap closed. */
export function evaluationSummary(evaluations: readonly EvaluationRecord[]): string {
	const byRole = (role: EvaluationRecord['role']) => evaluations.find((e) => e.role === role);
	const lines = evaluations.map((evaluation) => {
		const metrics = evaluation.metrics;
		const extra = metrics?.knn
			? Object.entries(metrics.knn)
					.map(([k, value]) => `k=${k} ${formatPercent(value)}`)
					.join(', ')
			: metrics?.top5 !== null && metrics?.top5 !== undefined
				? `top-5 ${formatPercent(metrics.top5)}`
				: '';
		const status =
			evaluation.status === 'completed'
				? `top-1 ${formatPercent(metrics?.top1)}${extra ? ` (${extra})` : ''} in ${formatDuration(evaluation.seconds ?? 0)}`
				: `${evaluation.status}${evaluation.error ? `: ${evaluation.error}` : ''}`;
		return `  ${evaluation.role.padEnd(12)} run ${String(evaluation.runId).padEnd(4)} ${status}`;
	});
	const noise = byRole('encoder')?.metrics?.top1;
	const random = byRole('random-init')?.metrics?.top1;
	const real = byRole('real')?.metrics?.top1;
	if (noise !== undefined && random !== undefined && real !== undefined) {
		const gap = gapClosed(noise, random, real);
		lines.push(
			gap === null
				? '  gap closed   – (the real-data control is not better than random init)'
				: `  gap closed   ${(gap * 100).toFixed(0)}% of the way from random init to real data`
		);
	}
	return lines.join('\n');
}

/** Prints an evaluation group's progress until it ends. */
function followProgress(env: CliEnvironment, groupId: string) {
	let last = '';
	let lastAt = 0;
	return (event: ApiEvent) => {
		if (event.name !== 'evaluations.progress' || event.payload.groupId !== groupId) return;
		const { role, message, done, total } = event.payload;
		const line = `${role}: ${message} ${total > 1 ? `${done}/${total}` : ''}`.trim();
		const now = performance.now();
		if (process.stderr.isTTY) process.stderr.write(`\r${line}\u001b[K`);
		else if (line.split(' ').slice(0, 3).join(' ') !== last || now - lastAt > 5000) {
			env.stderr(line);
			lastAt = now;
		}
		last = line.split(' ').slice(0, 3).join(' ');
	};
}

/** The flag that sets each field of the evaluation request, for messages. */
const evalFlags: Record<string, string> = {
	runId: 'run',
	dataset: 'dataset',
	protocol: 'protocol',
	layer: 'layer',
	realRunId: 'real-run',
	epochs: 'epochs',
	views: 'views',
	maxTrain: 'max-train'
};

/** `noiselab eval`: measures a run's encoder (and controls) on a dataset. */
export const evalCommand: CliCommand = {
	name: 'eval',
	summary: 'Evaluate a run’s encoder with a linear probe or kNN, next to its random-init control.',
	usage:
		'--run ID --dataset NAME|PATH [--protocol linear|knn] [--layer fc6] [--real-run ID] [--no-random-init] [--epochs N] [--views K] [--max-train N] [--json]',
	flagHelp: {
		run: 'the run to evaluate (its latest checkpoint)',
		dataset:
			'fashion-mnist-mini (bundled), fashion-mnist (Debian package), structured:count-shapes|position-x|orientation|size, or a folder',
		protocol: 'linear (default, the paper’s probe) or knn',
		layer: `features from ${featureLayers.join(', ')} (default fc6 as the paper; avgpool for a ResNet-50)`,
		'real-run': 'also evaluate this run trained on real images (the upper control)',
		'no-random-init': 'skip the random-init control',
		epochs: 'linear-probe epochs (default 100, as the paper)',
		views: 'augmented crops per training image for the probe (default 4)',
		'max-train': 'use at most this many training images (stratified)',
		'no-standardize': 'do not z-score features before the probe (the paper’s exact protocol)',
		json: 'print the evaluation records as JSON on stdout'
	},
	options: {
		run: { type: 'string' },
		dataset: { type: 'string' },
		protocol: { type: 'string' },
		layer: { type: 'string' },
		'real-run': { type: 'string' },
		'no-random-init': { type: 'boolean', default: false },
		epochs: { type: 'string' },
		views: { type: 'string' },
		'max-train': { type: 'string' },
		'no-standardize': { type: 'boolean', default: false },
		json: { type: 'boolean', default: false }
	},
	async run(args, env) {
		const { values } = args;
		const number = (flag: string) =>
			values[flag] === undefined ? undefined : Number(values[flag]);
		const dataset = values.dataset as string | undefined;
		const parsed = evaluateParamsSchema.safeParse({
			runId: number('run'),
			dataset:
				dataset && !dataset.includes(':') && (dataset.includes('/') || dataset.startsWith('.'))
					? path.resolve(dataset)
					: dataset,
			...(values.protocol === undefined ? {} : { protocol: values.protocol }),
			...(values.layer === undefined ? {} : { layer: values.layer }),
			...(values['real-run'] === undefined ? {} : { realRunId: number('real-run') }),
			randomInit: !values['no-random-init'],
			standardize: !values['no-standardize'],
			...(values.epochs === undefined ? {} : { epochs: number('epochs') }),
			...(values.views === undefined ? {} : { views: number('views') }),
			...(values['max-train'] === undefined ? {} : { maxTrain: number('max-train') })
		});
		const problems = parsed.success
			? [
					// Run ids start at 1; the schema leaves that to the store, which would say "no run -3".
					...(parsed.data.runId < 1
						? [`--run must be at least 1; got ${shownValue(values.run)}.`]
						: []),
					...(parsed.data.realRunId !== null && parsed.data.realRunId < 1
						? [`--real-run must be at least 1; got ${shownValue(values['real-run'])}.`]
						: [])
				]
			: flagProblems(parsed.error.issues, evalFlags, values);
		if (!parsed.success || problems.length > 0) {
			env.stderr(problems.join('\n'));
			return 2;
		}
		const context = cliAppContext(env);
		try {
			const { groupId } = context.evaluation.start(parsed.data);
			const unsubscribe = context.events.subscribe(followProgress(env, groupId));
			const onInterrupt = () => context.evaluation.cancel(groupId);
			process.once('SIGINT', onInterrupt);
			await context.evaluation.idle();
			process.off('SIGINT', onInterrupt);
			unsubscribe();
			if (process.stderr.isTTY) process.stderr.write('\n');
			const evaluations = context.evaluation
				.list(parsed.data.runId)
				.filter((evaluation) => evaluation.groupId === groupId)
				.reverse();
			if (values.json) env.stdout(JSON.stringify(evaluations, null, '\t'));
			env.stderr(
				`${parsed.data.protocol === 'linear' ? 'Linear probe' : 'kNN'} on ${parsed.data.dataset}, ${evaluations[0]?.layer ?? parsed.data.layer ?? 'default'} features:\n${evaluationSummary(evaluations)}`
			);
			return evaluations.every((evaluation) => evaluation.status === 'completed') ? 0 : 1;
		} catch (error) {
			env.stderr((error as Error).message);
			return 1;
		} finally {
			context.close();
		}
	}
};
