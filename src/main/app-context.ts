import path from 'node:path';
import { AppFailure, toAppError, type Result } from '../core/api/errors';
import type { ModelPresetId } from '../core/training/config';
import { defaultSettings, type AppSettings } from '../core/api/settings';
import { createDispatcher, type ApiHandlers, type Dispatch } from './api/dispatcher';
import { appInfo } from './app-info';
import { backendVariable } from './compute/activate-backend';
import { BackendMonitor, speedProbeBatch } from './compute/backend-monitor';
import { SpeedCache } from './compute/speed-cache';
import { EventBus } from './events';
import { cacheDirVariable } from './generation/disk-cache';
import type { DataDir } from './paths';
import { GeneratorService } from './services/generators';
import { buildDoctorReport } from './services/system';
import { EvaluationService } from './services/evaluation';
import { ExplainService } from './services/explain';
import { QuickstartService } from './services/quickstart';
import { TrainingService } from './services/training';
import { openStore, type Store } from './store/database';
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
	process.env[cacheDirVariable] ??= path.join(dataDir.path, 'cache');
	const events = new EventBus();
	const store = tryOpenStore(dataDir.path);
	const requireStore = (): Store => {
		if (store.ok) return store.value;
		throw new AppFailure(store.error.code, store.error.message);
	};
	const settings = (): AppSettings => (store.ok ? readSettings(store.value.db) : defaultSettings);
	const workers = new WorkerFactory(options.launcher, options.workersDir);
	const backends = new BackendMonitor(
		workers,
		() => settings().backend,
		events,
		SpeedCache.in(path.join(dataDir.path, 'cache'))
	);
	const backendFor = async (model: ModelPresetId) =>
		(await backends.choose(settings().backend, model, speedProbeBatch)).backend;
	// Generator workers and their threads read it (feature visualisation computes with tfjs).
	process.env[backendVariable] = settings().backend;
	const generators = new GeneratorService(workers, requireStore, events);
	const training = new TrainingService(workers, requireStore, events, {
		runsDir: path.join(dataDir.path, 'runs'),
		preference: () => settings().backend,
		choose: (preference, model, batch, onMeasure) =>
			backends.choose(preference, model, batch, onMeasure),
		appVersion: appInfo.version
	});
	const evaluation = new EvaluationService(workers, requireStore, events, {
		cacheDir: path.join(dataDir.path, 'cache', 'datasets'),
		backendFor
	});
	const quickstart = new QuickstartService(training, evaluation, events);
	const explain = new ExplainService(workers, requireStore, events, {
		cacheDir: path.join(dataDir.path, 'cache', 'datasets'),
		featureDir: path.join(dataDir.path, 'cache', 'features'),
		backendFor
	});
	if (store.ok) {
		generators.recoverInterrupted();
		training.recoverInterrupted();
		evaluation.recoverInterrupted();
	}

	const handlers: ApiHandlers = {
		'system.status': () => {
			// The first status request starts the probe; `backend.changed` announces its end.
			void backends.probe();
			return {
				app: { name: appInfo.name, version: appInfo.version },
				dataDir,
				backend: backends.selection()
			};
		},
		'system.doctor': async ({ refresh }) =>
			buildDoctorReport({
				dataDir,
				store,
				probe: await backends.probe(refresh),
				preference: settings().backend,
				electronVersion: options.electronVersion ?? null,
				now: new Date()
			}),
		'system.pickFolder': async ({ title }) =>
			options.pickFolder
				? { supported: true, path: await options.pickFolder(title) }
				: { supported: false, path: null },
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
		'generators.catalogue': () => generators.catalogue(),
		'generators.preview': (request) => generators.preview(request),
		'generators.diagnostics': (request) => generators.diagnostics(request),
		'presets.list': () => generators.listPresets(),
		'presets.save': (request) => generators.savePreset(request),
		'presets.rename': ({ id, name }) => generators.renamePreset(id, name),
		'presets.delete': ({ id }) => generators.deletePreset(id),
		'datasets.list': () => generators.listDatasets(),
		'datasets.export': (request) => generators.startExport(request),
		'datasets.cancel': ({ jobId }) => generators.cancelExport(jobId),
		'runs.list': () => training.list(),
		'runs.get': ({ id, metricsAfter }) => training.get(id, metricsAfter),
		'runs.start': (request) => training.start(request),
		'runs.pause': ({ id }) => training.pause(id),
		'runs.resume': ({ id }) => training.resume(id),
		'runs.cancel': ({ id }) => training.cancel(id),
		'runs.estimate': ({ config }) => training.estimate(config),
		'runs.update': ({ id, ...change }) => training.update(id, change),
		'runs.delete': ({ id }) => training.delete(id),
		'runs.exportBundle': ({ id, path: file }) => training.exportBundle(id, file),
		'runs.importBundle': ({ path: file }) => training.importBundle(file),
		'evaluations.datasets': () => evaluation.datasets(),
		'evaluations.registerDataset': ({ path: folder }) => evaluation.registerDataset(folder),
		'evaluations.start': (params) => evaluation.start(params),
		'evaluations.list': ({ runId }) => evaluation.list(runId),
		'evaluations.cancel': ({ groupId }) => evaluation.cancel(groupId),
		'explain.compute': (params) => explain.compute(params),
		'explain.batch': (params) => explain.batch(params),
		'explain.cancel': () => explain.cancel(),
		'explain.images': (params) => explain.images(params),
		'explain.filters': (params) => explain.filters(params),
		'explain.activations': (params) => explain.activations(params),
		'explain.neighbours': (params) => explain.neighbours(params),
		'quickstart.start': (params) => quickstart.start(params),
		'quickstart.status': () => quickstart.status()
	};

	return {
		dataDir,
		store,
		events,
		backends,
		generators,
		training,
		evaluation,
		quickstart,
		dispatch: createDispatcher(handlers),
		close: () => {
			backends.close();
			generators.close();
			training.close();
			evaluation.close();
			explain.close();
			if (store.ok) store.value.close();
		}
	};
}

function tryOpenStore(folder: string): Result<Store> {
	try {
		return { ok: true, value: openStore(folder) };
	} catch (error) {
		return { ok: false, error: toAppError(error) };
	}
}
