/**
 * What the CLI says about a wrong invocation: every message names the flag the user typed, what
 * it expects and the value received, with exit code 2 and no stack trace. Each case runs the
 * built CLI in a data folder of its own, so cases can run side by side.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, temporaryFolder } from '../support/paths';

const bin = path.join(repoRoot, 'bin', 'noiselab.js');
const scratch = temporaryFolder('noiselab-cli-messages-');
const aFile = path.join(scratch.path, 'notes.txt');
fs.writeFileSync(aFile, 'not images');
const aFolder = path.join(scratch.path, 'folder');
fs.mkdirSync(aFolder);
const missing = path.join(scratch.path, 'missing');

/** Runs the CLI in a fresh data folder; resolves with its exit code and stderr. */
function cli(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
	const home = fs.mkdtempSync(path.join(scratch.path, 'home-'));
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [bin, ...args], {
			env: { ...process.env, NOISELAB_HOME: home },
			stdio: ['ignore', 'ignore', 'pipe']
		});
		let stderr = '';
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		child.once('error', reject);
		child.once('exit', (status) => resolve({ status, stderr }));
	});
}

const train = ['train', '--preset', 'dead_leaves-mixed'];
const evaluate = ['eval', '--dataset', 'fashion-mnist-mini'];

/** [arguments, what the message must say]; every case exits with 2. */
const cases: [string[], string][] = [
	[[...train, '--steps', '-5'], '--steps must be at least 1; got -5.'],
	[[...train, '--steps', 'ten'], '--steps must be a number; got "ten".'],
	[[...train, '--steps', '2.5'], '--steps must be a whole number; got 2.5.'],
	[[...train], '--steps is required'],
	[[...train, '--steps', '10', '--batch', '-1'], '--batch must be at least 4; got -1.'],
	[[...train, '--steps', '10', '--lr', '-0.5'], '--lr must be more than 0; got -0.5.'],
	[[...train, '--steps', '10', '--size', '5000'], '--size must be at most 512; got 5000.'],
	[
		[...train, '--steps', '10', '--model', 'huge'],
		'--model must be one of alexnet, small, tiny; got "huge".'
	],
	[
		[...train, '--steps', '10', '--checkpoint-every', '-1'],
		'--checkpoint-every must be at least 1; got -1.'
	],
	[['train', '--folder', aFile, '--steps', '10'], `--folder: ${aFile} is a file, not a folder`],
	[['train', '--folder', missing, '--steps', '10'], `--folder: there is no folder at ${missing}`],
	[['train', '--resume', '-1'], '--resume takes a run id (see noiselab runs list); got "-1".'],
	[[...evaluate], '--run is required'],
	[[...evaluate, '--run', 'abc'], '--run must be a number; got "abc".'],
	[[...evaluate, '--run', '-3'], '--run must be at least 1; got -3.'],
	[[...evaluate, '--run', '1', '--epochs', '-2'], '--epochs must be at least 1; got -2.'],
	[[...evaluate, '--run', '1', '--real-run', 'x'], '--real-run must be a number; got "x".'],
	[[...evaluate, '--run', '1', '--layer', 'conv9'], '--layer must be one of'],
	[[...evaluate, '--run', '1', '--max-train', '-10'], '--max-train must be at least 10; got -10.'],
	[
		['generate', '--preset', 'dead_leaves-mixed', '--count', '-5', '--out', aFolder],
		'--count must be a whole number from 1 up; got "-5".'
	],
	[
		['explain', '--runs', '1', '--index', '-1', '--out', 'x.png'],
		'--index must be a whole number ≥ 0; got -1.'
	],
	[
		['explain', '--runs', '1', '--opacity', '-0.5', '--out', 'x.png'],
		'--opacity must be 0–1; got -0.5.'
	],
	[
		['explain', '--runs', '1', '--image', aFolder, '--out', 'x.png'],
		`--image: ${aFolder} is a folder, not an image file.`
	],
	[
		['explain', '--runs', '1', '--image', missing, '--out', 'x.png'],
		`--image: there is no file at ${missing}.`
	],
	[
		['generate', '--preset', 'dead_leaves-mixed', '--count', '5', '--out', aFile],
		`--out: ${aFile} is a file, not a folder.`
	],
	[['quickstart', '--steps', '-5'], '--steps must be at least 1; got -5.'],
	[['runs', 'show', 'x'], 'noiselab runs show takes run ids (see noiselab runs list); got "x".'],
	[['runs', 'bundle', '1.5', '--out', 'b.nlrun'], 'noiselab runs bundle takes run ids'],
	[['serve', '--port', '-1'], '--port must be a whole number from 0 to 65535; got "-1".'],
	[['serve', '--allow-folder', aFile], `--allow-folder: ${aFile} is a file, not a folder.`]
];

describe.concurrent('CLI messages name the flag, what it expects and the value received', () => {
	afterAll(() => scratch.remove());

	it.each(cases)('noiselab %j', async (args, expected) => {
		const { status, stderr } = await cli(args);
		expect(stderr).toContain(expected);
		expect(stderr).not.toMatch(
			/ambiguous|runId|realRunId|maxTrain|checkpointEvery|does not exist|\n\s+at /
		);
		expect(status, stderr).toBe(2);
	});
});
