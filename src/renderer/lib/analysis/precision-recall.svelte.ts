/**
 * The Studio's realism-and-diversity measurement: the real dataset and encoder to compare in,
 * the running request's progress, and its result. Owned by the Studio's state, so a measurement
 * survives navigating away.
 */
import type { ApiClient } from '../../../core/api/client';
import type {
	AnalysisProgress,
	NoiseSampleSource,
	PrecisionRecallResult
} from '../../../core/api/analysis';
import type { EvalDatasetInfo } from '../../../core/api/evaluation';
import type { RunRecord } from '../../../core/api/training';
import type { RunsStore } from '../runs/runs-store.svelte';
import {
	analysisEncoderChoices,
	precisionRecallRequest,
	randomTinyChoice,
	type AnalysisEncoderChoice,
	type PrecisionRecallForm
} from './precision-recall';

/** The Studio's one job id: a new measurement replaces a running one. */
const jobId = 'studio-precision-recall';

/** State of the precision-and-recall section. */
export class PrecisionRecallState {
	datasets = $state.raw<EvalDatasetInfo[]>([]);
	form = $state<PrecisionRecallForm>({
		dataset: 'fashion-mnist-mini',
		encoder: randomTinyChoice,
		layer: 'fc6',
		samples: 500
	});
	running = $state(false);
	progress = $state.raw<AnalysisProgress | null>(null);
	result = $state.raw<PrecisionRecallResult | null>(null);
	error = $state<string | null>(null);
	private loaded = false;

	constructor(
		private readonly api: ApiClient,
		private readonly runsStore: RunsStore
	) {
		api.on('analysis.progress', (progress) => {
			if (progress.jobId === jobId && this.running) this.progress = progress;
		});
	}

	/** Every run, newest first (the shell's one runs store). */
	get runs(): RunRecord[] {
		return this.runsStore.runs;
	}

	/** The encoders on offer. */
	get encoderChoices(): AnalysisEncoderChoice[] {
		return analysisEncoderChoices(this.runs);
	}

	/** Loads the datasets and runs to choose from (until it succeeds once; `refresh` reloads). */
	async load(refresh = false): Promise<void> {
		if (this.loaded && !refresh) return;
		const [datasets, runs] = await Promise.all([
			this.api.call('evaluations.datasets', {}),
			this.runsStore.load()
		]);
		if (datasets.ok) this.datasets = datasets.value.filter((dataset) => dataset.available);
		this.loaded = datasets.ok && runs;
		if (!datasets.ok) this.error = datasets.error.message;
		else if (!runs) this.error = this.runsStore.error?.message ?? null;
	}

	/** Measures `noise` against the chosen dataset; progress arrives as events. */
	async measure(noise: NoiseSampleSource): Promise<void> {
		this.running = true;
		this.error = null;
		this.progress = null;
		const result = await this.api.call(
			'analysis.precisionRecall',
			precisionRecallRequest($state.snapshot(this.form), noise, jobId)
		);
		this.running = false;
		this.progress = null;
		if (result.ok) this.result = result.value;
		else if (result.error.code !== 'CANCELLED') this.error = result.error.message;
	}

	/** Forgets the last result and error (another selection in the Studio). */
	clearResult(): void {
		this.result = null;
		this.error = null;
	}

	/** Stops the running measurement. */
	async cancel(): Promise<void> {
		await this.api.call('analysis.cancel', { jobId });
	}
}
