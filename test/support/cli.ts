import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './paths';

/** The CLI as a user runs it (`bin/noiselab.js`), on the data folder `home`. */
export function noiselabCli(home: string, timeoutMs = 120_000) {
	const bin = path.join(repoRoot, 'bin', 'noiselab.js');
	return (...args: string[]) =>
		spawnSync(process.execPath, [bin, ...args], {
			encoding: 'utf8',
			env: { ...process.env, NOISELAB_HOME: home },
			timeout: timeoutMs
		});
}
