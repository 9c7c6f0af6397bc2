import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGenerator } from '../../src/core/generators/registry';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { failpointLauncher } from '../support/failpoints';
import { temporaryFolder } from '../support/paths';

describe('the Generator Studio API (web mode, real workers)', () => {
	let app: TestServer;
	let api: TestApiClient;
	const exports = temporaryFolder();
	const failpoints = failpointLauncher();
	beforeAll(async () => {
		app = await startTestServer(undefined, {
			allowFolders: [exports.path],
			launcher: failpoints.launcher
		});
		api = await TestApiClient.connect(app);
	});
	afterAll(async () => {
		api.close();
		await app.stop();
		exports.remove();
	});

	it('lists every generator with its parameter schema and the presets', async () => {
		const catalogue = await api.call('generators.catalogue', {});
		expect(catalogue.ok).toBe(true);
		if (!catalogue.ok) return;
		expect(catalogue.value.presets.map((preset) => preset.name)).toContain('control-white_noise');
		const statistical = catalogue.value.generators.find(
			(generator) => generator.id === 'statistical'
		);
		expect(statistical?.params.slopeLow).toMatchObject({
			kind: 'number',
			min: expect.any(Number),
			max: expect.any(Number)
		});
	});

	it('returns preview pixels as bytes, identical to the generator’s output', async () => {
		const preview = await api.call('generators.preview', {
			config: { preset: 'control-white_noise', size: 32 },
			seed: 5,
			indices: [0, 1, 2]
		});
		expect(preview.ok).toBe(true);
		if (!preview.ok) return;
		expect(preview.value.images.map((image) => image.index)).toEqual([0, 1, 2]);
		const expected = await findGenerator('white_noise')?.generate({}, 5, 2, 32);
		expect(preview.value.images[2]?.rgb).toBeInstanceOf(Uint8Array);
		expect(
			Buffer.from(preview.value.images[2]?.rgb ?? []).equals(Buffer.from(expected?.data ?? []))
		).toBe(true);
	});

	it('streams preview images as events once past the threshold, else sends them whole', async () => {
		const fast = await api.call('generators.preview', {
			config: { preset: 'control-mean_colour', size: 32 },
			seed: 9,
			indices: [4, 5, 6],
			progressiveId: 'fast-grid',
			streamAfterMs: 600_000
		});
		expect(fast.ok).toBe(true);
		const slow = await api.call('generators.preview', {
			config: { preset: 'control-white_noise', size: 32 },
			seed: 9,
			indices: [0, 1, 2],
			progressiveId: 'slow-grid',
			streamAfterMs: 0
		});
		expect(slow.ok).toBe(true);
		if (!slow.ok) return;
		const streamed = (id: string) =>
			api.eventsNamed('generators.previewImage').filter((event) => event.progressiveId === id);
		expect(streamed('fast-grid')).toEqual([]);
		expect(streamed('slow-grid').map((event) => event.image.index)).toEqual([0, 1, 2]);
		const last = streamed('slow-grid').at(-1);
		expect(
			Buffer.from(last?.image.rgb ?? []).equals(Buffer.from(slow.value.images[2]?.rgb ?? []))
		).toBe(true);
	});

	it('cancels a stale preview when a newer one arrives on the same stream', async () => {
		const slow = api.call('generators.preview', {
			config: { preset: 'stat-spectrum_color_wmm', size: 128 },
			seed: 1,
			indices: [0, 1, 2, 3, 4, 5, 6, 7],
			stream: 'grid'
		});
		const fresh = api.call('generators.preview', {
			config: { preset: 'control-mean_colour', size: 32 },
			seed: 1,
			indices: [0],
			stream: 'grid'
		});
		const [stale, latest] = await Promise.all([slow, fresh]);
		expect(stale.ok || stale.error.code).toBe('CANCELLED');
		expect(latest.ok).toBe(true);
	});

	it('fills textured dead leaves’ textures with progress events and cancels the grid on request', async () => {
		const grid = api.call('generators.preview', {
			config: { preset: 'dead_leaves-textures', size: 64 },
			seed: 3,
			indices: [0, 1, 2, 3],
			stream: 'textured',
			progressiveId: 'textured-grid',
			streamAfterMs: 0
		});
		const first = await api.waitForEvent(
			'generators.previewTextures',
			(event) => event.progressiveId === 'textured-grid',
			120_000
		);
		expect(first.filled).toBeGreaterThan(0);
		expect(first.requested).toBeGreaterThanOrEqual(first.filled);
		const cancel = await api.call('generators.cancelPreview', { stream: 'textured' });
		expect(cancel).toEqual({ ok: true, value: { cancelled: true } });
		const result = await grid;
		expect(result.ok || result.error.code).toBe('CANCELLED');
		// Nothing is left in flight on the stream.
		expect(await api.call('generators.cancelPreview', { stream: 'textured' })).toEqual({
			ok: true,
			value: { cancelled: false }
		});
	});

	it('refuses invalid parameters with the range', async () => {
		const bad = await api.call('generators.preview', {
			config: { generator: 'statistical', params: { slopeLow: 99 } },
			seed: 0,
			indices: [0]
		});
		expect(bad.ok || bad.error.code).toBe('INVALID_REQUEST');
		expect(bad.ok || bad.error.message).toContain('slopeLow');
	});

	it('saves, renames and deletes presets, announcing each change', async () => {
		const saved = await api.call('presets.save', {
			name: 'Steep spectra',
			generator: 'statistical',
			params: { slopeLow: 2 },
			size: 64,
			seed: 3
		});
		expect(saved.ok).toBe(true);
		if (!saved.ok) return;
		expect(saved.value.params).toMatchObject({ slopeLow: 2, slopeHigh: 3.5 });
		const clash = await api.call('presets.save', {
			name: 'Other',
			generator: 'statistical',
			params: {},
			size: 64,
			seed: 0
		});
		expect(clash.ok).toBe(true);
		const renameClash = await api.call('presets.rename', { id: saved.value.id, name: 'other' });
		expect(renameClash.ok || renameClash.error.message).toContain('already exists');
		const renamed = await api.call('presets.rename', { id: saved.value.id, name: 'Very steep' });
		expect(renamed.ok && renamed.value.name).toBe('Very steep');
		expect((await api.call('presets.delete', { id: saved.value.id })).ok).toBe(true);
		const list = await api.call('presets.list', {});
		expect(list.ok && list.value.map((preset) => preset.name)).toEqual(['Other']);
		await expect.poll(() => api.eventsNamed('presets.changed').length).toBeGreaterThanOrEqual(4);
	});

	it('exports a dataset with progress events, records it, and resumes after a cancel', async () => {
		const outDir = path.join(exports.path, 'white');
		// The export's worker holds after 100 images (a failpoint) until the cancel arrives: a fast
		// machine otherwise wrote all 3000 before the cancel.
		failpoints.arm('export.hold-after-images=100');
		const started = await api.call('datasets.export', {
			config: { preset: 'control-white_noise', size: 32 },
			seed: 2,
			count: 3000,
			outDir,
			format: 'png'
		});
		failpoints.arm(null);
		expect(started.ok).toBe(true);
		if (!started.ok) return;
		const { jobId, datasetId } = started.value;
		await expect
			.poll(
				() =>
					api.eventsNamed('datasets.progress').filter((p) => p.jobId === jobId && p.written > 0)
						.length,
				{ timeout: 30_000 }
			)
			.toBeGreaterThan(0);
		expect((await api.call('datasets.cancel', { jobId })).ok).toBe(true);
		await expect
			.poll(() => api.eventsNamed('datasets.finished').find((f) => f.jobId === jobId), {
				timeout: 30_000
			})
			.toBeDefined();
		const cancelled = api.eventsNamed('datasets.finished').find((f) => f.jobId === jobId)?.dataset;
		expect(cancelled?.status).toBe('cancelled');
		expect(cancelled?.written).toBeLessThanOrEqual(100);

		const resumed = await api.call('datasets.export', {
			config: { preset: 'control-white_noise', size: 32 },
			seed: 2,
			count: 3000,
			outDir,
			format: 'png'
		});
		expect(resumed.ok && resumed.value.datasetId).toBe(datasetId);
		if (!resumed.ok) return;
		await expect
			.poll(
				() => api.eventsNamed('datasets.finished').find((f) => f.jobId === resumed.value.jobId),
				{ timeout: 60_000 }
			)
			.toBeDefined();
		const done = api
			.eventsNamed('datasets.finished')
			.find((f) => f.jobId === resumed.value.jobId)?.dataset;
		expect(done).toMatchObject({ status: 'complete', written: 3000, count: 3000 });
		expect(JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8'))).toMatchObject({
			complete: true,
			written: 3000
		});
		const list = await api.call('datasets.list', {});
		expect(list.ok && list.value.filter((dataset) => dataset.path === outDir)).toHaveLength(1);
	});

	it('refuses a relative destination and a folder of another dataset', async () => {
		const relative = await api.call('datasets.export', {
			config: { preset: 'control-white_noise' },
			seed: 0,
			count: 1,
			outDir: 'data/out'
		});
		expect(relative.ok || relative.error.message).toContain('absolute');
		const foreign = path.join(exports.path, 'white');
		const conflict = await api.call('datasets.export', {
			config: { preset: 'control-mean_colour' },
			seed: 0,
			count: 1,
			outDir: foreign
		});
		expect(conflict.ok || conflict.error.code).toBe('FOLDER_CONFLICT');
	});

	it('refuses a destination that is not a writable folder on a disk before starting', async (test) => {
		const exportTo = (outDir: string) =>
			api.call('datasets.export', {
				config: { preset: 'control-white_noise', size: 32 },
				seed: 0,
				count: 10,
				outDir
			});
		const file = path.join(exports.path, 'a-file');
		fs.writeFileSync(file, '');
		const underFile = await exportTo(path.join(file, 'dataset'));
		expect(underFile.ok || underFile.error).toEqual({
			code: 'FOLDER_CONFLICT',
			message: `${file}, on the way to ${path.join(file, 'dataset')}, is a file, not a folder. Choose a folder.`
		});
		if (process.platform !== 'linux') {
			console.warn('Skipped the /proc destination: only Linux has procfs.');
			test.skip();
			return;
		}
		// Node's recursive mkdir spun a worker at 100% CPU here for 10+ minutes. The host-path
		// policy would refuse /proc first; allow it, as the desktop app allows any folder, so the
		// check of the filesystem itself is what answers.
		app.context.hostPaths.allowOnHost('/proc');
		const proc = await exportTo('/proc/noiselab/dataset');
		app.context.hostPaths.remove('/proc');
		expect(proc.ok || proc.error).toEqual({
			code: 'INVALID_REQUEST',
			message:
				'/proc/noiselab/dataset is on procfs, a virtual filesystem of the kernel, not on a disk. Choose a folder on a disk, e.g. in your home folder.'
		});
		const datasets = await api.call('datasets.list', {});
		expect(datasets.ok && datasets.value.map((dataset) => dataset.path)).not.toContain(
			'/proc/noiselab/dataset'
		);
	});

	it('measures diagnostics in the worker', async () => {
		const report = await api.call('generators.diagnostics', {
			config: { preset: 'control-white_noise', size: 32 },
			seed: 0,
			count: 16
		});
		expect(report.ok).toBe(true);
		if (!report.ok) return;
		expect(report.value.images).toBe(16);
		expect(Math.abs(report.value.spectrum.slopeMean)).toBeLessThan(0.5);
	});
});
