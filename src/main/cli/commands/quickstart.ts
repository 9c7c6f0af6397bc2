import { quickstartDefaults, quickstartParamsSchema } from '../../../core/api/quickstart';
import { formatDuration } from '../../../core/format';
import { cliAppContext, formatPercent, type CliCommand } from '../command';
import { flagProblems } from '../flags';

/** `noiselab quickstart`: the paper's loop in a few minutes. */
export const quickstartCommand: CliCommand = {
	name: 'quickstart',
	summary: `Pretrain the tiny encoder on ${quickstartDefaults.preset} for a few minutes and compare it with random init on real data.`,
	usage: '[--steps N] [--batch B] [--epochs E] [--json]',
	flagHelp: {
		steps: `pretraining steps (default ${quickstartDefaults.steps})`,
		batch: `pairs per step (default ${quickstartDefaults.batch})`,
		epochs: 'linear-probe epochs per dataset (default 30)',
		json: 'print the final state as JSON on stdout'
	},
	options: {
		steps: { type: 'string' },
		batch: { type: 'string' },
		epochs: { type: 'string' },
		json: { type: 'boolean', default: false }
	},
	async run(args, env) {
		const { values } = args;
		const parsed = quickstartParamsSchema.safeParse({
			...(values.steps === undefined ? {} : { steps: Number(values.steps) }),
			...(values.batch === undefined ? {} : { batch: Number(values.batch) }),
			...(values.epochs === undefined ? {} : { epochs: Number(values.epochs) })
		});
		if (!parsed.success) {
			const flags = { steps: 'steps', batch: 'batch', epochs: 'epochs' };
			env.stderr(flagProblems(parsed.error.issues, flags, values).join('\n'));
			return 2;
		}
		const context = cliAppContext(env);
		try {
			let lastMessage = '';
			let lastBucket = 0;
			const unsubscribe = context.events.subscribe((event) => {
				if (event.name === 'quickstart.changed' && event.payload.message !== lastMessage) {
					lastMessage = event.payload.message;
					env.stderr(`[${formatDuration(event.payload.seconds)}] ${lastMessage}`);
				}
				if (
					event.name === 'runs.progress' &&
					event.payload.metric &&
					// One line per 25 steps is enough for a log.
					Math.floor(event.payload.step / 25) !== lastBucket
				) {
					lastBucket = Math.floor(event.payload.step / 25);
					const metric = event.payload.metric;
					env.stderr(
						`  step ${event.payload.step}/${event.payload.steps}  loss ${metric.loss.toFixed(4)}  ${metric.imagesPerSecond.toFixed(0)} img/s`
					);
				}
			});
			const onInterrupt = () => {
				const runId = context.quickstart.status()?.runId;
				if (runId !== null && runId !== undefined) context.training.cancel(runId);
			};
			process.once('SIGINT', onInterrupt);
			context.quickstart.start(parsed.data);
			await context.quickstart.idle();
			process.off('SIGINT', onInterrupt);
			unsubscribe();
			const state = context.quickstart.status();
			if (!state) return 1;
			if (values.json) env.stdout(JSON.stringify(state, null, '\t'));
			env.stderr(
				[
					`Quickstart ${state.stage} in ${formatDuration(state.seconds)} (run ${state.runId ?? '–'}). Linear-probe top-1:`,
					`  ${'dataset'.padEnd(26)} ${'noise (dead leaves)'.padEnd(20)} random init`,
					...state.results.map(
						(result) =>
							`  ${result.dataset.padEnd(26)} ${formatPercent(result.noise).padEnd(20)} ${formatPercent(result.random)}`
					)
				].join('\n')
			);
			return state.stage === 'completed' ? 0 : 1;
		} catch (error) {
			env.stderr((error as Error).message);
			return 1;
		} finally {
			context.close();
		}
	}
};
