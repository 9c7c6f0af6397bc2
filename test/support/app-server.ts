import path from 'node:path';
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
	stop(): Promise<void>;
}

/**
 * Starts the app exactly as `noiselab serve` does, in this process; `launcher` may wrap the
 * worker launcher (e.g. to arm failpoints in its workers).
 */
export async function startTestServer(
	dataDir = temporaryFolder(),
	launcher: WorkerLauncher = forkNodeWorker
): Promise<TestServer> {
	const context = createAppContext({
		dataDir: { path: dataDir.path, source: 'NOISELAB_HOME' },
		launcher,
		workersDir: path.join(distDir, 'workers')
	});
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
		stop: async () => {
			await server.close();
			context.close();
			dataDir.remove();
		}
	};
}
