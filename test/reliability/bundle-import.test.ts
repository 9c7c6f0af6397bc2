import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCheckpoint } from '../../src/core/training/checkpoint';
import { bundleLimits } from '../../src/main/training/bundle-reader';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import {
	manyEvaluations,
	tinyBundleParts,
	writeBundle,
	type BundleParts
} from '../support/bundles';
import { temporaryFolder } from '../support/paths';
import { childrenLeft } from '../support/processes';

/**
 * Hostile and damaged files given to `runs.importBundle` of a real server: each is refused with
 * a clear error that never quotes the file, before anything reaches the store or the runs
 * folder; a sound bundle still imports.
 */
describe('importing a run bundle that came from anywhere', () => {
	let app: TestServer;
	let api: TestApiClient;
	const files = temporaryFolder('noiselab-bundles-');

	beforeAll(async () => {
		// The reader is under test, not web mode's path policy: any path, as the desktop app.
		app = await startTestServer(undefined, { pathAccess: 'any' });
		api = await TestApiClient.connect(app);
	});
	afterAll(async () => {
		api.close();
		await app.stop();
		files.remove();
		// Every bundle-reader worker this suite caused has ended.
		expect(await childrenLeft()).toEqual([]);
	});

	const runsFolder = () => path.join(app.dataDir, 'runs');
	/** Imports `file` and expects a refusal, with nothing written; returns the message. */
	async function refused(file: string, code = 'INVALID_REQUEST'): Promise<string> {
		const result = await api.call('runs.importBundle', { path: file });
		expect(result.ok, `${file} was imported`).toBe(false);
		if (result.ok) return '';
		expect(result.error.code).toBe(code);
		const runs = await api.call('runs.list', {});
		expect(runs.ok && runs.value).toEqual([]);
		expect(fs.existsSync(runsFolder()) ? fs.readdirSync(runsFolder()) : []).toEqual([]);
		return result.error.message;
	}
	const bundle = (name: string, change: (parts: BundleParts) => void = () => undefined) => {
		const parts = tinyBundleParts();
		change(parts);
		const file = path.join(files.path, `${name}.nlrun`);
		writeBundle(file, parts);
		return file;
	};

	it('refuses what is not a regular file before reading it: a device, a pipe, a folder', async () => {
		expect(await refused('/dev/zero')).toContain(
			'is not a regular file (a device, pipe or socket)'
		);
		const fifo = path.join(files.path, 'pipe.nlrun');
		execFileSync('mkfifo', [fifo]);
		// Nobody writes to it: reading it would wait forever.
		expect(await refused(fifo)).toContain('is not a regular file');
		expect(await refused(files.path)).toContain('it is a folder, not a bundle file');
		expect(await refused(path.join(files.path, 'missing.nlrun'), 'NOT_FOUND')).toContain(
			'There is no file'
		);
	});

	it('never quotes the file it refuses', async () => {
		const secret = path.join(files.path, 'shadow');
		fs.writeFileSync(secret, 'root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\n');
		const notJson = path.join(files.path, 'not-json.nlrun');
		const prefix = Buffer.alloc(12);
		prefix.write('NLCK', 0, 'ascii');
		prefix.writeUInt32LE(1, 4);
		prefix.writeUInt32LE(24, 8);
		fs.writeFileSync(notJson, Buffer.concat([prefix, Buffer.from('{"secret": hunter2 !!!!}')]));
		for (const [file, why] of [
			[secret, 'it is not a NoiseLab run bundle (it does not start like one)'],
			[notJson, 'its header is unreadable (The checkpoint header is not valid JSON.)']
		] as const) {
			const message = await refused(file);
			expect(message).toBe(`Cannot import ${file}: ${why}.`);
		}
	});

	// The 14.6 MB bundle of 100,000 evaluation rows froze the server for 30 s and left it at
	// 4.3 GB; this one (valid rows, so the old code imported it: 77 s, 4.2 GB) is refused by count.
	it(`refuses a bundle with 100,000 evaluation rows by its limit (${bundleLimits.evaluationRows})`, async () => {
		const file = bundle('many-evaluations', (parts) => {
			parts.evaluations = manyEvaluations(100_000);
		});
		expect(fs.statSync(file).size).toBeGreaterThan(14 * 2 ** 20);
		expect(await refused(file)).toContain(
			`it holds 100000 evaluations, more than the ${bundleLimits.evaluationRows} a bundle may hold`
		);
	});

	it('refuses a header larger than a bundle may hold without reading it', async () => {
		const file = path.join(files.path, 'huge-header.nlrun');
		const prefix = Buffer.alloc(64);
		prefix.write('NLCK', 0, 'ascii');
		prefix.writeUInt32LE(1, 4);
		prefix.writeUInt32LE(0xfffffff0, 8);
		fs.writeFileSync(file, prefix);
		expect(await refused(file)).toMatch(/its header is 4096\.0 MiB, more than the 256\.0 MiB/);
	});

	it('refuses weights that fail their own hash, hold NaN, or do not fit the recorded encoder', async () => {
		expect(
			await refused(
				bundle('altered', (parts) => {
					parts.dataSha256 = '0'.repeat(64);
				})
			)
		).toContain('its weights fail their own SHA-256');
		expect(
			await refused(
				bundle('nan', (parts) => {
					const kernel = parts.tensors['conv3/kernel'];
					if (kernel) kernel.data[17] = Number.NaN;
				})
			)
		).toContain("its tensor 'conv3/kernel' holds NaN or infinite values");
		expect(
			await refused(
				bundle('other-encoder', (parts) => {
					parts.run = { ...parts.run, config: { ...parts.run.config, model: 'small' } };
				})
			)
		).toMatch(/its checkpoint is not of the run's small encoder/);
		expect(
			await refused(
				bundle('other-shapes', (parts) => {
					parts.run = { ...parts.run, config: { ...parts.run.config, model: 'small' } };
					parts.checkpointMeta = { ...parts.checkpointMeta, model: 'small' };
				})
			)
		).toMatch(/its weights do not fit the run's small encoder: 'conv1\/kernel' is \[3, 3, 3, 24\]/);
		expect(
			await refused(
				bundle('extra-tensor', (parts) => {
					parts.tensors['backdoor'] = { shape: [2], data: Float32Array.of(1, 2) };
				})
			)
		).toContain("it holds 'backdoor', which a sgd run does not have");
	});

	it('refuses a checkpoint step outside 0..steps, steps logged beyond the run, and a cut file', async () => {
		for (const step of [9, -1]) {
			expect(
				await refused(
					bundle(`step-${step}`, (parts) => {
						parts.checkpointStep = step;
						parts.checkpointMeta = { ...parts.checkpointMeta, step };
					})
				)
			).toContain(`its checkpoint is at step ${step}, outside the run's 0..8`);
		}
		expect(
			await refused(
				bundle('late-metrics', (parts) => {
					parts.metrics = parts.metrics.map((point, index) =>
						index === 0 ? { ...point, step: 12 } : point
					);
				})
			)
		).toContain("it logs steps outside the run's 1..8");
		const cut = bundle('cut');
		fs.truncateSync(cut, fs.statSync(cut).size - 100);
		expect(await refused(cut)).toContain('it is truncated');
		const checkpoint = path.join(files.path, 'a-checkpoint.nlck');
		fs.writeFileSync(
			checkpoint,
			encodeCheckpoint({ meta: { format: 'noiselab-checkpoint' }, tensors: {} })
		);
		expect(await refused(checkpoint)).toContain('a checkpoint, perhaps?');
	});

	it('imports a sound bundle after all that', async () => {
		const file = bundle('sound');
		const imported = await api.call('runs.importBundle', { path: file });
		if (!imported.ok) throw new Error(imported.error.message);
		expect(imported.value).toMatchObject({
			name: 'fabricated (imported)',
			status: 'completed',
			step: 8
		});
		const detail = await api.call('runs.get', { id: imported.value.id });
		expect(detail.ok && detail.value.checkpoints.map((checkpoint) => checkpoint.step)).toEqual([8]);
	});
});
