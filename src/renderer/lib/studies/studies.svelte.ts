/**
 * The Studies area's state: the studies list, the selected study (plan, runs, results), the
 * work queue, and the New study form with its measured estimate. Mirrors the service layer and
 * keeps current from `queue.changed`, `queue.progress`, `studies.changed` and the run and
 * evaluation events.
 */
import { describeError, type ShownError } from '../errors';
import { Latest } from '../request';
import type { ApiClient } from '../../../core/api/client';
import type { EvalDatasetInfo } from '../../../core/api/evaluation';
import type {
	QueueState,
	StudyDetail,
	StudyEstimate,
	StudyRecord
} from '../../../core/api/studies';
import {
	budgetFields,
	buildStudySpec,
	defaultStudyForm,
	type BudgetInfo,
	type StudyFormErrors,
	type StudyFormState,
	type TemplateInfo
} from './study-form';

/** What the right-hand side shows. */
export type StudiesView = { kind: 'new' } | { kind: 'study'; id: number } | { kind: 'queue' };

/** All state of the Studies page; created once by the shell so it survives navigation. */
export class StudiesState {
	templates = $state.raw<TemplateInfo[]>([]);
	budgets = $state.raw<BudgetInfo[]>([]);
	datasets = $state.raw<EvalDatasetInfo[]>([]);
	studies = $state.raw<StudyRecord[]>([]);
	loaded = $state(false);
	loadError = $state<ShownError | null>(null);
	view = $state<StudiesView>({ kind: 'new' });

	detail = $state.raw<StudyDetail | null>(null);
	detailError = $state<ShownError | null>(null);
	queue = $state.raw<QueueState | null>(null);
	queueError = $state<ShownError | null>(null);
	/** Live progress of running items, by item id. */
	progress = $state.raw<Record<number, { done: number; total: number; message: string }>>({});

	form = $state<StudyFormState | null>(null);
	formErrors = $state<StudyFormErrors>({});
	estimating = $state(false);
	estimateProgress = $state<{ done: number; total: number; message: string } | null>(null);
	/** The last estimate, with the spec it was measured for. */
	estimate = $state.raw<{ key: string; value: StudyEstimate } | null>(null);
	estimateError = $state<ShownError | null>(null);
	creating = $state(false);
	createError = $state<ShownError | null>(null);
	actionError = $state<ShownError | null>(null);

	private detailTimer: ReturnType<typeof setTimeout> | null = null;
	private readonly detailRequest = new Latest();

	constructor(private readonly api: ApiClient) {
		api.on('queue.changed', (queue) => {
			this.queue = queue;
			this.scheduleRefresh();
		});
		api.on('queue.progress', (progress) => {
			this.progress = { ...this.progress, [progress.itemId]: progress };
		});
		api.on('studies.changed', () => void this.loadList());
		api.on('studies.estimateProgress', (progress) => {
			if (this.estimating) this.estimateProgress = progress;
		});
		api.on('evaluations.changed', () => this.scheduleRefresh());
		api.on('runs.changed', () => this.scheduleRefresh());
	}

	/** The selected template, budget and the spec the form builds (or its errors). */
	get template(): TemplateInfo | undefined {
		return this.templates.find((template) => template.id === this.form?.templateId);
	}

	get budget(): BudgetInfo | undefined {
		return this.budgets.find((budget) => budget.id === this.form?.budgetId);
	}

	/** The key an estimate is valid for: the built spec, or null while the form is invalid. */
	get formKey(): string | null {
		const built = this.build();
		return built?.ok ? JSON.stringify(built.spec) : null;
	}

	/** Loads templates, datasets, studies and the queue; called on every (re)connection. */
	async load(): Promise<void> {
		const [templates, datasets] = await Promise.all([
			this.api.call('studies.templates', {}),
			this.api.call('evaluations.datasets', {})
		]);
		if (templates.ok) {
			this.templates = templates.value.templates;
			this.budgets = templates.value.budgets;
			const [template] = this.templates;
			const budget = this.budgets.find((candidate) => candidate.id === 'sketch') ?? this.budgets[0];
			if (!this.form && template && budget) this.form = defaultStudyForm(template, budget);
		} else {
			this.loadError = describeError(templates.error);
		}
		if (datasets.ok) this.datasets = datasets.value;
		await Promise.all([this.loadList(), this.loadQueue()]);
		this.loaded = true;
		if (this.view.kind === 'study') void this.refreshDetail();
	}

	showNew(): void {
		this.view = { kind: 'new' };
	}

	showQueue(): void {
		this.view = { kind: 'queue' };
		void this.loadQueue();
	}

	select(id: number): void {
		if (this.view.kind !== 'study' || this.view.id !== id) this.detail = null;
		this.view = { kind: 'study', id };
		this.actionError = null;
		void this.refreshDetail();
	}

	/** Picks a budget: its numbers replace the form's. */
	chooseBudget(id: string): void {
		const budget = this.budgets.find((candidate) => candidate.id === id);
		if (this.form && budget) Object.assign(this.form, budgetFields(budget));
	}

	/** Ticks every available source of the template, or none. */
	chooseAll(chosen: boolean): void {
		const template = this.template;
		if (!this.form || !template) return;
		for (const source of template.sources) {
			this.form.chosen[source.preset] = chosen && source.unavailable === null;
		}
	}

