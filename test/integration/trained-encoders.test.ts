import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestApiClient } from '../support/api-client';
import { startTestServer, type TestServer } from '../support/app-server';
import { temporaryFolder } from '../support/paths';
import { tinyRunSettings, trainToCompletion } from '../support/train-runs';

/** A few steps of the tiny encoder on 64 px dead_leaves-mixed: a run `newest:` accepts. */
const deadLeavesRun = {
	...tinyRunSettings,
	source: { kind: 'generator', config: { preset: 'dead_leaves-mixed', size: 64 }, count: 64 },
	steps: 2
} as const;

/** feature_vis-dead_leaves at the cheapest settings that still run its code path. */
const cheapFeatureVis = { preset: 'feature_vis-dead_leaves', size: 32, params: { steps: 2 } };

describe('feature visualisation of a trained encoder (web mode, real workers)', () => {
	let app: TestServer;
	let api: TestApiClient;
	const exports = temporaryFolder();
	beforeAll(async () => {
		app = await startTestServer(undefined, { allowFolders: [exports.path] });
		api = await TestApiClient.connect(app);
	});
	afterAll(async () => {
		api.close();
		await app.stop();
		exports.remove();
	});

	const preview = async (params: Record<string, unknown>, seed = 3) =>
		api.call('generators.preview', {
			config: { ...cheapFeatureVis, params: { ...cheapFeatureVis.params, ...params } },
			seed,
			indices: [0]
		});
	const pinnedFile = (sha256: string) =>
		path.join(process.env.NOISELAB_CACHE_DIR ?? '', 'encoders', `${sha256}.nlck`);

	it('says what feature_vis-dead_leaves needs and offers the run that provides it', async () => {
		const requirements = await api.call('generators.requirements', {
			config: { preset: 'feature_vis-dead_leaves' }
		});
		expect(requirements.ok).toBe(true);
		if (!requirements.ok) return;
		expect(requirements.value.ready).toBe(false);
		const [requirement] = requirements.value.requirements;
		expect(requirement).toMatchObject({
			kind: 'trained-encoder',
			param: 'encoder',
			requested: 'newest:dead_leaves-mixed',
			available: false,
			encoder: null
		});
		expect(requirement?.message).toMatch(/No completed run has trained on dead_leaves-mixed yet/);
		expect(requirement?.training?.config.source).toMatchObject({
			kind: 'generator',
			config: { preset: 'dead_leaves-mixed' }
		});
		const refused = await preview({});
		expect(refused.ok).toBe(false);
		if (!refused.ok) {
			expect(refused.error.code).toBe('NOT_FOUND');
			expect(refused.error.message).toMatch(/^encoder: No completed run has trained/);
		}
		const nothingNeeded = await api.call('generators.requirements', {
			config: { preset: 'dead_leaves-mixed' }
		});
		expect(nothingNeeded.ok && nothingNeeded.value).toEqual({ ready: true, requirements: [] });
	});

	it('pins the newest run on dead_leaves-mixed for previews, exports, presets and training', async () => {
		const first = await trainToCompletion(api, 'dead leaves A', deadLeavesRun);
		const firstSha = first.checkpoints.at(-1)?.sha256 ?? '';
		const requirements = await api.call('generators.requirements', {
			config: { preset: 'feature_vis-dead_leaves' }
		});
		expect(requirements.ok && requirements.value.ready).toBe(true);
		expect(requirements.ok && requirements.value.requirements[0]?.encoder).toMatchObject({
			runId: first.run.id,
			model: 'tiny',
			step: 2,
			sha256: firstSha,
			reference: `run:${first.run.id}@${firstSha}`
		});

		const image = await preview({});
		expect(image.ok, image.ok ? '' : image.error.message).toBe(true);
		expect(fs.existsSync(pinnedFile(firstSha))).toBe(true);
		const again = await preview({});
		const pinned = await preview({ encoder: `run:${first.run.id}@${firstSha}` });
		const bytes = (result: typeof image) =>
			Buffer.from(result.ok ? (result.value.images[0]?.rgb ?? []) : []);
		expect(bytes(image).length).toBe(32 * 32 * 3);
		expect(bytes(again).equals(bytes(image))).toBe(true);
		expect(bytes(pinned).equals(bytes(image))).toBe(true);

		// The export's manifest records the checkpoint, never `newest:`.
		const outDir = path.join(exports.path, 'feature-vis');
		const started = await api.call('datasets.export', {
			config: cheapFeatureVis,
			seed: 3,
			count: 2,
			outDir,
			format: 'png'
		});
		expect(started.ok, started.ok ? '' : started.error.message).toBe(true);
		await until(() => api.eventsNamed('datasets.finished').length === 1);
		expect(api.eventsNamed('datasets.finished')[0]?.dataset.status).toBe('complete');
		const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8'));
		expect(manifest.params.encoder).toBe(`run:${first.run.id}@${firstSha}`);

		const saved = await api.call('presets.save', {
			name: 'fv pinned',
			generator: 'feature_vis_trained',
			params: { encoder: 'newest:dead_leaves-mixed', steps: 2 },
			size: 32,
			seed: 0
		});
		expect(saved.ok && saved.value.params.encoder).toBe(`run:${first.run.id}@${firstSha}`);

		// A newer run becomes the default; the older one stays reachable by its reference.
		const second = await trainToCompletion(api, 'dead leaves B', { ...deadLeavesRun, seed: 1 });
		const secondSha = second.checkpoints.at(-1)?.sha256 ?? '';
		const now = await api.call('generators.requirements', {
			config: { preset: 'feature_vis-dead_leaves' }
		});
		expect(now.ok && now.value.requirements[0]?.encoder?.runId).toBe(second.run.id);
		expect(bytes(await preview({})).equals(bytes(image))).toBe(false);

		// A run trained on feature visualisations records the pinned encoder it trained on.
		const trained = await trainToCompletion(api, 'on feature vis', {
			...tinyRunSettings,
			source: { kind: 'generator', config: cheapFeatureVis, count: 16 },
			steps: 1
		});
		expect(trained.run.config.source).toMatchObject({
			kind: 'generator',
			config: { params: { encoder: `run:${second.run.id}@${secondSha}` } }
		});

		// Deleting the first run leaves its pinned checkpoint usable, but not its bare id.
		expect((await api.call('runs.delete', { id: first.run.id })).ok).toBe(true);
		const afterDelete = await preview({ encoder: `run:${first.run.id}@${firstSha}` });
		expect(bytes(afterDelete).equals(bytes(image))).toBe(true);
		const gone = await preview({ encoder: `run:${first.run.id}` });
		expect(gone.ok).toBe(false);
		if (!gone.ok) expect(gone.error.message).toBe(`encoder: There is no run ${first.run.id}.`);
	});
});

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}
