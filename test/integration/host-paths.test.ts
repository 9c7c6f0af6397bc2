/**
 * What a web-mode client may touch on the host: by default only the data folder and the folders
 * the user allowed (symlinks resolved), for every method that takes a path; allowing a folder
 * from the browser takes the code printed on the host; and no refusal tells whether a path
 * exists or what a file holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiMethod } from '../../src/core/api/contract';
import type { Result } from '../../src/core/api/errors';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { temporaryFolder } from '../support/paths';

describe('host paths in web mode', () => {
	const outside = temporaryFolder('noiselab-outside-');
	const secret = path.join(outside.path, 'shadow');
	let app: TestServer;
	let api: TestApiClient;

	beforeAll(async () => {
		fs.writeFileSync(secret, 'root:$6$very-secret-hash:19000:0:99999:7:::\n');
		fs.mkdirSync(path.join(outside.path, 'images', 'cat'), { recursive: true });
		app = await startTestServer();
		api = await TestApiClient.connect(app);
	});
	afterAll(async () => {
		api?.close();
		await app?.stop();
		outside.remove();
	});

	const call = (method: ApiMethod, params: unknown) =>
		api.call(method, params as never) as Promise<Result<unknown>>;
	const config = (folder: string) => ({
		source: { kind: 'folder', path: folder },
		model: 'tiny',
		steps: 1
	});
	/** Every method that takes a host path, aimed at `target`. */
	const requests = (target: string): [ApiMethod, unknown][] => [
		['runs.exportBundle', { id: 1, path: path.join(target, 'victim.txt') }],
		['runs.importBundle', { path: target }],
		['evaluations.registerDataset', { path: target }],
		[
			'datasets.export',
			{ config: { preset: 'control-white_noise' }, seed: 0, count: 1, outDir: target }
		],
		['runs.start', { config: config(target) }],
		['runs.estimate', { config: config(target) }],
		[
			'runs.start',
			{ config: { source: { kind: 'dataset', dataset: target }, model: 'tiny', steps: 1 } }
		],
		['system.browseFolders', { path: target }],
		['evaluations.start', { runId: 1, dataset: target }],
		['explain.images', { dataset: target }],
		['explain.compute', { encoders: [{ runId: 1 }], dataset: target }]
	];

	it('reports its policy in the status', async () => {
		expect(await call('system.status', {})).toMatchObject({
			ok: true,
			value: { pathAccess: 'confined' }
		});
	});

	it('refuses every path outside the usable folders, the same whether it exists or not', async () => {
		for (const [method, params] of [
			...requests(secret),
			...requests(path.join(outside.path, 'images')),
			...requests('/etc')
		]) {
			const result = await call(method, params);
			expect(result.ok || result.error.code, `${method} ${JSON.stringify(params)}`).toBe(
				'PATH_NOT_ALLOWED'
			);
			expect(result.ok || result.error.message).not.toContain('root:');
		}
		const missing = path.join(outside.path, 'missing');
		const messages = async (target: string) =>
			Promise.all(
				requests(target).map(async ([method, params]) => {
					const result = await call(method, params);
					return result.ok ? 'ok' : result.error.message.replaceAll(target, 'TARGET');
				})
			);
		// A refusal reads the same for an existing and a missing path: no probing the machine.
		expect(await messages(missing)).toEqual(await messages(secret));
	});

	it('resolves symlinks and .. before deciding', async () => {
		const link = path.join(app.dataDir, 'innocent-link');
		fs.symlinkSync(outside.path, link);
		try {
			expect(await call('runs.importBundle', { path: path.join(link, 'shadow') })).toMatchObject({
				ok: false,
				error: { code: 'PATH_NOT_ALLOWED' }
			});
			expect(
				await call('evaluations.registerDataset', { path: path.join(link, 'images') })
			).toMatchObject({ ok: false, error: { code: 'PATH_NOT_ALLOWED' } });
			const dotdot = `${app.dataDir}/../${path.basename(outside.path)}/shadow`;
			expect(await call('runs.importBundle', { path: dotdot })).toMatchObject({
				ok: false,
				error: { code: 'PATH_NOT_ALLOWED' }
			});
		} finally {
			fs.rmSync(link);
		}
	});

	it('uses the data folder, and never quotes a file it could not import', async () => {
		const inside = path.join(app.dataDir, 'copied-shadow');
		fs.copyFileSync(secret, inside);
		const result = await call('runs.importBundle', { path: inside });
		expect(result.ok || result.error.code).toBe('INVALID_REQUEST');
		expect(result.ok || result.error.message).not.toContain('root');
	});

	it('allows a folder from the browser only with the code printed on the host', async () => {
		const folder = path.join(outside.path, 'images');
		const asked = await call('settings.allowFolder', { path: folder });
		expect(asked).toMatchObject({ ok: true, value: { status: 'confirm' } });
		const message = app.hostMessages.at(-1) ?? '';
		expect(message).toContain(folder);
		const code = /(\d{4}-\d{4})/.exec(message)?.[1] ?? '';
		// The code is shown on the host only: not in the answer to the browser.
		expect(JSON.stringify(asked)).not.toContain(code);

		const wrong = code === '0000-0000' ? '0000-0001' : '0000-0000';
		expect(await call('settings.allowFolder', { path: folder, code: wrong })).toMatchObject({
			ok: false,
			error: { code: 'INVALID_REQUEST', message: expect.stringContaining('2 more tries') }
		});
		expect(await call('settings.allowFolder', { path: folder, code })).toMatchObject({
			ok: true,
			value: { status: 'allowed', settings: { allowedFolders: [fs.realpathSync(folder)] } }
		});
		// Now the folder is usable: the request gets past the policy to the loader.
		const registered = await call('evaluations.registerDataset', { path: folder });
		expect(registered.ok || registered.error.code).toBe('INVALID_REQUEST');
		expect(await call('runs.importBundle', { path: secret })).toMatchObject({
			ok: false,
			error: { code: 'PATH_NOT_ALLOWED' }
		});

		expect(await call('settings.removeFolder', { path: folder })).toMatchObject({
			ok: true,
			value: { allowedFolders: [] }
		});
		expect(await call('evaluations.registerDataset', { path: folder })).toMatchObject({
			ok: false,
			error: { code: 'PATH_NOT_ALLOWED' }
		});
	});

	it('gives up a code after three wrong tries, and settings.update cannot widen the list', async () => {
		const folder = path.join(outside.path, 'images');
		await call('settings.allowFolder', { path: folder });
		const code = /(\d{4}-\d{4})/.exec(app.hostMessages.at(-1) ?? '')?.[1] ?? '';
		const wrong = code === '1111-1111' ? '2222-2222' : '1111-1111';
		for (let attempt = 0; attempt < 3; attempt++) {
			expect((await call('settings.allowFolder', { path: folder, code: wrong })).ok).toBe(false);
		}
		expect(await call('settings.allowFolder', { path: folder, code })).toMatchObject({
			ok: false,
			error: { code: 'INVALID_REQUEST', message: expect.stringContaining('Ask again') }
		});
		expect(await call('settings.update', { allowedFolders: ['/'] } as never)).toMatchObject({
			ok: false,
			error: { code: 'INVALID_REQUEST' }
		});
		expect(await call('settings.get', {})).toMatchObject({
			ok: true,
			value: { allowedFolders: [] }
		});
	});
});
