/**
 * The Runs area's state: every run with its evaluations, the table's filter and sort, the runs
 * picked for a comparison and their metric histories. Mirrors `runs.list` and `evaluations.list`,
 * then keeps current from the `runs.changed`, `runs.progress` and `evaluations.changed` events.
 */
import { describeError, type ShownError } from '../errors';
import { Latest } from '../request';
import type { ApiClient } from '../../../core/api/client';
import type { FolderPicker } from '../folder-picker.svelte';
import type { RunsStore } from './runs-store.svelte';
import type { EvaluationRecord } from '../../../core/api/evaluation';
import type { ExportEncoderResult, ImportEncoderParams } from '../../../core/api/interop';
import type { MetricPoint, RunRecord } from '../../../core/api/training';
import {
	accuracyColumns,
	buildRows,
	emptyFilter,
	filterRows,
	nextSortOrder,
	sortRows,
	type RunFilter,
	type SortKey,
	type SortOrder
} from '../../../core/history/table';

/** What deleting a run removes, for its confirmation dialog. */
export interface DeleteImpact {
	checkpoints: number;
	checkpointBytes: number;
	metricSteps: number;
	/** Evaluations of this run's encoder and of its random-init control. */
	evaluations: number;
	/** Evaluations of other runs in which this run served as the real-data control. */
	asRealControl: number;
}

/** What writing or reading a bundle came to: its result, or the error to show. */
export type BundleOutcome<T> = { ok: true; value: T } | { ok: false; error: ShownError };

/** All state of the Runs page; created once by the shell so it survives navigation. */
export class RunsState {
	evaluations = $state.raw<EvaluationRecord[]>([]);
	loaded = $state(false);
	loadError = $state<ShownError | null>(null);
	filter = $state<RunFilter>({ ...emptyFilter });
	sort = $state<SortOrder>({ key: 'date', direction: 'desc' });
	/** Runs ticked for a comparison, in the order they were ticked. */
	selectedIds = $state.raw<number[]>([]);
	/** The runs being compared (a snapshot of the selection when Compare was pressed). */
	compareIds = $state.raw<number[]>([]);
	metricsByRun = $state.raw<Record<number, MetricPoint[]>>({});
	compareLoading = $state(false);
	compareError = $state<ShownError | null>(null);
	actionError = $state<ShownError | null>(null);
	/** The folder the last bundle was written into, offered again by the next Bundle dialog. */
	bundleFolder = $state('');
	/** The last bundle written, offered by the Import dialog (to check a bundle round-trips). */
	lastBundlePath = $state('');
	/** A folder can always be chosen: the system dialog, or the host's folders in web mode. */
	readonly folderPickerSupported = true;

	/** The accuracy columns: every (dataset, protocol) with a completed encoder evaluation. */
	readonly columns = $derived(accuracyColumns(this.evaluations));
	/** Every run as a row, unfiltered. */
	readonly allRows = $derived(buildRows(this.runs, this.evaluations));
	/** The rows shown: filtered, then sorted. */
	readonly rows = $derived(sortRows(filterRows(this.allRows, this.filter), this.sort));
	/** The compared runs, in the order they were ticked (live records). */
	readonly compared = $derived(
		this.compareIds
			.map((id) => this.runs.find((run) => run.id === id))
			.filter((run): run is RunRecord => run !== undefined)
	);

	private readonly compareRequest = new Latest();

	constructor(
		private readonly api: ApiClient,
		private readonly store: RunsStore,
		private readonly folders: FolderPicker
	) {
		api.on('evaluations.changed', (evaluation) => {
			const rest = this.evaluations.filter((candidate) => candidate.id !== evaluation.id);
			this.evaluations = [evaluation, ...rest];
		});
	}

	/** Every run, newest first (the shared store's). */
	get runs(): RunRecord[] {
		return this.store.runs;
	}

	/** Loads the runs and every evaluation; called on every (re)connection. */
	async load(): Promise<void> {
		const [listed, evaluations] = await Promise.all([
			this.store.load(),
			this.api.call('evaluations.list', {})
		]);
		this.loaded = true;
		if (!listed) {
			this.loadError = this.store.error;
			return;
		}
		if (!evaluations.ok) {
			this.loadError = describeError(evaluations.error);
			return;
		}
		this.loadError = null;
		this.evaluations = evaluations.value;
		const ids = this.runs.map((run) => run.id);
		this.selectedIds = this.selectedIds.filter((id) => ids.includes(id));
		if (this.compareIds.length > 0) void this.fetchMetrics();
	}

	/** Sorts by a column, or flips its order when it is already the sort column. */
	sortBy(key: SortKey): void {
		this.sort = nextSortOrder(this.sort, key);
	}

	/** Ticks or unticks a run for the comparison. */
	toggleSelected(id: number): void {
		this.selectedIds = this.selectedIds.includes(id)
			? this.selectedIds.filter((selected) => selected !== id)
			: [...this.selectedIds, id];
	}

	/** Ticks every shown run, or unticks them all when all are ticked. */
	toggleAllShown(): void {
		const shown = this.rows.map((row) => row.run.id);
		const allTicked = shown.length > 0 && shown.every((id) => this.selectedIds.includes(id));
		this.selectedIds = allTicked
			? this.selectedIds.filter((id) => !shown.includes(id))
			: [...this.selectedIds, ...shown.filter((id) => !this.selectedIds.includes(id))];
	}

