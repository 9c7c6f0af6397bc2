/**
 * Golden hashes: every preset's output for a few small, fixed cases, so that any change to a
 * generator's pixels is noticed. After an intended change, bump the generator's `version` and
 * run `npm run test:update-golden`, then review and commit `golden.json`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { outputVersion } from '../../../src/core/generators/generator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presets, resolveConfig } from '../../../src/core/generators/registry';
import { installEncoderWeightsSource } from '../../../src/core/generators/trained-encoders';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/core/training/checkpoint';
import { modelPresets, SmallAlexNet } from '../../../src/core/training/model';

const goldenFile = path.join(import.meta.dirname, 'golden.json');
const updating = process.env.UPDATE_GOLDEN === '1';

/**
 * The stand-in for a trained encoder in `feature_vis-dead_leaves`'s case: the `tiny` encoder at
 * its seed-7 initialisation, as a checkpoint file's bytes, pinned by their SHA-256.
 */
function fixtureEncoder(): { reference: string; bytes: Uint8Array } {
	const encoder = SmallAlexNet.create(modelPresets.tiny, 7);
	const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
	for (const [name, variable] of [...encoder.trainable, ...encoder.buffers]) {
		tensors[name] = { shape: variable.shape, data: variable.dataSync() as Float32Array };
	}
	encoder.dispose();
	const bytes = encodeCheckpoint({ meta: { model: 'tiny' }, tensors });
	const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
	return { reference: `run:1@${sha256}`, bytes };
}

const encoderFixture = fixtureEncoder();

/**
 * Cheaper settings for presets whose default cost is high, so the suite stays fast. The case
 * still exercises the preset's code path.
 */
const overrides: Record<string, { size?: number; params?: Record<string, unknown> }> = {
	'dead_leaves-textures': { params: { texturePoolSize: 16 } },
	'stylegan-random': { params: { channel_base: 1024 } },
	'feature_vis-random': { params: { network: 'small', steps: 2 } },
	'feature_vis-dead_leaves': { size: 48, params: { encoder: encoderFixture.reference, steps: 2 } }
};

const indices = [0, 1, 401];

/**
 * Feature visualisation runs Adam on tfjs's plain cpu backend: a second or two on a quiet
 * machine, many times that on a loaded 2-core CI runner. The default 5 s would fail on load.
 */
const caseTimeoutMs = 60_000;
const seed = 20211206;

type Golden = Record<
	string,
	{ generator: string; version: number; size: number; hashes: string[] }
>;

const stored: Golden = fs.existsSync(goldenFile)
	? (JSON.parse(fs.readFileSync(goldenFile, 'utf8')) as Golden)
	: {};
const computed: Golden = {};

describe('golden outputs', () => {
	// Feature visualisation computes with tfjs; the reference backend gives stable bytes.
	beforeAll(async () => {
		await tf.setBackend('cpu');
		installEncoderWeightsSource(() => ({
			model: 'tiny',
			tensors: decodeCheckpoint(encoderFixture.bytes).tensors
		}));
	});
	afterAll(() => installEncoderWeightsSource(null));

	for (const preset of presets) {
		it(
			`${preset.name} reproduces its stored bytes`,
			async () => {
				const override = overrides[preset.name] ?? {};
				const resolved = resolveConfig({
					preset: preset.name,
					size: override.size ?? 32,
					params: override.params ?? {}
				});
				if (!resolved.ok) throw new Error(resolved.message);
				const { generator, params, size } = resolved.value;
				const hashes: string[] = [];
				for (const index of indices) {
					const image = await generator.generate(params, seed, index, size);
					expect(image.size).toBe(size);
					expect(image.data.length).toBe(size * size * 3);
					hashes.push(crypto.createHash('sha256').update(image.data).digest('hex').slice(0, 16));
				}
				computed[preset.name] = {
					generator: generator.id,
					version: outputVersion(generator, params),
					size,
					hashes
				};
				if (updating) return;
				const expected = stored[preset.name];
				if (!expected)
					throw new Error(
						`No golden hashes for ${preset.name}: run \`npm run test:update-golden\`.`
					);
				expect({ ...computed[preset.name] }).toEqual(expected);
			},
			caseTimeoutMs
		);
	}

	afterAll(() => {
		if (!updating) return;
		fs.writeFileSync(goldenFile, `${JSON.stringify(computed, null, '\t')}\n`);
		console.log(`Wrote ${Object.keys(computed).length} golden cases to ${goldenFile}.`);
	});
});
