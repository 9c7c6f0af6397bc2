import { AppFailure, toAppError, type Result } from '../core/api/errors';
import { defaultSettings, type AppSettings } from '../core/api/settings';
import { createDispatcher, type ApiHandlers, type Dispatch } from './api/dispatcher';
import { appInfo } from './app-info';
import { BackendMonitor } from './compute/backend-monitor';
import { EventBus } from './events';
import type { DataDir } from './paths';
import { buildDoctorReport } from './services/system';
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
}

/** The service layer and what it owns: the store, the workers and the event bus. */
export interface AppContext {
	readonly dataDir: DataDir;
	readonly store: Result<Store>;
	readonly events: EventBus;
	readonly backends: BackendMonitor;
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
	const events = new EventBus();
	const store = tryOpenStore(dataDir.path);
	const requireStore = (): Store => {
		if (store.ok) return store.value;
		throw new AppFailure(store.error.code, store.error.message);
	};
	const settings = (): AppSettings => (store.ok ? readSettings(store.value.db) : defaultSettings);
	const workers = new WorkerFactory(options.launcher, options.workersDir);
	const backends = new BackendMonitor(workers, () => settings().backend, events);

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
		'settings.get': () => settings(),
		'settings.update': (update) => {
			const next = writeSettings(requireStore().db, update);
			events.emit('settings.changed', next);
			if (update.backend !== undefined) backends.preferenceChanged();
			return next;
		}
	};

	return {
		dataDir,
		store,
		events,
		backends,
		dispatch: createDispatcher(handlers),
		close: () => {
			backends.close();
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
