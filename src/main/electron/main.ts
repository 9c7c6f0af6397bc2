/**
 * The Electron entry (`dist/electron/main.cjs`): a thin shell that opens the window, serves the
 * renderer from the `noiselab://` protocol and forwards validated IPC to the service layer.
 * Everything else is shared with web mode.
 */
import path from 'node:path';
import {
	app,
	dialog,
	BrowserWindow,
	ipcMain,
	nativeTheme,
	protocol,
	session,
	shell,
	type IpcMainInvokeEvent
} from 'electron';
import { ipcChannelFor, ipcEventChannel } from '../../core/api/client';
import { apiMethodNames } from '../../core/api/contract';
import { fail } from '../../core/api/errors';
import { createAppContext, type AppContext } from '../app-context';
import { resolveDataDir } from '../paths';
import { contentSecurityPolicy, readStaticFile } from '../server/static-files';
import { forkUtilityWorker } from '../workers/electron-launcher';
import { isProjectLink } from './external-links';

const scheme = 'noiselab';
const appOrigin = `${scheme}://app`;
const distDir = path.resolve(__dirname, '..');

protocol.registerSchemesAsPrivileged([
	{ scheme, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }
]);

// One instance owns the database; a second launch focuses the first window instead. quit() is
// asynchronous and 'ready' still fires, so the second instance also returns from the ready
// handler before anything opens the data folder.
const primaryInstance = app.requestSingleInstanceLock();
if (!primaryInstance) app.quit();

let context: AppContext | null = null;

/** Only our own top-level page may call the API. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
	const frame = event.senderFrame;
	return frame !== null && frame.parent === null && frame.url.startsWith(`${appOrigin}/`);
}

function registerIpc(appContext: AppContext): void {
	for (const method of apiMethodNames) {
		ipcMain.handle(ipcChannelFor(method), (event, params: unknown) => {
			if (!isTrustedSender(event)) {
				return fail('UNAUTHORIZED', `Refused ${method} from an untrusted frame.`);
			}
			return appContext.dispatch(method, params);
		});
	}
}

function createWindow(): BrowserWindow {
	const window = new BrowserWindow({
		width: 1280,
		height: 800,
		minWidth: 960,
		minHeight: 600,
		title: 'NoiseLab',
		backgroundColor: nativeTheme.shouldUseDarkColors ? '#16181d' : '#f7f7f9',
		icon: path.join(distDir, '..', 'resources', 'icon.png'),
		webPreferences: {
			preload: path.join(distDir, 'preload', 'preload.cjs'),
			contextIsolation: true,
			sandbox: true,
			nodeIntegration: false,
			webSecurity: true,
			spellcheck: false
		}
	});
	const { webContents } = window;
	webContents.setWindowOpenHandler(({ url }) => {
		// The project's own links open in the system browser; nothing opens inside the app.
		if (isProjectLink(url)) void shell.openExternal(url);
		return { action: 'deny' };
	});
	// The window shows the app and nothing else: no navigation away, by link or by redirect.
	const stayInApp = (event: { preventDefault(): void }, url: string) => {
		if (!url.startsWith(`${appOrigin}/`)) event.preventDefault();
	};
	webContents.on('will-navigate', stayInApp);
	webContents.on('will-redirect', stayInApp);
	webContents.on('will-attach-webview', (event) => event.preventDefault());
	const unsubscribe = context?.events.subscribe((apiEvent) => {
		if (!webContents.isDestroyed()) webContents.send(ipcEventChannel, apiEvent);
	});
	window.on('closed', () => unsubscribe?.());
	void window.loadURL(`${appOrigin}/index.html`);
	return window;
}

void app.whenReady().then(() => {
	if (!primaryInstance) return;
	// The app needs no permission (camera, notifications, clipboard, …): refuse requests and checks.
	session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) =>
		callback(false)
	);
	session.defaultSession.setPermissionCheckHandler(() => false);
	protocol.handle(scheme, async (request) => {
		const url = new URL(request.url);
		const file =
			url.host === 'app'
				? await readStaticFile(path.join(distDir, 'renderer'), url.pathname)
				: null;
		if (!file) return new Response('Not found', { status: 404 });
		return new Response(new Uint8Array(file.body), {
			headers: {
				'content-type': file.contentType,
				'content-security-policy': contentSecurityPolicy
			}
		});
	});
	try {
		context = openAppContext();
	} catch (error) {
		// Another process (`noiselab serve`, a training command) owns the data folder.
		dialog.showErrorBox('NoiseLab cannot open its data folder', (error as Error).message);
		app.quit();
		return;
	}
	registerIpc(context);
	createWindow();
	app.on('activate', () => {
		if (BrowserWindow.getAllWindows().length === 0) createWindow();
	});
});

/** The service layer over the data folder, holding its lock (throws DATA_FOLDER_BUSY). */
function openAppContext(): AppContext {
	return createAppContext({
		dataDir: resolveDataDir({ electronUserData: app.getPath('userData') }),
		command: 'the NoiseLab desktop app',
		launcher: forkUtilityWorker,
		workersDir: path.join(distDir, 'workers'),
		electronVersion: process.versions.electron ?? null,
		// The user at this machine, choosing with its native dialogs: any folder.
		pathAccess: 'any',
		pickFolder: async (title) => {
			const window = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
			const options = {
				title,
				properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[]
			};
			const choice = window
				? await dialog.showOpenDialog(window, options)
				: await dialog.showOpenDialog(options);
			return choice.canceled ? null : (choice.filePaths[0] ?? null);
		}
	});
}

app.on('second-instance', () => {
	const [window] = BrowserWindow.getAllWindows();
	if (window) {
		if (window.isMinimized()) window.restore();
		window.focus();
	}
});

app.on('window-all-closed', () => {
	if (process.platform !== 'darwin') app.quit();
});

app.on('will-quit', () => context?.close());
