import { fork } from 'node:child_process';
import { tailBuffer, type WorkerLauncher } from './host';

/**
 * Starts a worker with Node's `child_process.fork`: used by the web server, the CLI and the
 * tests. `advanced` serialisation carries typed arrays without copying them into JSON.
 */
export const forkNodeWorker: WorkerLauncher = (entryFile, { name }) => {
	const stderr = tailBuffer();
	const child = fork(entryFile, [], {
		serialization: 'advanced',
		stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
		execArgv: [],
		env: { ...process.env, NOISELAB_WORKER: name }
	});
	const echo = process.env.NOISELAB_DEBUG_WORKERS === '1';
	child.stdout?.on('data', (chunk: Buffer) => {
		if (echo) process.stdout.write(`[${name}] ${chunk.toString()}`);
	});
	child.stderr?.on('data', (chunk: Buffer) => {
		stderr.push(chunk);
		if (echo) process.stderr.write(`[${name}] ${chunk.toString()}`);
	});
	return {
		pid: child.pid,
		send: (message) => {
			if (child.connected) child.send(message);
		},
		onMessage: (listener) => child.on('message', listener),
		// 'close' fires after stdio is drained, so the stderr tail is complete.
		onExit: (listener) => child.on('close', (code, signal) => listener({ code, signal })),
		stderrTail: stderr.read,
		kill: () => child.kill()
	};
};
