import path from 'node:path';
import type { HostPathAccess } from '../../src/core/api/settings';
import { createAppContext, type AppContext } from '../../src/main/app-context';
import { startWebServer, type WebServer } from '../../src/main/server/web-server';
import type { WorkerLauncher } from '../../src/main/workers/host';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { distDir, temporaryFolder } from './paths';

/** A real web-mode server on a free loopback port, with its own data folder. */
export interface TestServer {
	server: WebServer;
	context: AppContext;
	dataDir: string;
	/** What the server printed for the person at the host (folder confirmation codes). */
	hostMessages: string[];
	stop(): Promise<void>;
}

/**
 * Starts the app exactly as `noiselab serve` does, in this process: host paths confined to the
 * data folder and `allowFolders` (as `serve --allow-folder`); `launcher` may wrap the worker
 * launcher (e.g. to arm failpoints in its workers).
 */
export async function startTestServer(
	dataDir = temporaryFolder(),
	{
		allowFolders = [],
		launcher = forkNodeWorker,
		pathAccess = 'confined'
	}: {
		allowFolders?: readonly string[];
		launcher?: WorkerLauncher;
		/** `any` as the desktop app, for suites that test what lies behind the path policy. */
		pathAccess?: HostPathAccess;
	} = {}
): Promise<TestServer> {
	const hostMessages: string[] = [];
	const context = createAppContext({
		dataDir: { path: dataDir.path, source: 'NOISELAB_HOME' },
		launcher,
		workersDir: path.join(distDir, 'workers'),
		pathAccess,
		tellHost: (message) => hostMessages.push(message)
	});
	for (const folder of allowFolders) context.hostPaths.allowOnHost(folder);
	const server = await startWebServer({
		host: '127.0.0.1',
		port: 0,
		rendererDir: path.join(distDir, 'renderer'),
		context
	});
	return {
		server,
		context,
		dataDir: dataDir.path,
		hostMessages,
		stop: async () => {
			await server.close();
			context.close();
			dataDir.remove();
		}
	};
}
