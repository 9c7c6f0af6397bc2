/**
 * The Training lab's state: the runs list, the selected run's history and live progress, and
 * the New run form. Runs live in the service layer; this class mirrors them from `runs.list` and
 * `runs.get`, then keeps them current from the `runs.changed` and `runs.progress` events.
 */
import { describeError, type ShownError } from '../errors';
import { Latest } from '../request';
import type { ApiClient } from '../../../core/api/client';
import type { EvalDatasetInfo } from '../../../core/api/evaluation';
import type { PresetInfo } from '../../../core/api/generators';
import type {
	CheckpointRecord,
	MetricPoint,
	RunEstimate,
	RunEstimateProgress,
	RunProgress,
	RunRecord
} from '../../../core/api/training';
import {
	buildStartRequest,
	defaultRunForm,
	defaultSourcePreset,
	type FormErrors,
	type RunFormState
} from './run-form';
import type { FolderPicker } from '../folder-picker.svelte';
import type { RunsStore } from '../runs/runs-store.svelte';
import { mergeMetrics } from './series';

/** Datasets a run may train on: available real ones (structured tasks are generated for tests). */
export function trainableDatasets(datasets: readonly EvalDatasetInfo[]): EvalDatasetInfo[] {
	return datasets.filter((dataset) => dataset.available && dataset.kind !== 'structured');
}

/** What the right-hand side of the Train area shows. */
export type TrainView = { kind: 'new' } | { kind: 'run'; id: number };

/** All state of the Train page; created once by the shell so it survives navigation. */
export class TrainingState {
	view = $state<TrainView>({ kind: 'new' });

	/** The selected run's logged steps, ordered by step; replaced whole on every change. */
	metrics = $state.raw<MetricPoint[]>([]);
	checkpoints = $state.raw<CheckpointRecord[]>([]);
	detailLoading = $state(false);
	detailError = $state<ShownError | null>(null);
	/** The latest live progress per run id (ETA, epoch, phase). */
	progress = $state.raw<Record<number, RunProgress>>({});
	actionBusy = $state(false);
	actionError = $state<ShownError | null>(null);

	presets = $state.raw<PresetInfo[]>([]);
	form = $state<RunFormState>(defaultRunForm());
	formErrors = $state<FormErrors>({});
	formError = $state<ShownError | null>(null);
	starting = $state(false);
	estimating = $state(false);
	/** The last estimate, with the request it was measured for. */
	estimate = $state.raw<{ key: string; value: RunEstimate } | null>(null);
	estimateError = $state<ShownError | null>(null);
	/** The running estimate's latest stage (with when it arrived, for its countdown); null when idle. */
	estimateProgress = $state.raw<{ at: number; value: RunEstimateProgress } | null>(null);
	/** The last estimate was cancelled (until the next one or an edit). */
	estimateCancelled = $state(false);
	/** Tags this window's estimates, so that its progress events and cancel are its own. */
	private readonly estimateJob = `train-estimate-${Math.random().toString(36).slice(2, 10)}`;
	/** The datasets a run can train on (their training split): built-in and registered ones. */
	datasets = $state.raw<EvalDatasetInfo[]>([]);

	/** Bumped on every selection, so an answer for a previous selection is dropped. */
	private readonly detailRequest = new Latest();
	/** Whether the selected run's whole history has been fetched once (live points may precede it). */
	private historyComplete = false;
	private refreshTimer: ReturnType<typeof setTimeout> | null = null;
	/** A checkpoint is being written: the next training progress means it is recorded. */
	private checkpointPending = false;

	constructor(
		private readonly api: ApiClient,
		private readonly store: RunsStore,
		private readonly folders: FolderPicker
	) {
		store.onChange((run, previous) => this.recordChanged(run, previous));
		api.on('runs.progress', (progress) => this.applyProgress(progress));
		api.on('runs.estimateProgress', (progress) => {
			if (progress.jobId === this.estimateJob && this.estimating) {
				this.estimateProgress = { at: performance.now(), value: progress };
			}
		});
	}

