/**
 * Bundle export never replaces a file NoiseLab did not write: a taken name gets a numbered one
 * beside it, and `overwrite` replaces only an existing run bundle. (Before, exporting to
 * `/tmp/x/victim.txt` replaced the victim.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { trainConfigSchema } from '../../src/core/training/config';
import { openStore, type Store } from '../../src/main/store/database';
import { addCheckpoint, createRun } from '../../src/main/store/runs';
import { writeCheckpoint } from '../../src/main/training/checkpoint-files';
import { exportRunBundle, isRunBundleFile } from '../../src/main/training/run-bundle';
import { temporaryFolder } from '../support/paths';

describe('bundle export', () => {
	let home: ReturnType<typeof temporaryFolder>;
	let out: ReturnType<typeof temporaryFolder>;
	let store: Store;
	let runId: number;

	beforeEach(() => {
		home = temporaryFolder();
		out = temporaryFolder('noiselab-bundle-out-');
		store = openStore(home.path);
		const config = trainConfigSchema.parse({
			source: { kind: 'generator', config: { preset: 'dead_leaves-squares', size: 64 } },
			model: 'tiny',
			steps: 2
		});
		const run = createRun(
			store.db,
			{ name: 'r', config, sourceLabel: 'noise', appVersion: 'test' },
			(id) => path.join(home.path, 'runs', `run-${id}`)
		);
		addCheckpoint(
			store.db,
			run.id,
			writeCheckpoint(path.join(run.folder, 'checkpoints'), 2, {
				meta: { step: 2, runId: run.id },
				tensors: { w: { shape: [2], data: Float32Array.of(1, 2) } }
			})
		);
		runId = run.id;
	});
	afterEach(() => {
		store.close();
		home.remove();
		out.remove();
	});

	const failure = (write: () => unknown): AppFailure => {
		try {
			write();
		} catch (error) {
			if (error instanceof AppFailure) return error;
			throw error;
		}
		throw new Error('expected the export to fail');
	};

	it('writes beside a file it did not create, under the next free name, and never replaces it', () => {
		const victim = path.join(out.path, 'victim.txt');
		fs.writeFileSync(victim, 'precious');
		const first = exportRunBundle(store.db, runId, victim);
		expect(first.path).toBe(path.join(out.path, 'victim (2).txt'));
		const second = exportRunBundle(store.db, runId, victim);
		expect(second.path).toBe(path.join(out.path, 'victim (3).txt'));
		expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
		expect(isRunBundleFile(first.path)).toBe(true);
		expect(isRunBundleFile(victim)).toBe(false);
		// No temporary file is left behind.
		expect(fs.readdirSync(out.path).sort()).toEqual([
			'victim (2).txt',
			'victim (3).txt',
			'victim.txt'
		]);
	});

	it('with overwrite, replaces an existing bundle but refuses any other file', () => {
		const bundle = path.join(out.path, 'run.nlrun');
		expect(exportRunBundle(store.db, runId, bundle).path).toBe(bundle);
		const before = fs.statSync(bundle).ino;
		expect(exportRunBundle(store.db, runId, bundle, true).path).toBe(bundle);
		expect(fs.statSync(bundle).ino).not.toBe(before);
		expect(fs.readdirSync(out.path)).toEqual(['run.nlrun']);

		const victim = path.join(out.path, 'victim.txt');
		fs.writeFileSync(victim, 'precious');
		const refused = failure(() => exportRunBundle(store.db, runId, victim, true));
		expect(refused.code).toBe('INVALID_REQUEST');
		expect(refused.message).toBe(
			`${victim} exists and is not a NoiseLab run bundle; NoiseLab replaces only files it wrote. Choose another file name.`
		);
		expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
	});

	it('never writes through a link, and refuses a folder as the file', () => {
		const victim = path.join(out.path, 'victim.txt');
		fs.writeFileSync(victim, 'precious');
		const link = path.join(out.path, 'link.nlrun');
		fs.symlinkSync(victim, link);
		expect(exportRunBundle(store.db, runId, link).path).toBe(path.join(out.path, 'link (2).nlrun'));
		expect(failure(() => exportRunBundle(store.db, runId, link, true)).code).toBe(
			'INVALID_REQUEST'
		);
		expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
		expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);

		const folder = failure(() => exportRunBundle(store.db, runId, out.path));
		expect(folder.message).toBe(
			`${out.path} is a folder; give the run bundle a file name inside it.`
		);
	});
});
