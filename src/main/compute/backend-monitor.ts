import type { AppError } from '../../core/api/errors';
import {
	autoCandidates,
	chooseFastest,
	selectBackend,
	type BackendId,
	type BackendPreference,
	type BackendProbe,
	type BackendSelection,
	type BackendSpeed
} from '../../core/compute/backends';
import type { ModelPresetId } from '../../core/training/config';
import type { EventBus } from '../events';
import type { WorkerClient, WorkerFactory } from '../workers/host';
import type { ProbeTasks } from '../workers/entries/probe';
import { machineFingerprint, type SpeedCache } from './speed-cache';

/** What the last probe found; `workerError` is set when the probe worker itself failed. */
export interface ProbeOutcome {
	probes: BackendProbe[];
	workerError: AppError | null;
}

/** Loading TensorFlow and compiling wasm can take a while on a cold disk. */
const probeTimeoutMs = 120_000;

/**
 * The speed probe trains at most this many pairs per step: enough to load a GPU, few enough
 * that the slowest candidate (alexnet on wasm) measures in about a minute.
 */
export const speedProbeBatch = 32;

/** A candidate whose probe takes longer than this is slower than any worth choosing. */
const speedProbeTimeoutMs = 180_000;

/** The backend a job should run on, and why `auto` chose it (null: no choice was made here). */
export interface BackendChoice {
	backend: BackendPreference;
	reason: string | null;
}

/**
 * Knows which compute backends work and which one is active. Probing runs once, lazily, in a
 * throw-away probe worker; `backend.changed` is emitted whenever the answer changes.
 */
export class BackendMonitor {
	private outcome: ProbeOutcome | null = null;
	private inFlight: Promise<ProbeOutcome> | null = null;
	private lastSelection: BackendSelection | null = null;
	private probeWorker: WorkerClient<ProbeTasks> | null = null;
	private readonly speedWorkers = new Set<WorkerClient<ProbeTasks>>();
	/** Choices being measured, by model and batch, so concurrent jobs measure once. */
	private readonly measuring = new Map<string, Promise<BackendChoice>>();
	private closed = false;

	/** `preference` reads the current setting each time, so it never goes stale. */
	constructor(
		private readonly workers: WorkerFactory,
		private readonly preference: () => BackendPreference,
		private readonly events: EventBus,
		private readonly speeds: SpeedCache | null = null
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

	/**
	 * The backend for a job on `model`: a named preference as it is; for `auto`, when more than
	 * one backend could run (a hardware GPU adapter, TensorFlow, wasm), the fastest by a short
	 * measured probe of each (a few training steps of `model` at up to {@link speedProbeBatch}
	 * pairs, in throw-away workers), cached per machine and model. With one candidate, `auto`
	 * goes to the worker, which takes the best that loads. `onMeasure` hears when a measurement
	 * starts, for progress messages.
	 */
	async choose(
		preference: BackendPreference,
		model: ModelPresetId,
		batch: number,
		onMeasure?: (message: string) => void
	): Promise<BackendChoice> {
		if (preference !== 'auto') return { backend: preference, reason: null };
		const { probes } = await this.probe();
		const candidates = autoCandidates(probes);
		if (candidates.length < 2) return { backend: 'auto', reason: null };
		const probeBatch = Math.min(batch, speedProbeBatch);
		const key = `${model}/${probeBatch}`;
		let choice = this.measuring.get(key);
		if (!choice) {
			choice = this.measureAndChoose(probes, candidates, model, probeBatch, onMeasure).finally(() =>
				this.measuring.delete(key)
			);
			this.measuring.set(key, choice);
		}
		return choice;
	}

	/** Stops probes in flight; nothing is announced afterwards (the store may be closed). */
	close(): void {
		this.closed = true;
		this.probeWorker?.stop();
		for (const worker of this.speedWorkers) worker.stop();
	}

	private async measureAndChoose(
		probes: readonly BackendProbe[],
		candidates: readonly BackendId[],
		model: ModelPresetId,
		batch: number,
		onMeasure: ((message: string) => void) | undefined
	): Promise<BackendChoice> {
		const machine = machineFingerprint(probes);
		const speeds: BackendSpeed[] = [];
		const measured: BackendSpeed[] = [];
		for (const backend of candidates) {
			const cached = this.speeds?.get(machine, model, batch, backend) ?? null;
			if (cached !== null) {
				speeds.push({ backend, imagesPerSecond: cached });
				continue;
			}
			if (this.closed) break;
			onMeasure?.(
				`Measuring ${backend} on ${model} to pick the fastest backend (${candidates.join(', ')}); once per machine and model…`
			);
			const speed = await this.measure({ backend, model, batch, seconds: 5 });
			// A failed measurement is remembered as 0 img/s: that backend is not chosen again here.
			const figure = speed ?? { backend, imagesPerSecond: 0 };
			speeds.push(figure);
			measured.push(figure);
		}
		if (measured.length > 0) this.speeds?.put(machine, model, batch, measured);
		const choice = chooseFastest(model, speeds);
		return choice ?? { backend: 'auto', reason: null };
	}

	private async measure(request: {
		backend: BackendId;
		model: ModelPresetId;
		batch: number;
		seconds: number;
	}): Promise<BackendSpeed | null> {
		const worker = this.workers.start<ProbeTasks>('probe');
		this.speedWorkers.add(worker);
		try {
			const result = await worker.run('speed', request, { timeoutMs: speedProbeTimeoutMs });
			return result.ok ? result.value : null;
		} finally {
			worker.stop();
			this.speedWorkers.delete(worker);
		}
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
