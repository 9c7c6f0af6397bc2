import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { distDir } from './paths';
import { processTable } from './processes';

/** `noiselab serve` in a process of its own, so that a test can kill it as a crash or power cut would. */
export interface ServeProcess {
	/** The URL to open, token included. */
	url: string;
	/** The id of the serve process, which leads the process group its workers share. */
	pid: number;
	/** Everything it printed so far, stdout and stderr interleaved. */
	output(): string;
	/** Kills the server and every worker it started with SIGKILL: nothing gets to clean up. */
	killHard(): Promise<void>;
}

/**
 * Starts the built CLI's `serve` on a free port with `NOISELAB_HOME=dataDir`, `env` (e.g.
 * failpoints) and `extraArgs` (e.g. `--allow-any-path`). It leads a process group of its own
 * (`detached`), and forked workers join that group, so one signal to the group ends them all, as
 * when the machine loses power.
 */
export async function spawnServe(
	dataDir: string,
	env: Record<string, string> = {},
	extraArgs: readonly string[] = []
): Promise<ServeProcess> {
	const child = spawn(
		process.execPath,
		[path.join(distDir, 'cli', 'noiselab.cjs'), 'serve', '--port', '0', ...extraArgs],
		{
			env: { ...process.env, ...env, NOISELAB_HOME: dataDir },
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe']
		}
	);
	const pid = child.pid;
	if (pid === undefined) throw new Error('Could not start `noiselab serve`.');
	let output = '';
	child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const url = await new Promise<string>((resolve, reject) => {
		child.stdout?.on('data', (chunk: Buffer) => {
			output += chunk.toString();
			const match = /Open:\s+(\S+)/.exec(output);
			if (match?.[1]) resolve(match[1]);
		});
		child.once('exit', (code, signal) =>
			reject(new Error(`noiselab serve exited (${code ?? signal}) before listening:\n${output}`))
		);
	});
	return { url, pid, output: () => output, killHard: () => killGroup(child, pid, exited) };
}

async function killGroup(child: ChildProcess, pid: number, exited: Promise<void>): Promise<void> {
	try {
		process.kill(-pid, 'SIGKILL');
	} catch {
		return; // The group is already gone.
	}
	if (child.exitCode === null && child.signalCode === null) await exited;
	// The workers die with the group, but a little after its leader: wait until none is left.
	while (groupAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * Whether a live process is left in the process group `pgid` (a `serve` and its workers). On
 * Linux, /proc tells zombies apart: an orphaned worker may stay a zombie for good where PID 1
 * does not reap (containers), and a zombie cannot write a checkpoint.
 */
export function groupAlive(pgid: number): boolean {
	const table = processTable();
	if (table === null) {
		try {
			process.kill(-pgid, 0);
			return true;
		} catch {
			return false;
		}
	}
	return table.some((entry) => entry.pgrp === pgid && entry.state !== 'Z');
}
