import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { trainConfigSchema, type TrainConfigInput } from '../../src/core/training/config';
import { encodeCheckpoint } from '../../src/core/training/checkpoint';
import { pinnedEncoderPath, pinnedEncoderWeights } from '../../src/main/generation/pinned-encoders';
import { TrainedEncoders } from '../../src/main/services/trained-encoders';
import { openStore, type Store } from '../../src/main/store/database';
import { addCheckpoint, createRun, setRunStatus } from '../../src/main/store/runs';
import { temporaryFolder } from '../support/paths';

/** A small checkpoint file; its bytes differ by `value`. */
function writeCheckpointFile(folder: string, step: number, value: number) {
	const bytes = encodeCheckpoint({
		meta: { model: 'tiny', step },
		tensors: { 'conv1/kernel': { shape: [2], data: Float32Array.from([value, value]) } }
	});
	const file = path.join(folder, `step-${step}.nlck`);
	fs.mkdirSync(folder, { recursive: true });
	fs.writeFileSync(file, bytes);
	return {
		step,
		path: file,
		bytes: bytes.length,
		sha256: crypto.createHash('sha256').update(bytes).digest('hex')
	};
}

describe('TrainedEncoders: resolving and pinning encoder parameters', () => {
	let folder: { path: string; remove(): void };
	let store: Store;
	let encoders: TrainedEncoders;
	const cacheDir = () => path.join(folder.path, 'cache');

	beforeEach(() => {
		folder = temporaryFolder();
		store = openStore(folder.path);
		encoders = new TrainedEncoders(() => store.db, cacheDir());
	});
	afterEach(() => {
		store.close();
		folder.remove();
	});

	/** A run with one checkpoint per step in `steps`, left in `status`. */
	function addRun(
		source: TrainConfigInput['source'],
		status: 'completed' | 'running' | 'cancelled',
		steps: number[]
	) {
		const config = trainConfigSchema.parse({ source, steps: 10 });
		const run = createRun(
			store.db,
			{ name: null, config, sourceLabel: 'test', appVersion: 'test' },
			(id) => path.join(folder.path, 'runs', `run-${id}`)
		);
		const checkpoints = steps.map((step) => {
			const checkpoint = writeCheckpointFile(
				path.join(run.folder, 'checkpoints'),
				step,
				run.id * 100 + step
			);
			addCheckpoint(store.db, run.id, checkpoint);
			return checkpoint;
		});
		setRunStatus(store.db, run.id, status);
		return { id: run.id, checkpoints };
	}
	const mixed = { kind: 'generator', config: { preset: 'dead_leaves-mixed' } } as const;
	const fv = { preset: 'feature_vis-dead_leaves', params: {} };

	it('takes the newest completed run on the unmodified preset, and its newest checkpoint', () => {
		const older = addRun(mixed, 'completed', [5, 10]);
		addRun({ ...mixed, config: { ...mixed.config, params: { sigma: 2 } } }, 'completed', [10]);
		addRun(mixed, 'running', [5]);
		addRun(mixed, 'cancelled', [5]);
		addRun({ kind: 'generator', config: { preset: 'stat-wmm' } }, 'completed', [10]);
		expect(encoders.pin(fv).params).toEqual({
			encoder: `run:${older.id}@${older.checkpoints[1]?.sha256}`
		});
		const newer = addRun(mixed, 'completed', [10]);
		const newest = newer.checkpoints[0];
		const pinned = encoders.pin(fv);
		expect(pinned.params).toEqual({ encoder: `run:${newer.id}@${newest?.sha256}` });
		const pinnedFile = pinnedEncoderPath(cacheDir(), newest?.sha256 ?? '');
		expect(fs.readFileSync(pinnedFile).equals(fs.readFileSync(newest?.path ?? ''))).toBe(true);
		// A configuration without encoder parameters is returned as it came.
		const plain = { preset: 'dead_leaves-mixed' };
		expect(encoders.pin(plain)).toBe(plain);
	});

	it('resolves run:ID to its newest checkpoint and keeps a pinned one after the run is gone', () => {
		const run = addRun(mixed, 'completed', [5, 10]);
		const [first] = run.checkpoints;
		const byId = encoders.pin({ ...fv, params: { encoder: `run:${run.id}` } });
		expect(byId.params.encoder).toBe(`run:${run.id}@${run.checkpoints[1]?.sha256}`);
		const byHash = { ...fv, params: { encoder: `run:${run.id}@${first?.sha256}` } };
		expect(encoders.pin(byHash).params.encoder).toBe(byHash.params.encoder);
		store.db.prepare('DELETE FROM runs WHERE id = ?').run(run.id);
		expect(encoders.pin(byHash).params.encoder).toBe(byHash.params.encoder);
		expect(encoders.requirements(byHash).requirements[0]).toMatchObject({
			available: true,
			encoder: { runName: `run ${run.id} (deleted)`, step: null }
		});
		expect(() => encoders.pin({ ...fv, params: { encoder: `run:${run.id}` } })).toThrow(
			`encoder: There is no run ${run.id}.`
		);
	});

	it('refuses a checkpoint that is gone or damaged, naming it', () => {
		const run = addRun(mixed, 'completed', [5, 10]);
		const [first, second] = run.checkpoints;
		fs.rmSync(first?.path ?? '');
		expect(() =>
			encoders.pin({ ...fv, params: { encoder: `run:${run.id}@${first?.sha256}` } })
		).toThrow(/no longer has the checkpoint [0-9a-f]{12}… \(older checkpoints are pruned\)/);
		fs.appendFileSync(second?.path ?? '', 'x');
		expect(() => encoders.pin(fv)).toThrow(/is damaged: its SHA-256 is/);
		expect(fs.existsSync(pinnedEncoderPath(cacheDir(), second?.sha256 ?? ''))).toBe(false);
	});

	it('says what is missing and suggests the run that provides it', () => {
		const missing = encoders.requirements(fv);
		expect(missing.ready).toBe(false);
		expect(missing.requirements[0]).toMatchObject({
			requested: 'newest:dead_leaves-mixed',
			available: false,
			training: {
				name: 'Encoder on dead_leaves-mixed',
				config: { model: 'tiny', optimizer: 'adam', steps: 500, batch: 64, source: mixed }
			}
		});
		expect(() => encoders.pin(fv)).toThrow(/No completed run has trained on dead_leaves-mixed/);
		const named = encoders.requirements({ ...fv, params: { encoder: 'run:77' } });
		expect(named.requirements[0]).toMatchObject({ available: false, training: null });
	});

	it('lets workers load a pinned checkpoint, verified by its hash', () => {
		const run = addRun(mixed, 'completed', [10]);
		const sha256 = run.checkpoints[0]?.sha256 ?? '';
		const load = pinnedEncoderWeights(cacheDir());
		expect(() => load({ runId: run.id, sha256 })).toThrow(/is not pinned in/);
		encoders.pin(fv);
		const weights = load({ runId: run.id, sha256 });
		expect(weights.model).toBe('tiny');
		expect(Array.from(weights.tensors['conv1/kernel']?.data ?? [])).toEqual([
			run.id * 100 + 10,
			run.id * 100 + 10
		]);
		fs.writeFileSync(pinnedEncoderPath(cacheDir(), sha256), 'tampered');
		expect(() => load({ runId: run.id, sha256 })).toThrow(/is damaged/);
	});
});
