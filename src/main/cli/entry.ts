/** Entry of the built CLI (`dist/cli/noiselab.cjs`), loaded by `bin/noiselab.js`. */
import path from 'node:path';
import { runCli } from './main';

runCli(process.argv.slice(2), {
	distDir: path.resolve(__dirname, '..'),
	stdout: (text) => process.stdout.write(`${text}\n`),
	stderr: (text) => process.stderr.write(`${text}\n`)
}).then(
	(code) => {
		process.exitCode = code;
	},
	(error: unknown) => {
		process.stderr.write(`noiselab: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exitCode = 1;
	}
);
