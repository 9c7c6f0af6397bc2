import fs from 'node:fs';
import path from 'node:path';
import { installLastResortHandler } from '../../server/last-resort';
import { loadSessionToken } from '../../server/session-token';
import { isLoopbackHost, startWebServer } from '../../server/web-server';
import { cliAppContext, type CliCommand } from '../command';
import { folderProblem } from '../flags';

/** The port `serve` uses unless told otherwise. */
export const defaultServePort = 5177;

/** `noiselab serve`: the app in a browser, for remote GPU machines and for tests. */
export const serveCommand: CliCommand = {
	name: 'serve',
	summary: 'Run NoiseLab in your browser: serves the app and its API on this machine.',
	usage:
		'[--host 127.0.0.1] [--port 5177] [--allow-folder DIR ...] [--allow-any-path] [--new-token]',
	flagHelp: {
		host: 'address to listen on (default 127.0.0.1, this machine only)',
		port: `port to listen on (default ${defaultServePort}; 0 picks a free one)`,
		'allow-folder':
			'let the browser use this folder besides the data folder (repeatable; kept in Settings → Folders)',
		'allow-any-path':
			'let the browser read and write any path this user can (power users; off by default)',
		'new-token':
			'replace the session token kept in the data folder (open tabs then need the new URL)'
	},
	options: {
		host: { type: 'string', default: '127.0.0.1' },
		port: { type: 'string', default: String(defaultServePort) },
		'allow-folder': { type: 'string', multiple: true },
		'allow-any-path': { type: 'boolean', default: false },
		'new-token': { type: 'boolean', default: false }
	},
	async run(args, env) {
		const host = String(args.values.host);
		const port = Number(args.values.port);
		if (!Number.isInteger(port) || port < 0 || port > 65535) {
			env.stderr(
				`--port must be a whole number from 0 to 65535; got ${JSON.stringify(args.values.port)}.`
			);
			return 2;
		}
		const rendererDir = path.join(env.distDir, 'renderer');
		if (!fs.existsSync(path.join(rendererDir, 'index.html'))) {
			env.stderr(`The app is not built (${rendererDir} is missing). Run \`npm run build\` first.`);
			return 1;
		}
		const anyPath = args.values['allow-any-path'] === true;
		const folders = ((args.values['allow-folder'] as string[] | undefined) ?? []).map((folder) =>
			path.resolve(folder)
		);
		const missing = folders.map((folder) => folderProblem('allow-folder', folder)).find(Boolean);
		if (missing) {
			env.stderr(missing);
			return 2;
		}
		const removeLastResort = installLastResortHandler(env.stderr);
		const context = cliAppContext(env, 'owner', {
			pathAccess: anyPath ? 'any' : 'confined',
			// Folder confirmation codes appear here, where only the person at the host sees them.
			tellHost: env.stderr
		});
		if (context.store.ok) for (const folder of folders) context.hostPaths.allowOnHost(folder);
		let server;
		let session;
		try {
			// The same data folder keeps its token across restarts, so open tabs reconnect.
			session = loadSessionToken(context.dataDir.path, args.values['new-token'] === true);
			server = await startWebServer({
				host,
				port,
				rendererDir,
				context,
				token: session.token,
				log: env.stderr
			});
		} catch (error) {
			context.close();
			removeLastResort();
			env.stderr((error as Error).message);
			return 1;
		}
		if (!isLoopbackHost(host)) {
			env.stderr(
				`Warning: listening on ${host} makes NoiseLab reachable from other machines. Anyone who has the URL below can use it and read and write your data folder. Prefer the default 127.0.0.1 with an SSH tunnel (ssh -L ${server.port}:127.0.0.1:${server.port} this-machine).`
			);
		}
		if (anyPath) {
			env.stderr(
				'Warning: --allow-any-path lets anyone with the URL below read and write every file this user can. Prefer --allow-folder DIR.'
			);
		}
		if (!context.store.ok) env.stderr(`Warning: ${context.store.error.message}`);
		env.stdout(
			[
				'NoiseLab web mode',
				`  Open:        ${server.url}`,
				`  Token:       ${session.created ? 'new' : 'the same as last time'} (kept in ${session.file}; --new-token replaces it)`,
				`  Data folder: ${context.dataDir.path}`,
				`  Folders:     ${anyPath ? 'any path (--allow-any-path)' : describeFolders(context.hostPaths.roots().length - 1)}`,
				'  Press Ctrl-C to stop.'
			].join('\n')
		);
		void context.backends.probe();
		// The server works through the queue: trainings, evaluations and studies left waiting or
		// interrupted by the last stop continue now.
		if (context.store.ok) context.queue.work();
		const running = server;
		await new Promise<void>((resolve) => {
			const stop = () => resolve();
			process.once('SIGINT', stop);
			process.once('SIGTERM', stop);
		});
		await running.close();
		context.close();
		removeLastResort();
		env.stdout('Stopped.');
		return 0;
	}
};

function describeFolders(allowed: number): string {
	return `the data folder${allowed === 0 ? '' : ` and ${allowed} allowed folder${allowed === 1 ? '' : 's'}`} (Settings → Folders)`;
}
