import { describe, expect, it } from 'vitest';
import { resolveDataDir } from '../../src/main/paths';

describe('resolveDataDir', () => {
	const base = { homedir: '/home/ada', env: {} as NodeJS.ProcessEnv };

	it('uses Electron userData first', () => {
		expect(
			resolveDataDir({ ...base, electronUserData: '/cfg/NoiseLab', env: { NOISELAB_HOME: '/x' } })
		).toEqual({ path: '/cfg/NoiseLab', source: 'electron-userData' });
	});

	it('uses $NOISELAB_HOME outside Electron', () => {
		expect(
			resolveDataDir({ ...base, platform: 'linux', env: { NOISELAB_HOME: '/data/nl' } })
		).toEqual({
			path: '/data/nl',
			source: 'NOISELAB_HOME'
		});
	});

	it('ignores a blank $NOISELAB_HOME', () => {
		expect(
			resolveDataDir({ ...base, platform: 'linux', env: { NOISELAB_HOME: '  ' } }).source
		).toBe('platform');
	});

	it('follows XDG on Linux', () => {
		expect(resolveDataDir({ ...base, platform: 'linux' }).path).toBe(
			'/home/ada/.local/share/noiselab'
		);
		expect(
			resolveDataDir({ ...base, platform: 'linux', env: { XDG_DATA_HOME: '/xdg' } }).path
		).toBe('/xdg/noiselab');
	});

	it('uses Application Support on macOS', () => {
		expect(resolveDataDir({ ...base, platform: 'darwin' }).path).toBe(
			'/home/ada/Library/Application Support/NoiseLab'
		);
	});

	it('uses %APPDATA% on Windows', () => {
		expect(
			resolveDataDir({
				homedir: 'C:\\Users\\ada',
				platform: 'win32',
				env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }
			}).path
		).toBe('C:\\Users\\ada\\AppData\\Roaming\\NoiseLab');
	});
});