	/** Every run, newest first (the shared store's). */
	get runs(): RunRecord[] {
		return this.store.runs;
	}

	/** Whether the runs list has been fetched once. */
	get listLoaded(): boolean {
		return this.store.loaded;
	}

	/** Why the runs list could not be fetched. */
	get listError(): ShownError | null {
		return this.store.error;
	}

	/** The selected run's record, live. */
	get selected(): RunRecord | null {
		const view = this.view;
		if (view.kind !== 'run') return null;
		return this.runs.find((run) => run.id === view.id) ?? null;
	}

	/** Loads the runs list and the generator presets; called on every (re)connection. */
	async load(): Promise<void> {
		const [, catalogue, datasets] = await Promise.all([
			this.store.load(),
			this.presets.length === 0 ? this.api.call('generators.catalogue', {}) : null,
			this.api.call('evaluations.datasets', {})
		]);
		if (datasets.ok) this.datasets = trainableDatasets(datasets.value);
		if (catalogue?.ok) {
			this.presets = catalogue.value.presets;
			const preset = this.presets.find((candidate) => candidate.name === this.form.preset);
			if (preset && this.form.preset === defaultSourcePreset) this.form.imageSize = preset.size;
		}
		if (this.view.kind === 'run') void this.refreshDetail();
	}

	/** Shows the New run form. */
	showNewRun(): void {
		this.view = { kind: 'new' };
		this.detailRequest.supersede();
	}

	/** Shows a run's dashboard and fetches its history. */
	select(id: number): void {
		if (this.view.kind === 'run' && this.view.id === id) return;
		this.view = { kind: 'run', id };
		this.metrics = [];
		this.checkpoints = [];
		this.historyComplete = false;
		this.detailError = null;
		this.actionError = null;
		void this.refreshDetail();
	}

	/** Picks a generator preset as the source; the image size follows the preset's own. */
	choosePreset(name: string): void {
		this.form.preset = name;
		const preset = this.presets.find((candidate) => candidate.name === name);
		if (preset) this.form.imageSize = preset.size;
	}

	/** Chooses the folder of a folder source, or a dataset folder for a dataset source. */
	async pickFolder(): Promise<void> {
		const dataset = this.form.sourceKind === 'dataset';
		const folder = await this.folders.choose(
			dataset ? 'Train on the training split of the dataset in…' : 'Train on the images in…'
		);
		if (folder === null) return;
		if (dataset) this.form.dataset = folder;
		else this.form.folderPath = folder;
	}

	/** Puts the form back to the paper's defaults. */
	resetForm(): void {
		const preset = this.presets.find((candidate) => candidate.name === defaultSourcePreset);
		this.form = defaultRunForm(preset?.size ?? 128);
		this.formErrors = {};
		this.formError = null;
	}

	/** The key an estimate is valid for: the validated request, or null while the form is invalid. */
	get formKey(): string | null {
		const built = buildStartRequest($state.snapshot(this.form));
		return built.ok ? JSON.stringify(built.request.config) : null;
	}

	/**
	 * Drops what answered an earlier version of the form (a refused start, a failed estimate), so
	 * errors neither stack nor outlive the settings they were about.
	 */
	clearStaleErrors(): void {
		this.formError = null;
		this.estimateError = null;
		this.estimateCancelled = false;
	}

	/** Measures the form's configuration with a short warm-up (`runs.estimate`). */
	async runEstimate(): Promise<void> {
		const built = buildStartRequest($state.snapshot(this.form));
		this.formErrors = built.ok ? {} : built.errors;
		this.clearStaleErrors();
		if (!built.ok) return;
		this.estimating = true;
		this.estimateProgress = null;
		const result = await this.api.call('runs.estimate', {
			config: built.request.config,
			jobId: this.estimateJob
		});
		this.estimating = false;
		this.estimateProgress = null;
		if (result.ok) {
			this.estimate = { key: JSON.stringify(built.request.config), value: result.value };
		} else if (result.error.code === 'CANCELLED') {
			this.estimateCancelled = true;
		} else {
			this.estimateError = describeError(result.error);
		}
	}

