// `npm start`: launches the built app in Electron. The electron package fetches its binary on
// first launch; where that is impossible (offline, blocked), say so briefly and point to web mode.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const webModeHint =
	'NoiseLab runs the same app in your browser without Electron: `npm run serve`, then open the URL it prints.';

console.log('Locating the Electron binary (downloaded on first launch)…');
const located = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], {
	cwd: root,
	encoding: 'utf8'
});
const binary = located.status === 0 ? located.stdout.trim() : '';
if (!binary || !fs.existsSync(binary)) {
	const reason = `${located.stderr ?? ''}`
		.split('\n')
		.map((line) => line.trim())
		.find((line) => /^\w*Error\b/.test(line)); // The first error is the cause (e.g. fetch failed).
	console.error(
		`\nThe Electron binary is not available and could not be downloaded${reason ? ` (${reason})` : ''}.\n${webModeHint}\n` +
			'To retry the download later, run `npx install-electron --no` or delete node_modules/electron and run `npm install`.'
	);
	process.exit(1);
}
const child = spawn(binary, [root], { stdio: 'inherit', windowsHide: false });
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
