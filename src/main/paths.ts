import os from 'node:os';
import path from 'node:path';
import type { dataDirSources } from '../core/api/contract';

/** Where the data folder is, and which rule chose it. */
export interface DataDir {
	path: string;
	source: (typeof dataDirSources)[number];
}

/** What {@link resolveDataDir} looks at; injectable so that tests cover every platform. */
export interface DataDirInputs {
	/** Electron's `app.getPath('userData')`, when running inside Electron. */
	electronUserData?: string | undefined;
	env?: NodeJS.ProcessEnv;
	platform?: NodeJS.Platform;
	homedir?: string;
}

/**
 * Resolves the data folder: Electron's userData, else `$NOISELAB_HOME`, else the platform's
 * per-user data folder (XDG on Linux, Application Support on macOS, %APPDATA% on Windows).
 */
export function resolveDataDir(inputs: DataDirInputs = {}): DataDir {
	const env = inputs.env ?? process.env;
	const platform = inputs.platform ?? process.platform;
	const home = inputs.homedir ?? os.homedir();
	if (inputs.electronUserData)
		return { path: inputs.electronUserData, source: 'electron-userData' };
	const fromEnv = env.NOISELAB_HOME?.trim();
	if (fromEnv) return { path: path.resolve(fromEnv), source: 'NOISELAB_HOME' };
	const join = platform === 'win32' ? path.win32.join : path.posix.join;
	switch (platform) {
		case 'win32':
			return {
				path: join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'NoiseLab'),
				source: 'platform'
			};
		case 'darwin':
			return { path: join(home, 'Library', 'Application Support', 'NoiseLab'), source: 'platform' };
		default:
			return {
				path: join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'noiselab'),
				source: 'platform'
			};
	}
}