	/** Compares the ticked runs (two or more) and fetches their metric histories. */
	async compare(): Promise<void> {
		if (this.selectedIds.length < 2) return;
		this.compareIds = [...this.selectedIds];
		await this.fetchMetrics();
	}

	/** Closes the comparison. */
	closeComparison(): void {
		this.compareIds = [];
		this.compareRequest.supersede();
		this.compareError = null;
	}

	/** Renames a run; false (with `actionError` set) when the API refused. */
	rename(id: number, name: string): Promise<boolean> {
		return this.update(id, { name: name.trim() });
	}

	/** Replaces a run's tags. */
	setTags(id: number, tags: string[]): Promise<boolean> {
		return this.update(id, { tags });
	}

	/** Replaces a run's notes. */
	setNotes(id: number, notes: string): Promise<boolean> {
		return this.update(id, { notes });
	}

	/** What deleting a run would remove: its checkpoints, metrics and evaluations. */
	async deleteImpact(id: number): Promise<DeleteImpact | ShownError> {
		const detail = await this.api.call('runs.get', { id, metricsAfter: -1 });
		if (!detail.ok) return describeError(detail.error);
		const own = this.evaluations.filter((evaluation) => evaluation.runId === id);
		return {
			checkpoints: detail.value.checkpoints.length,
			checkpointBytes: detail.value.checkpoints.reduce((sum, file) => sum + file.bytes, 0),
			metricSteps: detail.value.metrics.length,
			evaluations: own.filter((evaluation) => evaluation.role !== 'real').length,
			asRealControl: own.filter((evaluation) => evaluation.role === 'real').length
		};
	}

	/** Deletes a run with its files and evaluations. */
	async remove(id: number): Promise<boolean> {
		this.actionError = null;
		const result = await this.api.call('runs.delete', { id });
		if (!result.ok) {
			this.actionError = describeError(result.error);
			return false;
		}
		this.store.remove(id);
		// The database drops them with the run (ON DELETE CASCADE); no event says so.
		this.evaluations = this.evaluations.filter((evaluation) => evaluation.runId !== id);
		this.selectedIds = this.selectedIds.filter((selected) => selected !== id);
		this.compareIds = this.compareIds.filter((compared) => compared !== id);
		if (this.compareIds.length < 2) this.closeComparison();
		return true;
	}

	/** Chooses a folder on the machine running NoiseLab; null when none was chosen. */
	pickFolder(title: string): Promise<string | null> {
		return this.folders.choose(title);
	}

	/** Writes run `id` into the bundle file `path` (absolute, on the machine running NoiseLab). */
	async exportBundle(
		id: number,
		path: string,
		folder: string
	): Promise<BundleOutcome<{ path: string; bytes: number }>> {
		const result = await this.api.call('runs.exportBundle', { id, path });
		if (!result.ok) return { ok: false, error: describeError(result.error) };
		this.bundleFolder = folder;
		this.lastBundlePath = result.value.path;
		return { ok: true, value: result.value };
	}

	/** Adds the run of the bundle file `path` as a new run; the list then shows it. */
	async importBundle(path: string): Promise<BundleOutcome<RunRecord>> {
		const result = await this.api.call('runs.importBundle', { path });
		if (!result.ok) return { ok: false, error: describeError(result.error) };
		const run = result.value;
		this.store.apply(run);
		// `runs.changed` brings the run, but nothing announces the evaluations the bundle carried.
		await this.load();
		return { ok: true, value: run };
	}

	/** Imports a PyTorch or safetensors checkpoint as an external encoder; the list then shows it. */
	async importEncoder(params: ImportEncoderParams): Promise<BundleOutcome<RunRecord>> {
		const result = await this.api.call('runs.importEncoder', params);
		if (!result.ok) return { ok: false, error: describeError(result.error) };
		const run = result.value;
		this.store.apply(run);
		return { ok: true, value: run };
	}

	/** Writes run `id`'s encoder for PyTorch into `folder` (absolute, new or empty). */
	async exportEncoder(id: number, folder: string): Promise<BundleOutcome<ExportEncoderResult>> {
		const result = await this.api.call('runs.exportEncoder', { id, folder });
		if (!result.ok) return { ok: false, error: describeError(result.error) };
		return { ok: true, value: result.value };
	}

	private async update(
		id: number,
		change: { name?: string; tags?: string[]; notes?: string }
	): Promise<boolean> {
		this.actionError = null;
		const result = await this.api.call('runs.update', { id, ...change });
		if (!result.ok) {
			this.actionError = describeError(result.error);
			return false;
		}
		this.store.apply(result.value);
		return true;
	}

	private async fetchMetrics(): Promise<void> {
		const current = this.compareRequest.begin();
		const ids = [...this.compareIds];
		this.compareLoading = true;
		this.compareError = null;
		const results = await Promise.all(
			ids.map((id) => this.api.call('runs.get', { id, metricsAfter: -1 }))
		);
		if (!current()) return; // Another comparison started meanwhile.
		this.compareLoading = false;
		const metrics: Record<number, MetricPoint[]> = {};
		results.forEach((result, index) => {
			const id = ids[index];
			if (id === undefined) return;
			if (result.ok) metrics[id] = result.value.metrics;
			else this.compareError = describeError(result.error);
		});
		this.metricsByRun = metrics;
	}
}
