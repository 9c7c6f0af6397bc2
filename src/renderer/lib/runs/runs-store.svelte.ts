/**
 * The one mirror of the runs list in the renderer, created once by the shell and shared by
 * Train, Evaluate, Explain and Runs: fetched with `runs.list`, kept current from `runs.changed`
 * and `runs.progress`. Areas that must react to a run's change (a dashboard refetching when its
 * run stops) subscribe with {@link RunsStore.onChange}.
 */
import type { ApiClient } from '../../../core/api/client';
import type { RunRecord } from '../../../core/api/training';
import { describeError, type ShownError } from '../errors';
import { applyRunProgress, newestFirst, upsertRun } from './run-list';

/** Called with a run's new record and the one it replaces (undefined for a new run). */
export type RunChangeListener = (run: RunRecord, previous: RunRecord | undefined) => void;

/** Every run, newest first, live. */
export class RunsStore {
	runs = $state.raw<RunRecord[]>([]);
	/** Whether a `runs.list` has answered once. */
	loaded = $state(false);
	error = $state<ShownError | null>(null);
	private listeners: RunChangeListener[] = [];
	private loading: Promise<boolean> | null = null;
	private reloadTimer: ReturnType<typeof setTimeout> | null = null;

	constructor(private readonly api: ApiClient) {
		api.on('runs.changed', (run) => this.apply(run));
		api.on('runs.progress', (progress) => {
			const updated = applyRunProgress(this.runs, progress);
			if (updated) this.runs = updated;
			// A run started elsewhere (the CLI, another window): fetch its record.
			else this.scheduleReload();
		});
	}

	/**
	 * Fetches the list (areas call it on every (re)connection; calls while one is in flight share
	 * it). Resolves whether it succeeded; `error` says why not.
	 */
	load(): Promise<boolean> {
		this.loading ??= this.api.call('runs.list', {}).then((list) => {
			this.loading = null;
			this.loaded = true;
			if (!list.ok) {
				this.error = describeError(list.error);
				return false;
			}
			this.error = null;
			this.runs = newestFirst(list.value);
			return true;
		});
		return this.loading;
	}

	/** A run's record, or undefined. */
	find(id: number | null): RunRecord | undefined {
		return id === null ? undefined : this.runs.find((run) => run.id === id);
	}

	/** Adds or replaces a run's record (from an event or an API answer) and tells the listeners. */
	apply(run: RunRecord): void {
		const previous = this.find(run.id);
		this.runs = upsertRun(this.runs, run);
		for (const listener of this.listeners) listener(run, previous);
	}

	/** Drops a deleted run (no event announces a deletion). */
	remove(id: number): void {
		this.runs = this.runs.filter((run) => run.id !== id);
	}

	/** Calls `listener` on every change of a run's record; returns the unsubscribe. */
	onChange(listener: RunChangeListener): () => void {
		this.listeners = [...this.listeners, listener];
		return () => {
			this.listeners = this.listeners.filter((other) => other !== listener);
		};
	}

	private scheduleReload(): void {
		if (this.reloadTimer) return;
		this.reloadTimer = setTimeout(() => {
			this.reloadTimer = null;
			void this.load();
		}, 500);
	}
}
