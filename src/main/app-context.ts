import os from 'node:os';
import path from 'node:path';
import { AppFailure, toAppError, type Result } from '../core/api/errors';
import { defaultSettings, type AppSettings, type HostPathAccess } from '../core/api/settings';
import type { StudySpec } from '../core/api/studies';
import type { TrainConfig } from '../core/training/config';
import { presetOfArchitecture, type EncoderRecipe } from '../core/encoders/build';
import { createDispatcher, type ApiHandlers, type Dispatch } from './api/dispatcher';
import { appInfo } from './app-info';
import { backendVariable } from './compute/activate-backend';
import { BackendMonitor, speedProbeBatch } from './compute/backend-monitor';
import { SpeedCache } from './compute/speed-cache';
import { EventBus } from './events';
import { HostPaths } from './host-paths';
import { cacheDirVariable } from './generation/disk-cache';
import type { DataDir } from './paths';
import { GeneratorService } from './services/generators';
import { AnalysisService } from './services/analysis';
import { buildDoctorReport } from './services/system';
import { EvaluationService } from './services/evaluation';
import { ExplainService } from './services/explain';
import { InteropService } from './services/interop';
import { QuickstartService } from './services/quickstart';
import { QueueService, queueLanes } from './services/queue';
import { createQueueExecutors, QueuedRuns } from './services/queue-work';
import { StudyService } from './services/studies';
import { TrainedEncoders } from './services/trained-encoders';
import { TrainingService } from './services/training';
import { folderOwner, lockDataFolder, type DataFolderLock } from './data-folder-lock';
import { openStore, openStoreReadOnly, type Store } from './store/database';
import { readSettings, writeSettings } from './store/settings';
import { WorkerFactory, type WorkerLauncher } from './workers/host';

/** What a host process (Electron main, web server, CLI) provides to build the app. */
export interface AppContextOptions {
	dataDir: DataDir;
	launcher: WorkerLauncher;
	/** Folder of built worker entries (`dist/workers`). */
	workersDir: string;
	electronVersion?: string | null;
	/** The system folder dialog, where the host has one (Electron). */
	pickFolder?: (title: string) => Promise<string | null>;
	/**
	 * Which host paths clients may name (src/main/host-paths.ts): `any` for the desktop app and
	 * the CLI, `confined` for web mode unless `serve --allow-any-path`.
	 */
	pathAccess: HostPathAccess;
	/** Shows a message to the person at the host: the terminal of `noiselab serve`. */
	tellHost?: (message: string) => void;
	/**
	 * How this process uses the data folder. `owner` (the default: the app, `serve`, commands
	 * that change data) first takes the folder's lock, failing with DATA_FOLDER_BUSY while
	 * another process holds it, then migrates the store and recovers what a crash left
	 * running. `read-only` (`doctor`, `explain`) opens the store read-only and changes nothing,
	 * so it can run beside an owner.
	 */
	access?: 'owner' | 'read-only';
	/** What this process runs, named in the lock for others' messages (default: its arguments). */
	command?: string;
	/**
	 * Whether this process works through the queue (the desktop app and `serve`); CLI commands
	 * leave it off and call `queue.work()` for their own items.
	 */
	workQueue?: boolean;
}

/** The service layer and what it owns: the store, the workers and the event bus. */
export interface AppContext {
	readonly dataDir: DataDir;
	readonly store: Result<Store>;
	readonly events: EventBus;
	readonly backends: BackendMonitor;
	readonly generators: GeneratorService;
	readonly training: TrainingService;
	readonly evaluation: EvaluationService;
	readonly quickstart: QuickstartService;
	readonly queue: QueueService;
	readonly runs: QueuedRuns;
	readonly studies: StudyService;
	readonly hostPaths: HostPaths;
	/** Precision and recall of noise sources (a study calls `precisionRecall` per source). */
	readonly analysis: AnalysisService;
	/** Resolves and pins the trained encoders generator configurations name. */
	readonly encoders: TrainedEncoders;
	readonly dispatch: Dispatch;
	close(): void;
}

/**
 * Builds the app's service layer, the same for every transport. A store that cannot open
 * (for example one written by a newer NoiseLab) does not stop the app: the UI and `doctor`
 * show why, and the methods that need the store fail with that error.
 */
