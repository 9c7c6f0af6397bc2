/**
 * The sandboxed preload: exposes `window.noiselab` with one function per contract method and an
 * event subscription. No Node or Electron object reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { ipcChannelFor, ipcEventChannel, type PreloadBridge } from '../core/api/client';
import type { ApiEvent } from '../core/api/contract';
import { apiMethodNames } from '../core/api/methods';
import type { Result } from '../core/api/errors';

const methods = Object.fromEntries(
	apiMethodNames.map((method) => [
		method,
		(params: unknown) =>
			ipcRenderer.invoke(ipcChannelFor(method), params) as Promise<Result<unknown>>
	])
) as PreloadBridge['methods'];

const bridge: PreloadBridge = {
	methods,
	subscribe(listener) {
		const forward = (_event: IpcRendererEvent, apiEvent: ApiEvent) => listener(apiEvent);
		ipcRenderer.on(ipcEventChannel, forward);
		return () => ipcRenderer.removeListener(ipcEventChannel, forward);
	}
};

contextBridge.exposeInMainWorld('noiselab', bridge);
