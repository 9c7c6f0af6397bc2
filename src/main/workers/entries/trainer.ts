/**
 * The trainer worker: one training session, speed estimate or evaluation per process, so a
 * crash or an out-of-memory abort in tfjs never takes the app down, and the backend can differ
 * per run.
 */
import os from 'node:os';
import path from 'node:path';
import type { RunEstimate } from '../../../core/api/training';
import type { BackendPreference } from '../../../core/compute/backends';
import type { TrainConfig } from '../../../core/training/config';
import type { TaskSpec } from '../../../core/workers/protocol';
import type { PrecisionRecallResult } from '../../../core/api/analysis';
import { runEvaluation, type EvaluateEvent, type EvaluateJob } from '../../evaluation/evaluate-job';
import {
	runPrecisionRecall,
	type PrecisionRecallEvent,
	type PrecisionRecallJob
} from '../../evaluation/precision-recall-job';
import { loadDataset } from '../../evaluation/loaders/index';
import { installWasmStyleganConvolutions } from '../../compute/kernels/wasm-stylegan-conv';
import { installCacheFromEnvironment } from '../../generation/disk-cache';
import { defaultDataThreads } from '../../../core/training/parallelism';
import {
	estimateRun,
	runTraining,
	type EstimateEvent,
	type ThreadFiles,
	type TrainEvent,
	type TrainJob,
	type TrainOutcome
} from '../../training/train-loop';
import { serveWorker } from '../runtime';

/** What the service sends; the worker fills in where its threads live and how many by default. */
export type TrainRequest = Omit<TrainJob, 'threadFiles' | 'dataThreads'> & { dataThreads?: number };

/** The trainer worker's tasks. */
export type TrainerTasks = {
	train: TaskSpec<TrainRequest, TrainOutcome, TrainEvent>;
	estimate: TaskSpec<
		{
			config: TrainConfig;
			backend: BackendPreference;
			replicas: number | null;
			dataThreads?: number;
		},
		RunEstimate,
		EstimateEvent
	>;
	evaluate: TaskSpec<EvaluateJob, null, EvaluateEvent>;
	/** Improved precision and recall of noise images against a dataset's real ones. */
	precisionRecall: TaskSpec<PrecisionRecallJob, PrecisionRecallResult, PrecisionRecallEvent>;
	/** Loads a dataset folder to check it: its classes, counts and what was skipped. */
	inspectDataset: TaskSpec<
		{ path: string; cacheDir: string | null },
		{ classes: string[]; trainCount: number; testCount: number; notes: string[] },
		{ done: number; total: number }
	>;
};

const threadFiles: ThreadFiles = {
	data: path.join(__dirname, 'train-data-thread.cjs'),
	replica: path.join(__dirname, 'train-replica.cjs')
};

function dataThreads(requested: number | undefined): number {
	return requested ?? defaultDataThreads(os.availableParallelism());
}

installCacheFromEnvironment();
installWasmStyleganConvolutions();

serveWorker<TrainerTasks>({
	train: (request, { signal, progress }) =>
		runTraining(
			{ ...request, threadFiles, dataThreads: dataThreads(request.dataThreads) },
			{ signal, emit: progress }
		),
	estimate: (request, { signal, progress }) =>
		estimateRun(request.config, {
			backend: request.backend,
			threadFiles,
			dataThreads: dataThreads(request.dataThreads),
			replicas: request.replicas,
			signal,
			onProgress: progress
		}),
	evaluate: async (job, { signal, progress }) => {
		await runEvaluation(job, { signal, emit: progress });
		return null;
	},
	precisionRecall: (job, { signal, progress }) =>
		runPrecisionRecall(job, { signal, emit: progress }),
	inspectDataset: async ({ path: folder, cacheDir }, { signal, progress }) => {
		const dataset = await loadDataset(folder, {
			cacheDir,
			signal,
			onProgress: (done, total) => progress({ done, total })
		});
		return {
			classes: dataset.classes,
			trainCount: dataset.train.labels.length,
			testCount: dataset.test.labels.length,
			notes: dataset.notes
		};
	}
});
