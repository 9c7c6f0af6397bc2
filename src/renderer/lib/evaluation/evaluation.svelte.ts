/**
 * The Evaluate area's state: the runs and datasets to choose from, the form, the stored
 * evaluations (grouped into rows) and the live progress of running groups. Mirrors the service
 * layer through `evaluations.list` / `runs.list` and keeps current from their events.
 */
import { describeError, type ShownError } from '../errors';
import { Latest } from '../request';
import type { ApiClient } from '../../../core/api/client';
import type {
	EvalDatasetInfo,
	EvaluationProgress,
	EvaluationRecord
} from '../../../core/api/evaluation';
import type { RunRecord } from '../../../core/api/training';
import type { FolderPicker } from '../folder-picker.svelte';
import type { RunsStore } from '../runs/runs-store.svelte';
import {
	buildEvaluateRequest,
	defaultEvalForm,
	pickDefaultDataset,
	pickDefaultRun,
	realControlRequest,
	type EvalFormErrors,
	type EvalFormState
} from './eval-form';
import { groupEvaluations, upsertEvaluation, type EvaluationGroupRow } from './results';

/** What is known of the chosen run's checkpoints. */
export type CheckpointCheck =
	| { kind: 'unknown' }
	| { kind: 'checking'; runId: number }
	| { kind: 'ready'; runId: number; step: number }
	| { kind: 'none'; runId: number }
	| { kind: 'error'; runId: number; message: string };

/** All state of the Evaluate page; created once by the shell so it survives navigation. */
export class EvaluationState {
	datasets = $state.raw<EvalDatasetInfo[]>([]);
	evaluations = $state.raw<EvaluationRecord[]>([]);
	/** Evaluations grouped into the results table's rows, newest first. */
	readonly rows: EvaluationGroupRow[] = $derived(groupEvaluations(this.evaluations));
	loaded = $state(false);
	loadError = $state<ShownError | null>(null);
	/** When each evaluation's current phase began (performance.now ms), for its time left. */
	phaseStarted = $state.raw<Record<number, number>>({});
	/** The latest progress per evaluation id. */
	progress = $state.raw<Record<number, EvaluationProgress>>({});
	/** The group the chart shows; null picks the newest. */
	selectedGroupId = $state<string | null>(null);

	form = $state<EvalFormState>(defaultEvalForm());
	formErrors = $state<EvalFormErrors>({});
	formError = $state<ShownError | null>(null);
	starting = $state(false);
	checkpoint = $state<CheckpointCheck>({ kind: 'unknown' });
	cancelling = $state<string | null>(null);

	/** "Train the real-data control": starting, and what came of it. */
	controlStarting = $state(false);
	controlNotice = $state<{ ok: boolean; text: string } | null>(null);
	registerPath = $state('');
	registering = $state(false);
	registerError = $state<ShownError | null>(null);
	registerNotice = $state<string | null>(null);

	/** Whether the user has touched the run or dataset choice (then a reload keeps it). */
	private chosen = false;
	private readonly checkRequest = new Latest();

	constructor(
		private readonly api: ApiClient,
		private readonly store: RunsStore,
		private readonly folders: FolderPicker
	) {
		api.on('evaluations.changed', (record) => {
			this.evaluations = upsertEvaluation(this.evaluations, record);
		});
		api.on('evaluations.progress', (progress) => {
			const previous = this.progress[progress.evaluationId];
			if (previous?.phase !== progress.phase) {
				this.phaseStarted = { ...this.phaseStarted, [progress.evaluationId]: performance.now() };
			}
			this.progress = { ...this.progress, [progress.evaluationId]: progress };
		});
		store.onChange((run) => {
			if (this.form.runId === run.id && this.checkpoint.kind !== 'ready') this.checkRun(run.id);
			if (!this.chosen && this.form.runId === null) this.proposeDefaults();
		});
	}

	/** The group the chart shows: the selected one, else the newest. */
	get selectedRow(): EvaluationGroupRow | null {
		const rows = this.rows;
		return rows.find((row) => row.groupId === this.selectedGroupId) ?? rows[0] ?? null;
	}

	/** Rows still running, for the progress panel. */
	get runningRows(): EvaluationGroupRow[] {
		return this.rows.filter((row) => row.status === 'running');
	}

	/** Every run, newest first (the shared store's). */
	get runs(): RunRecord[] {
		return this.store.runs;
	}

	/** A run's name, for tables; `run N` when it is not known here. */
	runName(id: number): string {
		return this.runs.find((run) => run.id === id)?.name ?? `run ${id}`;
	}

	/** Loads runs, datasets and evaluations; called on every (re)connection. */
	async load(): Promise<void> {
		const [, datasets, evaluations] = await Promise.all([
			this.store.load(),
			this.api.call('evaluations.datasets', {}),
			this.api.call('evaluations.list', {})
		]);
		const failure = [datasets, evaluations].find((result) => !result.ok);
		this.loadError =
			failure && !failure.ok ? describeError(failure.error) : (this.store.error ?? null);
		if (datasets.ok) this.datasets = datasets.value;
		if (evaluations.ok) this.evaluations = evaluations.value;
		this.loaded = true;
		if (!this.chosen) this.proposeDefaults();
		else if (this.form.runId !== null) this.checkRun(this.form.runId);
	}

