/**
 * The quickstart: the paper's loop at laptop scale, one button. Pretrain the tiny encoder on
 * on-the-fly dead leaves, then evaluate it and its random-init control with the linear probe on
 * the bundled Fashion-MNIST subset and a structured task, and report the comparison.
 */
import { AppFailure } from '../../core/api/errors';
import { evaluateParamsSchema } from '../../core/api/evaluation';
import {
	quickstartDefaults,
	type QuickstartState,
	type quickstartParamsSchema
} from '../../core/api/quickstart';
import { trainConfigSchema } from '../../core/training/config';
import type { z } from 'zod';
import type { EventBus } from '../events';
import type { EvaluationService } from './evaluation';
import type { QueueService } from './queue';
import type { QueuedRuns } from './queue-work';
import type { TrainingService } from './training';

export class QuickstartService {
	private state: QuickstartState | null = null;
	private started = 0;
	private running: Promise<void> | null = null;

	constructor(
		private readonly runs: QueuedRuns,
		private readonly queue: QueueService,
		private readonly training: TrainingService,
		private readonly evaluation: EvaluationService,
		private readonly events: EventBus
	) {}

	status(): QuickstartState | null {
		if (!this.state) return null;
		// A finished quickstart keeps the duration it ended with.
		return this.running ? { ...this.state, seconds: this.elapsed() } : this.state;
	}

	/** Starts the quickstart; it runs on in the background and reports through `quickstart.changed`. */
	start(params: z.output<typeof quickstartParamsSchema>): QuickstartState {
		if (this.running) throw new AppFailure('BUSY', 'The quickstart is already running.');
		// Through the work queue: it waits its turn if something else trains.
		const { run, itemId } = this.runs.start({
			name: `quickstart ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
			config: trainConfigSchema.parse({
				source: { kind: 'generator', config: { preset: quickstartDefaults.preset } },
				model: quickstartDefaults.model,
				optimizer: quickstartDefaults.optimizer,
				steps: params.steps,
				batch: params.batch,
				checkpointEvery: params.steps
			})
		});
		this.started = performance.now();
		this.state = {
			stage: 'pretraining',
			runId: run.id,
			groupIds: [],
			message: `${run.status === 'queued' ? 'Waiting in the work queue, then pretraining' : 'Pretraining'} the tiny encoder on ${quickstartDefaults.preset} for ${params.steps} steps…`,
			startedAt: new Date().toISOString(),
			seconds: 0,
			results: quickstartDefaults.datasets.map((dataset) => ({
				dataset,
				noise: null,
				random: null
			}))
		};
		this.announce();
		this.running = this.continue(run.id, itemId, params).finally(() => {
			this.running = null;
		});
		return this.state;
	}

	/** Resolves when the current quickstart has finished (for the CLI and tests). */
	async idle(): Promise<void> {
		await this.running;
	}

	private async continue(
		runId: number,
		itemId: number,
		params: z.output<typeof quickstartParamsSchema>
	): Promise<void> {
		try {
			await this.queue.settled(itemId);
			const run = this.training.get(runId).run;
			if (run.status !== 'completed') {
				this.finish(
					run.status === 'cancelled' ? 'cancelled' : 'failed',
					`Pretraining ended ${run.status}${run.error ? `: ${run.error}` : ''}.`
				);
				return;
			}
			for (const [index, dataset] of quickstartDefaults.datasets.entries()) {
				this.update({
					stage: 'evaluating',
					message: `Evaluating on ${dataset} (linear probe, with the random-init control)…`
				});
				const { groupId, evaluations } = this.evaluation.start(
					evaluateParamsSchema.parse({
						runId,
						dataset,
						protocol: 'linear',
						epochs: params.epochs,
						views: 2,
						randomInit: true
					})
				);
				this.update({ groupIds: [...(this.state?.groupIds ?? []), groupId] });
				await this.evaluation.idle();
				const stored = this.evaluation.list(runId).filter((e) => e.groupId === groupId);
				const top1 = (role: string) =>
					stored.find((e) => e.role === role && e.status === 'completed')?.metrics?.top1 ?? null;
				const failed = stored.find((e) => e.status !== 'completed');
				const results = [...(this.state?.results ?? [])];
				results[index] = { dataset, noise: top1('encoder'), random: top1('random-init') };
				this.update({ results });
				if (failed || evaluations.length === 0) {
					this.finish(
						'failed',
						`Evaluating on ${dataset} ${failed?.status ?? 'failed'}: ${failed?.error ?? 'no result'}`
					);
					return;
				}
			}
			this.finish('completed', `Done in ${Math.round(this.elapsed())} s.`);
		} catch (error) {
			this.finish('failed', (error as Error).message);
		}
	}

	private elapsed(): number {
		return (performance.now() - this.started) / 1000;
	}

	private update(change: Partial<QuickstartState>): void {
		if (!this.state) return;
		this.state = { ...this.state, ...change, seconds: this.elapsed() };
		this.announce();
	}

	private finish(stage: QuickstartState['stage'], message: string): void {
		this.update({ stage, message });
	}

	private announce(): void {
		if (this.state) this.events.emit('quickstart.changed', this.state);
	}
}
