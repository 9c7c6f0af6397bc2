/**
 * The realism-and-diversity measurement as the Studio offers it: which encoders to choose from,
 * the request, and what the two scores mean in words.
 */
import type {
	AnalysisEncoder,
	NoiseSampleSource,
	PrecisionRecallParams,
	PrecisionRecallResult
} from '../../../core/api/analysis';
import type { RunRecord } from '../../../core/api/training';
import type { EncoderLayer } from '../../../core/training/encoder-spec';

/** One entry of the encoder picker. */
export interface AnalysisEncoderChoice {
	value: string;
	label: string;
}

/** The untrained `tiny` encoder: always available, the default feature space. */
export const randomTinyChoice = 'random:tiny';

/**
 * The encoders to measure with: the untrained tiny encoder, then every run with a checkpoint,
 * newest first, labelled with its data so the real-data run is easy to find.
 */
export function analysisEncoderChoices(runs: readonly RunRecord[]): AnalysisEncoderChoice[] {
	return [
		{ value: randomTinyChoice, label: 'Random init (tiny, seed 0)' },
		...runs
			.filter((run) => run.step > 0)
			.map((run) => ({
				value: `run:${run.id}`,
				label: `Run ${run.id} · ${run.name} (${run.config.model}, ${run.sourceLabel})`
			}))
	];
}

/** The request's encoder for a picker value. */
export function encoderOfChoice(value: string): AnalysisEncoder {
	const run = /^run:(\d+)$/.exec(value);
	if (run) return { kind: 'run', runId: Number(run[1]) };
	return { kind: 'random-init', model: 'tiny', seed: 0 };
}

/** The form's settings. */
export interface PrecisionRecallForm {
	dataset: string;
	encoder: string;
	layer: EncoderLayer;
	samples: number;
}

/** A request for the Studio's current configuration. */
export function precisionRecallRequest(
	form: PrecisionRecallForm,
	noise: NoiseSampleSource,
	jobId: string
): PrecisionRecallParams {
	return {
		noise,
		dataset: form.dataset,
		encoder: encoderOfChoice(form.encoder),
		layer: form.layer,
		samples: form.samples,
		k: 3,
		seed: 0,
		jobId
	};
}

/** A fraction as a whole percentage. */
function percent(value: number): string {
	return `${Math.round(value * 100)}%`;
}

/** The two scores in words, for the panel under the numbers. */
export function explainScores(result: PrecisionRecallResult): {
	precision: string;
	recall: string;
} {
	return {
		precision: `${percent(result.precision)} of the ${result.noiseCount} noise images lie inside the real images’ manifold (within some real image’s distance to its ${ordinal(result.k)} nearest real neighbour): how real the noise looks to this encoder.`,
		recall: `${percent(result.recall)} of the ${result.realCount} ${result.dataset} images lie inside the noise images’ manifold: how much of the real images’ variety the noise covers.`
	};
}

function ordinal(k: number): string {
	if (k === 1) return '1st';
	if (k === 2) return '2nd';
	if (k === 3) return '3rd';
	return `${k}th`;
}