	/** Stops the running estimate; `runEstimate` then ends as cancelled. */
	async cancelEstimate(): Promise<void> {
		await this.api.call('runs.cancelEstimate', { jobId: this.estimateJob });
	}

	/** Validates the form, starts the run and shows its dashboard. */
	async start(): Promise<boolean> {
		const built = buildStartRequest($state.snapshot(this.form));
		this.formErrors = built.ok ? {} : built.errors;
		this.clearStaleErrors();
		if (!built.ok) return false;
		this.starting = true;
		const result = await this.api.call('runs.start', built.request);
		this.starting = false;
		if (!result.ok) {
			this.formError = describeError(result.error);
			return false;
		}
		this.store.apply(result.value);
		this.form.name = '';
		this.select(result.value.id);
		return true;
	}

	/** Pauses, resumes or cancels the selected run. */
	async control(action: 'pause' | 'resume' | 'cancel'): Promise<void> {
		const run = this.selected;
		if (!run) return;
		this.actionBusy = true;
		this.actionError = null;
		const result = await this.api.call(`runs.${action}`, { id: run.id });
		this.actionBusy = false;
		if (result.ok) this.store.apply(result.value);
		else this.actionError = describeError(result.error);
	}

	/**
	 * Fetches the selected run's record and checkpoints, and the metrics it does not have yet:
	 * all of them until one full fetch has succeeded, then those after the last one held.
	 */
	async refreshDetail(): Promise<void> {
		const view = this.view;
		if (view.kind !== 'run') return;
		const current = this.detailRequest.begin();
		const after = this.historyComplete ? (this.metrics.at(-1)?.step ?? -1) : -1;
		this.detailLoading = !this.historyComplete;
		const result = await this.api.call('runs.get', { id: view.id, metricsAfter: after });
		if (!current()) return; // The user selected something else meanwhile.
		this.detailLoading = false;
		if (!result.ok) {
			this.detailError = describeError(result.error);
			return;
		}
		this.detailError = null;
		this.store.apply(result.value.run);
		this.checkpoints = result.value.checkpoints;
		this.metrics = mergeMetrics(this.metrics, result.value.metrics);
		this.historyComplete = true;
	}

	private recordChanged(run: RunRecord, previous: RunRecord | undefined): void {
		const shown = this.view.kind === 'run' && this.view.id === run.id;
		if (!shown || !previous || previous.status === run.status) return;
		// A resumed run was rewound to its checkpoint: the steps after it will be trained again.
		if (run.status === 'running')
			this.metrics = this.metrics.filter((point) => point.step <= run.step);
		// A run that stops has written its last checkpoint and metrics: fetch what is missing.
		this.scheduleRefresh(0);
	}

	private applyProgress(progress: RunProgress): void {
		this.progress = { ...this.progress, [progress.runId]: progress };
		if (this.view.kind !== 'run' || this.view.id !== progress.runId) return;
		if (progress.points.length > 0) this.metrics = mergeMetrics(this.metrics, progress.points);
		// The checkpoint list changes only after a checkpoint, so it is fetched then, not per step:
		// at the first progress after "checkpointing", which the trainer sends only once the file
		// is written and the service has recorded it (a timer could fire before that on a slow disk).
		if (progress.phase === 'checkpointing') this.checkpointPending = true;
		else if (this.checkpointPending && progress.phase === 'training') {
			this.checkpointPending = false;
			this.scheduleRefresh(0);
		}
	}

	private scheduleRefresh(delayMs: number): void {
		if (this.refreshTimer) clearTimeout(this.refreshTimer);
		this.refreshTimer = setTimeout(() => {
			this.refreshTimer = null;
			void this.refreshDetail();
		}, delayMs);
	}
}
