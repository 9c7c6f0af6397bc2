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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presets, resolveConfig } from '../../../src/core/generators/registry';

const goldenFile = path.join(import.meta.dirname, 'golden.json');
const updating = process.env.UPDATE_GOLDEN === '1';

/**
 * Cheaper settings for presets whose default cost is high, so the suite stays fast. The case
 * still exercises the preset's code path.
 */
const overrides: Record<string, { size?: number; params?: Record<string, unknown> }> = {
	'dead_leaves-textures': { params: { texturePoolSize: 16 } },
	'stylegan-random': { params: { channel_base: 1024 } },
	'feature_vis-random': { params: { network: 'small', steps: 2 } }
};

const indices = [0, 1, 401];
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
	beforeAll(() => tf.setBackend('cpu'));

	for (const preset of presets) {
		it(`${preset.name} reproduces its stored bytes`, async () => {
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
			computed[preset.name] = { generator: generator.id, version: generator.version, size, hashes };
			if (updating) return;
			const expected = stored[preset.name];
			if (!expected)
				throw new Error(`No golden hashes for ${preset.name}: run \`npm run test:update-golden\`.`);
			expect({ ...computed[preset.name] }).toEqual(expected);
		});
	}

	afterAll(() => {
		if (!updating) return;
		fs.writeFileSync(goldenFile, `${JSON.stringify(computed, null, '\t')}\n`);
		console.log(`Wrote ${Object.keys(computed).length} golden cases to ${goldenFile}.`);
	});
});
