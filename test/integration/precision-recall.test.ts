import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageAt } from '../../src/core/evaluation/dataset';
import { datasetSeed, stratifiedSubset } from '../../src/main/evaluation/evaluate-job';
import { loadDataset } from '../../src/main/evaluation/loaders/index';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { temporaryFolder } from '../support/paths';

describe('precision and recall of noise against real images (web mode, real workers)', () => {
	let app: TestServer;
	let api: TestApiClient;
	const folders = temporaryFolder();
	beforeAll(async () => {
		app = await startTestServer(undefined, { allowFolders: [folders.path] });
		api = await TestApiClient.connect(app);
	});
	afterAll(async () => {
		api.close();
		await app.stop();
		folders.remove();
	});

	const randomTiny = { kind: 'random-init', model: 'tiny', seed: 0 } as const;

	it('scores a generator against Fashion-MNIST, with progress, and reuses cached features', async () => {
		const request = {
			noise: { kind: 'generator', config: { preset: 'dead_leaves-mixed', size: 64 }, seed: 1 },
			dataset: 'fashion-mnist-mini',
			encoder: randomTiny,
			samples: 48,
			jobId: 'first'
		} as const;
		const result = await api.call('analysis.precisionRecall', request);
		expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
		if (!result.ok) return;
		expect(result.value).toMatchObject({
			k: 3,
			layer: 'fc6',
			noiseCount: 48,
			realCount: 48,
			featureDim: 1024,
			dataset: 'fashion-mnist-mini',
			encoderLabel: 'random init (tiny, seed 0)',
			encoderSha256: null,
			noiseLabel: 'dead_leaves-mixed · 64 px · seed 1 · 48 images',
			cached: { noise: false, real: false }
		});
		for (const score of [result.value.precision, result.value.recall]) {
			expect(score).toBeGreaterThanOrEqual(0);
			expect(score).toBeLessThanOrEqual(1);
		}
		const phases = new Set(api.eventsNamed('analysis.progress').map((event) => event.phase));
		expect([...phases].sort()).toEqual(['loading', 'noise', 'real', 'scoring']);
		expect(api.eventsNamed('analysis.progress').every((event) => event.jobId === 'first')).toBe(
			true
		);

		const again = await api.call('analysis.precisionRecall', { ...request, jobId: 'again' });
		expect(again.ok && again.value).toMatchObject({
			precision: result.value.precision,
			recall: result.value.recall,
			cached: { noise: true, real: true }
		});
	});

	it('gives 1 and 1 when the noise folder holds exactly the real images it is compared with', async () => {
		const dataset = await loadDataset('fashion-mnist-mini', { seed: datasetSeed, cacheDir: null });
		const real = stratifiedSubset(dataset.train, 40, 0);
		const folder = path.join(folders.path, 'same-images');
		fs.mkdirSync(folder);
		for (let index = 0; index < real.images.count; index++) {
			const image = imageAt(real.images, index);
			await sharp(Buffer.from(image.data), {
				raw: { width: image.width, height: image.height, channels: 3 }
			})
				.png()
				.toFile(path.join(folder, `${String(index).padStart(3, '0')}.png`));
		}
		const result = await api.call('analysis.precisionRecall', {
			noise: { kind: 'folder', path: folder },
			dataset: 'fashion-mnist-mini',
			encoder: randomTiny,
			samples: 40,
			layer: 'conv5'
		});
		expect(result.ok, result.ok ? '' : result.error.message).toBe(true);
		expect(result.ok && result.value).toMatchObject({ precision: 1, recall: 1, realCount: 40 });
	});

	it('stops when cancelled, and refuses what it cannot measure', async () => {
		const running = api.call('analysis.precisionRecall', {
			noise: { kind: 'generator', config: { preset: 'stat-spectrum' }, seed: 0 },
			dataset: 'fashion-mnist-mini',
			encoder: randomTiny,
			samples: 2000,
			jobId: 'to-cancel'
		});
		await until(() =>
			api.eventsNamed('analysis.progress').some((event) => event.jobId === 'to-cancel')
		);
		expect(await api.call('analysis.cancel', { jobId: 'to-cancel' })).toEqual({
			ok: true,
			value: { cancelled: true }
		});
		const cancelled = await running;
		expect(cancelled.ok === false && cancelled.error.code).toBe('CANCELLED');

		const noRun = await api.call('analysis.precisionRecall', {
			noise: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
			dataset: 'fashion-mnist-mini',
			encoder: { kind: 'run', runId: 999 }
		});
		expect(noRun.ok === false && noRun.error).toEqual({
			code: 'NOT_FOUND',
			message: 'There is no run 999.'
		});
		const fewFiles = await api.call('analysis.precisionRecall', {
			noise: { kind: 'folder', path: path.join(folders.path, 'same-images') },
			dataset: 'fashion-mnist-mini',
			encoder: randomTiny,
			samples: 100
		});
		expect(fewFiles.ok === false && fewFiles.error.message).toMatch(
			/holds 40 images; precision and recall of 100 samples need at least as many/
		);
		// Web mode reads only the data folder and the folders allowed in Settings.
		const outside = temporaryFolder();
		try {
			const refused = await api.call('analysis.precisionRecall', {
				noise: { kind: 'folder', path: outside.path },
				dataset: 'fashion-mnist-mini',
				encoder: randomTiny
			});
			expect(refused.ok === false && refused.error.code).toBe('PATH_NOT_ALLOWED');
		} finally {
			outside.remove();
		}
	});
});

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}
