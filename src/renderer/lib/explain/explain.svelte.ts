/**
 * The Explain area's state: the encoders to compare, the image, method and layer, and the
 * latest `explain.compute` result. Created once by the shell so choices survive navigation.
 */
import type { ApiClient } from '../../../core/api/client';
import type { EvalDatasetInfo } from '../../../core/api/evaluation';
import type { ExplainParams, ExplainResult } from '../../../core/api/explain';
import type { RunRecord } from '../../../core/api/training';
import { pickDefaultDataset } from '../evaluation/eval-form';
import { describeError } from '../training/run-format';
import type { ShownError } from '../training/training.svelte';
import {
	buildExplainParams,
	defaultEncoderPicks,
	lastIndex,
	stepIndex,
	type EncoderPick
} from './explain-form';

function newestFirst(runs: RunRecord[]): RunRecord[] {
	return runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
}

/** All state of the Explain page. */
export class ExplainState {
	runs = $state.raw<RunRecord[]>([]);
	datasets = $state.raw<EvalDatasetInfo[]>([]);
	loaded = $state(false);
	loadError = $state<ShownError | null>(null);

	encoders = $state<[EncoderPick, EncoderPick]>([
		{ runId: null, randomInit: false },
		{ runId: null, randomInit: true }
	]);
	dataset = $state('');
	index = $state(0);
	method = $state<ExplainParams['method']>('gradcam');
	layer = $state<ExplainParams['layer']>('conv5');
	/** Heatmap opacity over the image, shared by every panel. */
	opacity = $state(0.5);

	result = $state.raw<ExplainResult | null>(null);
	/** The request the shown result answers, for its caption. */
	resultParams = $state.raw<ExplainParams | null>(null);
	computing = $state(false);
	error = $state<ShownError | null>(null);

	private chosen = false;
	private ticket = 0;

	constructor(private readonly api: ApiClient) {
		api.on('runs.changed', (run) => {
			this.runs = newestFirst([...this.runs.filter((candidate) => candidate.id !== run.id), run]);
			if (!this.chosen && this.encoders[0].runId === null) this.proposeDefaults();
		});
	}

	/** The chosen dataset's description, when listed. */
	get datasetInfo(): EvalDatasetInfo | undefined {
		return this.datasets.find((info) => info.name === this.dataset);
	}

	/** A run's name; `run N` when it is not known here. */
	runName(id: number): string {
		return this.runs.find((run) => run.id === id)?.name ?? `run ${id}`;
	}

	/** Loads runs and datasets; called on every (re)connection. */
	async load(): Promise<void> {
		const [runs, datasets] = await Promise.all([
			this.api.call('runs.list', {}),
			this.api.call('evaluations.datasets', {})
		]);
		const failure = [runs, datasets].find((result) => !result.ok);
		this.loadError = failure && !failure.ok ? describeError(failure.error) : null;
		if (runs.ok) this.runs = newestFirst([...runs.value]);
		if (datasets.ok) this.datasets = datasets.value;
		this.loaded = true;
		if (!this.chosen) this.proposeDefaults();
	}

	/** Changes one encoder slot. */
	chooseEncoder(slot: 0 | 1, pick: Partial<EncoderPick>): void {
		this.chosen = true;
		this.encoders[slot] = { ...this.encoders[slot], ...pick };
	}

	/** Changes the dataset, starting again at its first image. */
	chooseDataset(name: string): void {
		this.chosen = true;
		this.dataset = name;
		this.index = 0;
	}

	/** Moves to the previous or next image and, when a result is shown, recomputes it. */
	async step(delta: number): Promise<void> {
		this.index = stepIndex(this.index, delta, lastIndex(this.datasetInfo));
		if (this.result !== null || this.error !== null) await this.compute();
	}

	/** Computes the maps of the current choices; a newer request supersedes an older one. */
	async compute(): Promise<void> {
		const built = buildExplainParams({
			encoders: $state.snapshot(this.encoders),
			dataset: this.dataset,
			index: this.index,
			method: this.method,
			layer: this.layer
		});
		if (!built.ok) {
			this.error = built.error;
			return;
		}
		const ticket = ++this.ticket;
		this.computing = true;
		this.error = null;
		const result = await this.api.call('explain.compute', built.params);
		if (ticket !== this.ticket) return;
		this.computing = false;
		if (!result.ok) {
			this.error = describeError(result.error);
			return;
		}
		this.result = result.value;
		this.resultParams = built.params;
	}

	private proposeDefaults(): void {
		this.encoders = defaultEncoderPicks(this.runs);
		if (this.dataset === '') this.dataset = pickDefaultDataset(this.datasets);
	}
}
