import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { predictProbe, type LinearProbe } from '../../src/core/evaluation/linear-probe';
import { featureStatistics, standardizeInPlace } from '../../src/core/evaluation/standardize';
import { Random } from '../../src/core/generators/random';
import {
	encodeProbeFile,
	probeFilePath,
	readProbeFile,
	readProbeForCam,
	writeProbeFile,
	type StoredProbe
} from '../../src/main/evaluation/probe-files';
import { temporaryFolder } from '../support/paths';

beforeAll(async () => {
	expect(await tf.setBackend('cpu')).toBe(true);
});

function values(count: number, seed: number, scale = 1, offset = 0): Float32Array {
	const random = new Random(seed, 3);
	return Float32Array.from({ length: count }, () => offset + scale * random.normal());
}

/** A probe over 12 features and 3 classes, with statistics far from 0 / 1. */
function sampleProbe(standardized: boolean): StoredProbe {
	const dim = 12;
	return {
		layer: 'fc6',
		dim,
		weight: values(dim * 3, 1),
		bias: values(3, 2),
		standardization: standardized
			? { mean: values(dim, 3, 0.5, 2), std: values(dim, 4, 0.1, 0.7).map(Math.abs) }
			: null,
		classes: ['T-shirt', 'Trouser', 'Sneaker «ü»'],
		dataset: 'fashion-mnist-mini',
		accuracy: 0.8125
	};
}

describe('probe files', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	beforeEach(() => {
		folder = temporaryFolder();
	});
	afterEach(() => folder.remove());

	it('are named per evaluation inside the run folder', () => {
		expect(probeFilePath('/data/runs/run-7', 42)).toBe(
			path.join('/data/runs/run-7', 'probes', 'evaluation-42.nlprobe')
		);
	});

	it('read back bit-exact, with and without statistics, leaving no temporary file', () => {
		for (const standardized of [true, false]) {
			const probe = sampleProbe(standardized);
			const file = probeFilePath(folder.path, standardized ? 1 : 2);
			writeProbeFile(file, probe);
			const read = readProbeFile(file);
			expect(read).toEqual(probe);
			// toEqual compares numbers; compare the float bits too.
			expect(Buffer.from(read.weight.buffer)).toEqual(Buffer.from(probe.weight.buffer));
			expect(Buffer.from(read.bias.buffer)).toEqual(Buffer.from(probe.bias.buffer));
			if (probe.standardization && read.standardization) {
				expect(Buffer.from(read.standardization.std.buffer)).toEqual(
					Buffer.from(probe.standardization.std.buffer)
				);
			}
		}
		expect(fs.readdirSync(path.join(folder.path, 'probes')).sort()).toEqual([
			'evaluation-1.nlprobe',
			'evaluation-2.nlprobe'
		]);
	});

	it('refuses damaged, truncated, foreign and missing files with a clear error', () => {
		const file = path.join(folder.path, 'probe.nlprobe');
		const good = Buffer.from(encodeProbeFile(sampleProbe(true)));
		const attempt = (bytes: Buffer | null) => {
			if (bytes) fs.writeFileSync(file, bytes);
			else fs.rmSync(file, { force: true });
			try {
				readProbeFile(file);
			} catch (error) {
				expect(error).toBeInstanceOf(AppFailure);
				return error as AppFailure;
			}
			throw new Error('the file was accepted');
		};
		// One weight's bits changed: only the checksum notices.
		const flipped = Buffer.from(good);
		flipped[good.length - 60] = (flipped[good.length - 60] as number) ^ 1;
		expect(attempt(flipped).message).toMatch(/checksum/);
		expect(attempt(good.subarray(0, good.length - 4)).message).toMatch(/bytes, expected/);
		expect(attempt(good.subarray(0, 20)).message).toMatch(/truncated/);
		expect(attempt(Buffer.from(JSON.stringify(sampleProbe(false)))).message).toMatch(
			/not a usable probe file: it does not start with the NoiseLab probe signature/
		);
		const newer = Buffer.from(good);
		newer.writeUInt32LE(2, 8);
		expect(attempt(newer).message).toMatch(/format version 2/);
		const missing = attempt(null);
		expect(missing.code).toBe('NOT_FOUND');
		expect(missing.message).toMatch(/Evaluate the encoder again/);
		// The good bytes still read.
		fs.writeFileSync(file, good);
		expect(readProbeFile(file).accuracy).toBe(0.8125);
	});

	it('refuses to write a probe whose arrays do not match its shape', () => {
		const probe = { ...sampleProbe(false), bias: new Float32Array(2) };
		expect(() => writeProbeFile(path.join(folder.path, 'x.nlprobe'), probe)).toThrow(
			/bias has 2 values, expected 3/
		);
	});

	it('give Grad-CAM a probe on raw features with the logits of the standardised one', async () => {
		const dim = 12;
		const stored = sampleProbe(true);
		const file = probeFilePath(folder.path, 3);
		writeProbeFile(file, stored);
		const { probe: folded, layer } = readProbeForCam(file);
		expect(layer).toBe('fc6');
		const raw = values(20 * dim, 9, 0.3, 2);
		const standardized = raw.slice();
		standardizeInPlace(standardized, dim, stored.standardization ?? featureStatistics(raw, dim));
		const original: LinearProbe = {
			dim,
			classes: 3,
			weight: stored.weight,
			bias: stored.bias,
			lossHistory: []
		};
		const expected = await predictProbe(original, standardized);
		const actual = await predictProbe(folded, raw);
		for (let i = 0; i < expected.logits.length; i++) {
			expect(actual.logits[i]).toBeCloseTo(expected.logits[i] as number, 4);
		}
		expect(actual.predicted).toEqual(expected.predicted);
		// Without statistics the probe is handed over unchanged.
		writeProbeFile(file, sampleProbe(false));
		expect(readProbeForCam(file).probe.weight).toEqual(stored.weight);
	});
});