	/** Chooses the run to evaluate and checks that it has a checkpoint. */
	chooseRun(id: number | null): void {
		this.chosen = true;
		this.form.runId = id;
		if (this.form.realRunId === id) this.form.realRunId = null;
		if (id === null) this.checkpoint = { kind: 'unknown' };
		else this.checkRun(id);
	}

	/** Chooses the dataset. */
	chooseDataset(name: string): void {
		this.chosen = true;
		this.form.dataset = name;
	}

	/** Puts the form back to the paper's defaults, keeping the chosen run and dataset. */
	resetForm(): void {
		this.form = defaultEvalForm(this.form.runId, this.form.dataset);
		this.formErrors = {};
		this.formError = null;
	}

	/** Shows a group in the chart. */
	selectGroup(groupId: string): void {
		this.selectedGroupId = groupId;
	}

	/** Validates the form and starts the evaluation group. */
	async start(): Promise<boolean> {
		const built = buildEvaluateRequest($state.snapshot(this.form));
		this.formErrors = built.ok ? {} : built.errors;
		this.formError = null;
		if (!built.ok) return false;
		this.starting = true;
		const result = await this.api.call('evaluations.start', built.request);
		this.starting = false;
		if (!result.ok) {
			this.formError = describeError(result.error);
			return false;
		}
		for (const record of result.value.evaluations) {
			this.evaluations = upsertEvaluation(this.evaluations, record);
		}
		this.selectedGroupId = result.value.groupId;
		return true;
	}

	/** Stops a running group. */
	async cancel(groupId: string): Promise<void> {
		this.cancelling = groupId;
		const result = await this.api.call('evaluations.cancel', { groupId });
		this.cancelling = null;
		if (!result.ok) this.formError = describeError(result.error);
	}

	/** Chooses a folder (the system dialog, or the host's folders in web mode), then registers it. */
	async pickFolder(): Promise<void> {
		const folder = await this.folders.choose('Register a dataset folder');
		if (folder === null) return;
		this.registerPath = folder;
		await this.registerDataset();
	}

	/**
	 * Starts the real-data control of the chosen run (see {@link realControlRequest}) through the
	 * work queue, and proposes it as the form's real-data run.
	 */
	async trainRealControl(): Promise<void> {
		const run = this.runs.find((candidate) => candidate.id === this.form.runId) ?? null;
		const built = realControlRequest(run, $state.snapshot(this.form));
		if (!built.ok) {
			this.controlNotice = { ok: false, text: built.reason };
			return;
		}
		this.controlStarting = true;
		const started = await this.api.call('runs.start', built.request);
		this.controlStarting = false;
		if (!started.ok) {
			const { message, hint } = describeError(started.error);
			this.controlNotice = { ok: false, text: `${message} ${hint}` };
			return;
		}
		const control = started.value;
		this.store.apply(control);
		this.form.realRunId = control.id;
		this.controlNotice = {
			ok: true,
			text: `Started run ${control.id} “${control.name}” (see Train). Evaluate again once it completes: it is chosen as the real-data run.`
		};
	}

	/** Checks the folder in `registerPath` in a worker and, when it is usable, chooses it. */
	async registerDataset(): Promise<void> {
		const folder = this.registerPath.trim();
		this.registerNotice = null;
		if (folder === '') {
			this.registerError = {
				message: 'Enter the folder’s absolute path.',
				hint: 'The folder holds one sub-folder per class, or CIFAR binary or MNIST IDX files.'
			};
			return;
		}
		this.registering = true;
		this.registerError = null;
		const result = await this.api.call('evaluations.registerDataset', { path: folder });
		this.registering = false;
		if (!result.ok) {
			// The code's generic hint ("refresh the list") does not fit a folder; say what does.
			this.registerError = {
				message: result.error.message,
				hint: 'Give an absolute path on the machine that runs NoiseLab, to a folder with one sub-folder per class, or CIFAR binary or MNIST IDX files.'
			};
			return;
		}
		const info = result.value;
		this.datasets = [...this.datasets.filter((dataset) => dataset.name !== info.name), info];
		this.chooseDataset(info.name);
		this.registerPath = '';
		this.registerNotice = `Registered ${info.description}: ${info.classes?.length ?? '?'} classes, ${info.trainCount ?? '?'} train and ${info.testCount ?? '?'} test images. ${info.detail}`;
	}

	private proposeDefaults(): void {
		const runId = pickDefaultRun(this.runs);
		this.form.runId = runId;
		this.form.dataset = pickDefaultDataset(this.datasets);
		if (runId !== null) this.checkRun(runId);
	}

	private checkRun(runId: number): void {
		const current = this.checkRequest.begin();
		this.checkpoint = { kind: 'checking', runId };
		const run = this.runs.find((candidate) => candidate.id === runId);
		// Only the checkpoints are wanted: asking for metrics after the last step returns none.
		void this.api.call('runs.get', { id: runId, metricsAfter: run?.step ?? 0 }).then((result) => {
			if (!current()) return;
			if (!result.ok) {
				this.checkpoint = { kind: 'error', runId, message: result.error.message };
				return;
			}
			const last = result.value.checkpoints.at(-1);
			this.checkpoint = last ? { kind: 'ready', runId, step: last.step } : { kind: 'none', runId };
		});
	}
}