export function createAppContext(options: AppContextOptions): AppContext {
	const { dataDir } = options;
	// Workers inherit the environment: this is how they find the shared generator cache.
	const cacheDir = (process.env[cacheDirVariable] ??= path.join(dataDir.path, 'cache'));
	const events = new EventBus();
	const owner = options.access !== 'read-only';
	const lock = owner ? lockOrNot(dataDir.path, options.command ?? describeProcess()) : null;
	const store = owner ? tryOpenStore(dataDir.path) : tryOpenStoreReadOnly(dataDir.path);
	const requireStore = (): Store => {
		if (store.ok) return store.value;
		throw new AppFailure(store.error.code, store.error.message);
	};
	const settings = (): AppSettings => {
		if (!store.ok) return defaultSettings;
		try {
			return readSettings(store.value.db);
		} catch {
			return defaultSettings; // A damaged database: `doctor` must still get to say so.
		}
	};
	const workers = new WorkerFactory(options.launcher, options.workersDir);
	const backends = new BackendMonitor(
		workers,
		() => settings().backend,
		events,
		SpeedCache.in(path.join(dataDir.path, 'cache'))
	);
	// `auto` measures on model presets; other encoders (ResNet-50) take the default order.
	const backendFor = async (recipe: EncoderRecipe | null) => {
		const model = recipe && presetOfArchitecture(recipe.architecture);
		if (!model) return settings().backend;
		return (await backends.choose(settings().backend, model, speedProbeBatch)).backend;
	};
	// Generator workers and their threads read it (feature visualisation computes with tfjs).
	process.env[backendVariable] = settings().backend;
	// Pinned where the workers look: the cache folder they inherit.
	const encoders = new TrainedEncoders(() => requireStore().db, cacheDir);
	const generators = new GeneratorService(workers, requireStore, events, encoders);
	const training = new TrainingService(workers, requireStore, events, {
		runsDir: path.join(dataDir.path, 'runs'),
		encoders,
		preference: () => settings().backend,
		choose: (preference, model, batch, onMeasure) =>
			backends.choose(preference, model, batch, onMeasure),
		replicas: () => settings().replicas,
		appVersion: appInfo.version
	});
	const interop = new InteropService(requireStore, events, {
		runsDir: path.join(dataDir.path, 'runs'),
		appVersion: appInfo.version
	});
	const evaluation = new EvaluationService(workers, requireStore, events, {
		cacheDir: path.join(dataDir.path, 'cache', 'datasets'),
		backendFor
	});
	const queue = new QueueService(
		requireStore,
		events,
		createQueueExecutors({ store: requireStore, events, training, evaluation, generators }),
		() => queueLanes(backends.selection()?.active ?? null, os.availableParallelism())
	);
	const runs = new QueuedRuns(queue, training, requireStore, events);
	const analysis = new AnalysisService(workers, requireStore, events, {
		cacheDir: path.join(dataDir.path, 'cache', 'datasets'),
		preference: () => settings().backend,
		encoders
	});
	const studies = new StudyService(requireStore, events, queue, training, generators, {
		datasetsDir: path.join(dataDir.path, 'study-datasets'),
		runsDir: path.join(dataDir.path, 'runs'),
		datasets: () => evaluation.datasets(),
		analysis
	});
	const quickstart = new QuickstartService(runs, queue, training, evaluation, events);
	const explain = new ExplainService(workers, requireStore, events, {
		cacheDir: path.join(dataDir.path, 'cache', 'datasets'),
		featureDir: path.join(dataDir.path, 'cache', 'features'),
		backendFor
	});
	const hostPaths = new HostPaths({
		access: options.pathAccess,
		dataDir: dataDir.path,
		allowedFolders: () => settings().allowedFolders,
		saveAllowedFolders: (allowedFolders) => {
			events.emit(
				'settings.changed',
				writeSettings(requireStore().db, { allowedFolders: [...allowedFolders] })
			);
		},
		...(options.tellHost ? { tellHost: options.tellHost } : {})
	});
	/** A dataset spec that names a folder goes through the policy; built-in names do not. */
	const datasetSpec = (spec: string) =>
		path.isAbsolute(spec) ? hostPaths.resolve('evaluation dataset folder', spec) : spec;
	const withDataset = <T extends { dataset: string }>(params: T): T => ({
		...params,
		dataset: datasetSpec(params.dataset)
	});
	const withSource = (config: TrainConfig): TrainConfig => {
		const { source } = config;
		if (source.kind === 'folder') {
			return {
				...config,
				source: { ...source, path: hostPaths.resolve('training image folder', source.path) }
			};
		}
		if (source.kind === 'dataset') {
			return { ...config, source: { ...source, dataset: datasetSpec(source.dataset) } };
		}
		return config;
	};
	/** A study's folder sources and dataset targets go through the policy like the rest. */
	const withStudyPaths = (spec: StudySpec): StudySpec => ({
		...spec,
		sources: spec.sources.map((source) =>
			source.kind === 'folder'
				? { ...source, path: hostPaths.resolve('training image folder', source.path) }
				: source
		),
		evaluation: {
			...spec.evaluation,
			targets: spec.evaluation.targets.map((target) => withDataset(target))
		}
	});
	// Only the folder's owner may decide that what the store says is running is not.
	if (store.ok && owner) {
		generators.recoverInterrupted();
		training.recoverInterrupted();
		evaluation.recoverInterrupted();
		queue.recover();
	}

	const handlers: ApiHandlers = {
		'system.status': () => {
			// The first status request starts the probe; `backend.changed` announces its end.
			void backends.probe();
			return {
				app: { name: appInfo.name, version: appInfo.version },
				dataDir,
				backend: backends.selection(),
				pathAccess: hostPaths.access
			};
		},
		'system.doctor': async ({ refresh }) =>
			buildDoctorReport({
				dataDir,
				store,
				owner: folderOwner(dataDir.path),
				probe: await backends.probe(refresh),
				preference: settings().backend,
				electronVersion: options.electronVersion ?? null,
				now: new Date()
			}),
		'system.pickFolder': async ({ title }) =>
			options.pickFolder
				? { supported: true, path: await options.pickFolder(title) }
				: { supported: false, path: null },
		'system.browseFolders': ({ path: folder }) => hostPaths.browse(folder),
		'settings.get': () => settings(),
		'settings.update': (update) => {
			const next = writeSettings(requireStore().db, update);
			events.emit('settings.changed', next);
			if (update.backend !== undefined) {
				process.env[backendVariable] = next.backend;
				generators.backendChanged();
				backends.preferenceChanged();
			}
			return next;
		},
		'settings.allowFolder': ({ path: folder, code }) => ({
			status: hostPaths.allow(folder, code),
			settings: settings()
		}),
		'settings.removeFolder': ({ path: folder }) => {
			hostPaths.remove(folder);
			return settings();
		},
		'generators.catalogue': () => generators.catalogue(),
		'generators.preview': (request, caller) => generators.preview(request, caller),
		'generators.cancelPreview': ({ stream }, caller) => generators.cancelPreview(stream, caller),
		'generators.diagnostics': (request, caller) => generators.diagnostics(request, caller),
		'generators.requirements': ({ config }) => generators.requirements(config),
		'presets.list': () => generators.listPresets(),
		'presets.save': (request) => generators.savePreset(request),
		'presets.rename': ({ id, name }) => generators.renamePreset(id, name),
		'presets.delete': ({ id }) => generators.deletePreset(id),
		'datasets.list': () => generators.listDatasets(),
		'datasets.export': (request) =>
			generators.startExport({
				...request,
				outDir: hostPaths.resolve('dataset export folder', request.outDir)
			}),
		'datasets.cancel': ({ jobId }) => generators.cancelExport(jobId),
		'runs.list': () => training.list(),
		'runs.get': ({ id, metricsAfter }) => training.get(id, metricsAfter),
		'runs.start': (request) => runs.start({ ...request, config: withSource(request.config) }).run,
		'runs.pause': ({ id }) => runs.pause(id),
		'runs.resume': ({ id }) => runs.resume(id).run,
		'runs.cancel': ({ id }) => runs.cancel(id),
		'runs.estimate': ({ config, jobId }) => training.estimate(withSource(config), jobId ?? null),
		'runs.cancelEstimate': ({ jobId }) => training.cancelEstimate(jobId),
		'runs.update': ({ id, ...change }) => training.update(id, change),
		'runs.delete': ({ id }) => training.delete(id),
		'runs.exportBundle': ({ id, path: file, overwrite }) =>
			training.exportBundle(id, hostPaths.resolve('bundle file to write', file), overwrite),
		'runs.importBundle': ({ path: file }) =>
			training.importBundle(hostPaths.resolve('bundle file to import', file)),
		'runs.importEncoder': (params) =>
			interop.importEncoder({
				...params,
				path: hostPaths.resolve('encoder checkpoint to import', params.path)
			}),
		'runs.exportEncoder': ({ id, folder }) =>
			interop.exportEncoder(id, hostPaths.resolve('encoder export folder', folder)),
		'evaluations.datasets': () => evaluation.datasets(),
		'evaluations.registerDataset': ({ path: folder }) =>
			evaluation.registerDataset(hostPaths.resolve('evaluation dataset folder', folder)),
		'evaluations.start': (params) => evaluation.start(withDataset(params)),
		'evaluations.list': ({ runId }) => evaluation.list(runId),
		'evaluations.cancel': ({ groupId }) => evaluation.cancel(groupId),
		'explain.compute': (params) => explain.compute(withDataset(params)),
		'explain.batch': (params) => explain.batch(withDataset(params)),
		'explain.cancel': () => explain.cancel(),
		'explain.images': (params) => explain.images(withDataset(params)),
		'explain.filters': (params) => explain.filters(params),
		'explain.activations': (params) => explain.activations(withDataset(params)),
		'explain.neighbours': (params) => explain.neighbours(withDataset(params)),
		'analysis.precisionRecall': ({ noise, ...params }) =>
			analysis.precisionRecall(
				withDataset({
					...params,
					noise:
						noise.kind === 'folder'
							? { ...noise, path: hostPaths.resolve('noise image folder', noise.path) }
							: noise
				})
			),
		'analysis.cancel': ({ jobId }) => analysis.cancel(jobId),
		'quickstart.start': (params) => quickstart.start(params),
		'quickstart.status': () => quickstart.status(),
		'studies.templates': () => studies.templates(),
		'studies.estimate': ({ spec }) =>
			studies.estimate(withStudyPaths(spec), (done, total, message) =>
				events.emit('studies.estimateProgress', { done, total, message })
			),
		'studies.create': ({ spec, estimate }) => studies.create(withStudyPaths(spec), estimate),
		'studies.list': () => studies.list(),
		'studies.get': ({ id }) => studies.get(id),
		'studies.measureRealism': ({ encoder, ...params }) =>
			studies.measureRealism({
				...params,
				...(encoder === undefined ? {} : { encoder })
			}),
		'studies.requeue': ({ id }) => studies.requeue(id),
		'studies.delete': ({ id }) => studies.delete(id),
		'studies.export': ({ id, format, target }) => studies.exportText(id, format, target),
		'studies.exportBundle': ({ id, path: folder }) =>
			studies.exportBundle(id, hostPaths.resolve('study bundle folder', absolute(folder))),
		'studies.importBundle': ({ path: folder }) =>
			studies.importBundle(hostPaths.resolve('study bundle folder', absolute(folder))),
		'queue.state': () => queue.state(),
		'queue.move': ({ id, index }) => queue.move(id, index),
		'queue.cancel': ({ id }) => queue.cancel(id),
		'queue.retry': ({ id }) => queue.retry(id),
		'queue.setPaused': ({ paused }) => queue.setPaused(paused)
	};
	if (store.ok && owner && options.workQueue) queue.work();

	return {
		dataDir,
		store,
		events,
		backends,
		generators,
		training,
		evaluation,
		quickstart,
		queue,
		runs,
		studies,
		hostPaths,
		analysis,
		encoders,
		dispatch: createDispatcher(handlers),
		close: () => {
			queue.close();
			backends.close();
			generators.close();
			training.close();
			evaluation.close();
			explain.close();
			analysis.close();
			if (store.ok) store.value.close();
			lock?.release();
		}
	};
}

