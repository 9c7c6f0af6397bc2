/**
 * The quickstart as the UI follows it: one call starts the paper's loop at laptop scale, then
 * `quickstart.changed` reports each stage, `runs.progress` the pretraining's steps and
 * `evaluations.progress` its evaluations' phases.
 */
import { describeError, type ShownError } from '../errors';
import type { ApiClient } from '../../../core/api/client';
import type {
	EvaluationProgress,
	EvaluationRecord,
	EvaluationRole
} from '../../../core/api/evaluation';
import type { QuickstartState } from '../../../core/api/quickstart';

/** An evaluation as the quickstart follows it: its status, latest progress and phase start. */
export interface LiveEvaluation {
	status: EvaluationRecord['status'];
	progress: EvaluationProgress | null;
	/** `performance.now()` when its current phase began (for the time left). */
	phaseStarted: number;
}

/** Stages during which the quickstart is still working. */
const activeStages: readonly QuickstartState['stage'][] = ['pretraining', 'evaluating'];

/** The latest quickstart of this server session; created once by the shell. */
export class QuickstartSession {
	state = $state.raw<QuickstartState | null>(null);
	/** `performance.now()` when {@link state} arrived, so elapsed time ticks on between events. */
	receivedAt = $state(0);
	/** The pretraining's progress, from `runs.progress`. */
	pretraining = $state.raw<{ step: number; steps: number } | null>(null);
	/** The latest progress of each evaluation, by group id and role (all the quickstart's). */
	evaluations = $state.raw<Record<string, Partial<Record<EvaluationRole, LiveEvaluation>>>>({});
	starting = $state(false);
	error = $state<ShownError | null>(null);

	constructor(private readonly api: ApiClient) {
		api.on('quickstart.changed', (state) => this.apply(state));
		api.on('runs.progress', (progress) => {
			if (progress.runId !== this.state?.runId) return;
			this.pretraining = { step: progress.step, steps: progress.steps };
		});
		// Kept for every group: a group's first events can arrive before the state that names it.
		api.on('evaluations.changed', (record) =>
			this.follow(record.groupId, record.role, (live) => ({
				status: record.status,
				progress: live?.progress ?? null,
				phaseStarted: live?.phaseStarted ?? performance.now()
			}))
		);
		api.on('evaluations.progress', (progress) =>
			this.follow(progress.groupId, progress.role, (live) => ({
				status: live?.status ?? 'running',
				progress,
				phaseStarted:
					live?.progress?.phase === progress.phase ? live.phaseStarted : performance.now()
			}))
		);
	}

	private follow(
		groupId: string,
		role: EvaluationRole,
		next: (live: LiveEvaluation | undefined) => LiveEvaluation
	): void {
		const group = this.evaluations[groupId] ?? {};
		this.evaluations = { ...this.evaluations, [groupId]: { ...group, [role]: next(group[role]) } };
	}

	/** The group being evaluated now (the newest the quickstart started), or null. */
	get currentGroup(): string | null {
		return this.state?.stage === 'evaluating' ? (this.state.groupIds.at(-1) ?? null) : null;
	}

	/** Whether a quickstart is running now. */
	get active(): boolean {
		return this.state !== null && activeStages.includes(this.state.stage);
	}

	/** Seconds since the quickstart started, ticking while it runs; `now` is `performance.now()`. */
	elapsedAt(now: number): number {
		const state = this.state;
		if (!state) return 0;
		if (!this.active) return state.seconds;
		return state.seconds + Math.max(0, now - this.receivedAt) / 1000;
	}

	/** Fetches the session's latest quickstart; called on every (re)connection. */
	async load(): Promise<void> {
		const result = await this.api.call('quickstart.status', {});
		if (result.ok && result.value) this.apply(result.value);
	}

	/** Starts the quickstart with its defaults. */
	async start(): Promise<void> {
		this.starting = true;
		this.error = null;
		this.pretraining = null;
		this.evaluations = {};
		const result = await this.api.call('quickstart.start', {});
		this.starting = false;
		if (result.ok) this.apply(result.value);
		else this.error = describeError(result.error);
	}

	private apply(state: QuickstartState): void {
		// Events can overtake the answer to `quickstart.start`; never step back to an older state.
		const current = this.state;
		if (current && current.startedAt === state.startedAt) {
			if (state.seconds < current.seconds) return;
			// `quickstart.status` keeps counting after the end; the finishing event's time is the total.
			if (!activeStages.includes(current.stage)) return;
		}
		this.state = state;
		this.receivedAt = performance.now();
	}
}