	/** Measures the form's study: a training warm-up and every generator's speed. */
	async runEstimate(): Promise<void> {
		const built = this.build();
		if (!built) return;
		this.formErrors = built.ok ? {} : built.errors;
		if (!built.ok) return;
		this.estimating = true;
		this.estimateError = null;
		this.estimateProgress = null;
		const result = await this.api.call('studies.estimate', { spec: built.spec });
		this.estimating = false;
		this.estimateProgress = null;
		if (result.ok) this.estimate = { key: JSON.stringify(built.spec), value: result.value };
		else this.estimateError = describeError(result.error);
	}

	/** Creates the study with the estimate shown, queues its work and opens it. */
	async create(): Promise<boolean> {
		const built = this.build();
		if (!built) return false;
		this.formErrors = built.ok ? {} : built.errors;
		if (!built.ok) return false;
		const key = JSON.stringify(built.spec);
		const estimate = this.estimate?.key === key ? this.estimate.value : null;
		this.creating = true;
		this.createError = null;
		const result = await this.api.call('studies.create', { spec: built.spec, estimate });
		this.creating = false;
		if (!result.ok) {
			this.createError = describeError(result.error);
			return false;
		}
		this.detail = result.value;
		await this.loadList();
		this.view = { kind: 'study', id: result.value.study.id };
		return true;
	}

	/** Deletes the selected study (its runs stay). */
	async deleteStudy(id: number): Promise<void> {
		const result = await this.api.call('studies.delete', { id });
		if (!result.ok) {
			this.actionError = describeError(result.error);
			return;
		}
		this.detail = null;
		this.view = { kind: 'new' };
		await this.loadList();
	}

	/** Queues what a study still lacks. */
	async requeue(id: number): Promise<void> {
		const result = await this.api.call('studies.requeue', { id });
		if (result.ok) this.detail = result.value;
		else this.actionError = describeError(result.error);
	}

	/** A queue action: move, cancel, retry, pause or resume all. */
	async queueAction(
		action:
			| { kind: 'move'; id: number; index: number }
			| { kind: 'cancel'; id: number }
			| { kind: 'retry'; id: number }
			| { kind: 'pause'; paused: boolean }
	): Promise<void> {
		this.queueError = null;
		const result =
			action.kind === 'move'
				? await this.api.call('queue.move', { id: action.id, index: action.index })
				: action.kind === 'cancel'
					? await this.api.call('queue.cancel', { id: action.id })
					: action.kind === 'retry'
						? await this.api.call('queue.retry', { id: action.id })
						: await this.api.call('queue.setPaused', { paused: action.paused });
		if (!result.ok) this.queueError = describeError(result.error);
		else void this.loadQueue();
	}

	/** A study export as a file: CSV, LaTeX, the figure as SVG, or JSON. */
	async exportFile(
		id: number,
		format: 'csv' | 'latex' | 'svg' | 'json',
		target?: string
	): Promise<{ fileName: string; mimeType: string; content: string } | null> {
		const result = await this.api.call('studies.export', {
			id,
			format,
			...(target === undefined ? {} : { target })
		});
		if (result.ok) return result.value;
		this.actionError = describeError(result.error);
		return null;
	}

	/** Writes the study bundle into a folder on the machine running NoiseLab. */
	async exportBundle(
		id: number,
		folder: string
	): Promise<{ ok: true; summary: string } | { ok: false; error: ShownError }> {
		const result = await this.api.call('studies.exportBundle', { id, path: folder });
		if (!result.ok) return { ok: false, error: describeError(result.error) };
		const { runs, skipped, path } = result.value;
		return {
			ok: true,
			summary: `Wrote ${runs} run bundle${runs === 1 ? '' : 's'} and study.json to ${path}.${skipped.length > 0 ? ` Left out: ${skipped.join('; ')}.` : ''}`
		};
	}

	async refreshDetail(): Promise<void> {
		const view = this.view;
		if (view.kind !== 'study') return;
		const current = this.detailRequest.begin();
		const result = await this.api.call('studies.get', { id: view.id });
		if (!current()) return;
		if (result.ok) {
			this.detail = result.value;
			this.detailError = null;
			this.studies = this.studies.map((study) =>
				study.id === result.value.study.id ? result.value.study : study
			);
		} else {
			this.detailError = describeError(result.error);
		}
	}

	private build() {
		const template = this.template;
		const budget = this.budget;
		if (!this.form || !template || !budget) return null;
		return buildStudySpec($state.snapshot(this.form), template, budget);
	}

	private async loadList(): Promise<void> {
		const result = await this.api.call('studies.list', {});
		if (result.ok) {
			this.studies = result.value;
			this.loadError = null;
		} else {
			this.loadError = describeError(result.error);
		}
	}

	private async loadQueue(): Promise<void> {
		const result = await this.api.call('queue.state', {});
		if (result.ok) this.queue = result.value;
		else this.queueError = describeError(result.error);
	}

	/** Study details and the list change with the queue; fetched at most a few times a second. */
	private scheduleRefresh(): void {
		if (this.detailTimer) return;
		this.detailTimer = setTimeout(() => {
			this.detailTimer = null;
			void this.loadList();
			void this.refreshDetail();
		}, 400);
	}
}
