import { utilityProcess } from 'electron';
import { tailBuffer, type WorkerLauncher } from './host';

/**
 * Starts a worker as an Electron utility process: a Node process that Electron manages, so it
 * is sandbox-aware, named in the task manager and ends with the app.
 */
export const forkUtilityWorker: WorkerLauncher = (entryFile, { name }) => {
	const stderr = tailBuffer();
	const child = utilityProcess.fork(entryFile, [], {
		serviceName: `NoiseLab ${name} worker`,
		stdio: 'pipe',
		env: { ...process.env, NOISELAB_WORKER: name }
	});
	child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
	child.stdout?.on('data', () => undefined); // Drain, so a chatty worker never blocks.
	return {
		get pid() {
			return child.pid;
		},
		send: (message) => child.postMessage(message),
		onMessage: (listener) => child.on('message', listener),
		onExit: (listener) => child.on('exit', (code) => listener({ code, signal: null })),
		stderrTail: stderr.read,
		kill: () => {
			child.kill();
		}
	};
};