/** A client-supplied folder, which must be absolute: relative to what, on a server? */
function absolute(folder: string): string {
	if (!path.isAbsolute(folder)) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Give an absolute folder path; got ${JSON.stringify(folder)}.`
		);
	}
	return folder;
}

function tryOpenStore(folder: string): Result<Store> {
	try {
		return { ok: true, value: openStore(folder) };
	} catch (error) {
		return { ok: false, error: toAppError(error) };
	}
}

function tryOpenStoreReadOnly(folder: string): Result<Store> {
	try {
		return { ok: true, value: openStoreReadOnly(folder) };
	} catch (error) {
		return { ok: false, error: toAppError(error) };
	}
}

/**
 * The folder's lock, or null when the folder cannot hold one (unwritable, say): then the store
 * cannot open either, and the app starts to say why. Another owner is an error the caller shows.
 */
function lockOrNot(folder: string, command: string): DataFolderLock | null {
	try {
		return lockDataFolder(folder, command);
	} catch (error) {
		if (error instanceof AppFailure && error.code === 'DATA_FOLDER_BUSY') throw error;
		return null;
	}
}

/** This process as `ps` would name it, for the lock: "noiselab serve --port 5177". */
function describeProcess(): string {
	const [, script = '', ...args] = process.argv;
	const name = /noiselab/.test(script) ? 'noiselab' : path.basename(script || process.argv0);
	return [name, ...args].join(' ');
}
