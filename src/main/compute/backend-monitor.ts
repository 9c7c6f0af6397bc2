import type { AppError } from '../../core/api/errors';
import {
	selectBackend,
	type BackendPreference,
	type BackendProbe,
	type BackendSelection
} from '../../core/compute/backends';
import type { EventBus } from '../events';
import type { WorkerClient, WorkerFactory } from '../workers/host';
import type { ProbeTasks } from '../workers/entries/probe';

/** What the last probe found; `workerError` is set when the probe worker itself failed. */
export interface ProbeOutcome {
	probes: BackendProbe[];
	workerError: AppError | null;
}

/** Loading TensorFlow and compiling wasm can take a while on a cold disk. */
const probeTimeoutMs = 120_000;

/**
 * Knows which compute backends work and which one is active. Probing runs once, lazily, in a
 * throw-away probe worker; `backend.changed` is emitted whenever the answer changes.
 */
export class BackendMonitor {
	private outcome: ProbeOutcome | null = null;
	private inFlight: Promise<ProbeOutcome> | null = null;
	private lastSelection: BackendSelection | null = null;
	private probeWorker: WorkerClient<ProbeTasks> | null = null;
	private closed = false;

	/** `preference` reads the current setting each time, so it never goes stale. */
	constructor(
		private readonly workers: WorkerFactory,
		private readonly preference: () => BackendPreference,
		private readonly events: EventBus
	) {}

	/** The active backend, or null before the first probe has finished. */
	selection(): BackendSelection | null {
		return this.outcome ? selectBackend(this.preference(), this.outcome.probes) : null;
	}

	/** Probes the backends (once; again with `refresh`) and returns what was found. */
	probe(refresh = false): Promise<ProbeOutcome> {
		if (this.outcome && !refresh) return Promise.resolve(this.outcome);
		this.inFlight ??= this.runProbe().finally(() => {
			this.inFlight = null;
		});
		return this.inFlight;
	}

	/** Call after the preference changed, so listeners hear about the new selection. */
	preferenceChanged(): void {
		this.announce();
	}

	/** Stops a probe in flight; nothing is announced afterwards (the store may be closed). */
	close(): void {
		this.closed = true;
		this.probeWorker?.stop();
	}

	private async runProbe(): Promise<ProbeOutcome> {
		const worker = this.workers.start<ProbeTasks>('probe');
		this.probeWorker = worker;
		try {
			const result = await worker.run('backends', {}, { timeoutMs: probeTimeoutMs });
			this.outcome = result.ok
				? { probes: result.value, workerError: null }
				: { probes: this.outcome?.probes ?? [], workerError: result.error };
		} finally {
			worker.stop();
			this.probeWorker = null;
		}
		if (!this.closed) this.announce();
		return this.outcome;
	}

	private announce(): void {
		const selection = this.selection();
		if (!selection || JSON.stringify(selection) === JSON.stringify(this.lastSelection)) return;
		this.lastSelection = selection;
		this.events.emit('backend.changed', selection);
	}
}
