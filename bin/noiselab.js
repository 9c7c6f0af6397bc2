#!/usr/bin/env node
// Checks the Node version before loading anything native: better-sqlite3 13 crashes on Node 20.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
	process.stderr.write(
		`NoiseLab needs Node.js 22.12 or newer; this is ${process.versions.node}.\n` +
			'Install Node 22 LTS (e.g. `npm install --prefix ~/.cache/node22 node@22` and put ' +
			'~/.cache/node22/node_modules/.bin first on PATH), then run the command again.\n'
	);
	process.exit(1);
}
const cli = fileURLToPath(new URL('../dist/cli/noiselab.cjs', import.meta.url));
if (!fs.existsSync(cli)) {
	process.stderr.write(
		'NoiseLab is not built yet. Run `npm run build` (npm install also builds it).\n'
	);
	process.exit(1);
}
createRequire(import.meta.url)(cli);
