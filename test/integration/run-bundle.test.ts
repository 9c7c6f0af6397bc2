import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
	evaluateParamsSchema,
	type EvaluationMetrics,
	type EvaluationRole
} from '../../src/core/api/evaluation';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/core/training/checkpoint';
import { trainConfigSchema } from '../../src/core/training/config';
import {
	probeFilePath,
	readProbeFile,
	writeProbeFile,
	type StoredProbe
} from '../../src/main/evaluation/probe-files';
import { openStore, type Store } from '../../src/main/store/database';
import {
	createEvaluation,
	findProbe,
	finishEvaluation,
	getProbePath,
	listEvaluations
} from '../../src/main/store/evaluations';
import {
	addCheckpoint,
	appendMetrics,
	createRun,
	listMetrics,
	setRunStatus,
	updateRun
} from '../../src/main/store/runs';
import { writeCheckpoint } from '../../src/main/training/checkpoint-files';
import { readRunBundle } from '../../src/main/training/bundle-reader';
import { exportRunBundle, importRunBundle } from '../../src/main/training/run-bundle';
import { tinyWeights } from '../support/bundles';
import { temporaryFolder } from '../support/paths';

/**
 * Run bundles and the linear probes their evaluations kept: a run evaluated with the probe (for
 * its encoder and its random-init control) goes through a bundle file into a fresh data folder,
 * where Explain's `findProbe` must find the same probe bytes under the new ids.
 */
describe('run bundles carry linear probes', () => {
	const dataset = 'fashion-mnist-mini';
	const step = 4;
	const config = trainConfigSchema.parse({
		source: { kind: 'generator', config: { preset: 'dead_leaves-squares', size: 64 } },
		model: 'tiny',
		steps: step
	});
	let source: { folder: ReturnType<typeof temporaryFolder>; store: Store };
	let target: { folder: ReturnType<typeof temporaryFolder>; store: Store };
	const open = () => {
		const folder = temporaryFolder();
		return { folder, store: openStore(folder.path) };
	};
	const runsDir = (side: typeof source) => path.join(side.folder.path, 'runs');

	beforeEach(() => {
		source = open();
		target = open();
	});
	afterEach(() => {
		for (const side of [source, target]) {
			side.store.close();
			side.folder.remove();
		}
	});

	/** A probe with distinct weights per `seed`, so two probes' files never coincide. */
	function probe(seed: number, standardized: boolean): StoredProbe {
		const dim = 6;
		const classes = ['t-shirt', 'trouser', 'pullover'];
		const values = (count: number, offset: number) =>
			Float32Array.from({ length: count }, (_, i) => Math.sin(seed * 7.1 + offset + i * 0.37));
		return {
			layer: 'fc6',
			dim,
			weight: values(dim * classes.length, 0),
			bias: values(classes.length, 100),
			standardization: standardized
				? { mean: values(dim, 200), std: values(dim, 300).map((v) => 1.5 + v) }
				: null,
			classes,
			dataset,
			accuracy: 0.4 + seed / 100
		};
	}

	const metrics = (top1: number): EvaluationMetrics => ({
		top1,
		top5: null,
		knn: null,
		trainImages: 30,
		testImages: 12,
		classes: 3,
		featureDim: 6
	});

	/**
	 * A finished evaluation of run `runId` as the evaluation service records it; with a
	 * `probe`, its file is written where the service keeps it (`damaged`: then one byte flipped,
	 * `missing`: then deleted).
	 */
	function evaluate(
		runId: number,
		folder: string,
		options: {
			role: EvaluationRole;
			groupId: string;
			protocol?: 'linear' | 'knn';
			probe?: StoredProbe;
			file?: 'ok' | 'damaged' | 'missing';
		}
	): number {
		const protocol = options.protocol ?? 'linear';
		const created = createEvaluation(source.store.db, {
			groupId: options.groupId,
			runId,
			role: options.role,
			checkpointStep: options.role === 'random-init' ? null : step,
			dataset,
			protocol,
			layer: 'fc6',
			config: evaluateParamsSchema.parse({ runId, dataset, protocol, layer: 'fc6' })
		});
		let probePath: string | null = null;
		if (options.probe) {
			probePath = probeFilePath(folder, created.id);
			writeProbeFile(probePath, options.probe);
			if (options.file === 'damaged') {
				const bytes = fs.readFileSync(probePath);
				bytes[bytes.length - 40] = (bytes[bytes.length - 40] ?? 0) ^ 0xff;
				fs.writeFileSync(probePath, bytes);
			} else if (options.file === 'missing') fs.rmSync(probePath);
		}
		finishEvaluation(source.store.db, created.id, {
			status: 'completed',
			metrics: metrics(options.role === 'random-init' ? 0.35 : 0.6),
			error: null,
			seconds: 2,
			probePath
		});
		return created.id;
	}

	/**
	 * A trained run with a checkpoint, evaluated with the linear probe (encoder and random-init
	 * control), once with kNN, and with a newer linear evaluation whose probe file is `lastProbe`.
	 * Another run's evaluations come first, so that none of this run's evaluation ids in the source
	 * is one the fresh target store gives its imported evaluations.
	 */
	function evaluatedRun(lastProbe: 'damaged' | 'missing') {
		const db = source.store.db;
		const newRun = (name: string) =>
			createRun(db, { name, config, sourceLabel: 'noise', appVersion: 'test' }, (id) =>
				path.join(runsDir(source), `run-${id}`)
			);
		const other = newRun('other');
		for (const seed of [6, 7, 8, 9]) {
			evaluate(other.id, other.folder, {
				role: 'encoder',
				groupId: 'g0',
				probe: probe(seed, false)
			});
		}
		const run = newRun('probed');
		const written = writeCheckpoint(path.join(run.folder, 'checkpoints'), step, {
			meta: { step, runId: run.id, model: 'tiny' },
			tensors: tinyWeights()
		});
		addCheckpoint(db, run.id, written);
		const point = { loss: 5, align: 1, uniform: -2, lr: 0.001, imagesPerSecond: 40 };
		appendMetrics(
			db,
			run.id,
			[1, 2, 3, 4].map((s) => ({ ...point, step: s, loss: 5 - s / 10 })),
			{ step, trainSeconds: 3, skippedImages: 0 }
		);
		updateRun(db, run.id, { notes: 'from the lab' });
		setRunStatus(db, run.id, 'completed');
		const encoder = evaluate(run.id, run.folder, {
			role: 'encoder',
			groupId: 'g1',
			probe: probe(1, true)
		});
		const control = evaluate(run.id, run.folder, {
			role: 'random-init',
			groupId: 'g1',
			probe: probe(2, false)
		});
		const knn = evaluate(run.id, run.folder, { role: 'encoder', groupId: 'g2', protocol: 'knn' });
		const unusable = evaluate(run.id, run.folder, {
			role: 'encoder',
			groupId: 'g3',
			probe: probe(3, false),
			file: lastProbe
		});
		return { run, encoder, control, knn, unusable };
	}

	const encoderQuery = (runId: number) => ({
		runId,
		randomInit: false,
		checkpointStep: step,
		dataset
	});
	const controlQuery = (runId: number) => ({ ...encoderQuery(runId), randomInit: true });
	const bundleFile = () => path.join(source.folder.path, 'probed.nlrun');
	/** Reads the bundle as the app does (checked through), then adds it to the target store. */
	const importBundle = async () =>
		importRunBundle(
			target.store.db,
			await readRunBundle(bundleFile()),
			runsDir(target),
			bundleFile()
		);

	/** Rewrites the bundle file's header with `change`. */
	function rewriteBundle(change: (meta: Record<string, unknown>) => void): void {
		const decoded = decodeCheckpoint(new Uint8Array(fs.readFileSync(bundleFile())));
		change(decoded.meta);
		fs.writeFileSync(bundleFile(), encodeCheckpoint(decoded));
	}

	it('imports the probes into the new run’s folder under the new evaluation ids, byte for byte', async () => {
		const original = evaluatedRun('missing');
		exportRunBundle(source.store.db, original.run.id, bundleFile());
		// Only the probes still on disk travel; the missing one is no reason to refuse the export.
		const carried = decodeCheckpoint(new Uint8Array(fs.readFileSync(bundleFile()))).meta;
		expect((carried.probes as { evaluationId: number }[]).map((p) => p.evaluationId)).toEqual([
			original.control,
			original.encoder
		]);

		const imported = await importBundle();
		const db = target.store.db;
		expect(imported.notes).toBe('from the lab');
		expect(listMetrics(db, imported.id).map((point) => point.step)).toEqual([1, 2, 3, 4]);
		const evaluations = listEvaluations(db, imported.id);
		expect(evaluations).toHaveLength(4);

		for (const [query, originalId] of [
			[encoderQuery, original.encoder],
			[controlQuery, original.control]
		] as const) {
			const found = findProbe(db, query(imported.id));
			expect(found).not.toBeNull();
			const importedEvaluation = evaluations.find((e) => e.id === found?.evaluationId);
			expect(importedEvaluation?.runId).toBe(imported.id);
			expect(found?.evaluationId).not.toBe(originalId);
			expect(found?.path).toBe(
				probeFilePath(path.join(runsDir(target), `run-${imported.id}`), found?.evaluationId ?? -1)
			);
			const originalPath = getProbePath(source.store.db, originalId);
			expect(originalPath).not.toBeNull();
			expect(fs.readFileSync(found?.path ?? '').equals(fs.readFileSync(originalPath ?? ''))).toBe(
				true
			);
			expect(found?.accuracy).toBe(query === encoderQuery ? 0.6 : 0.35);
		}
		const encoderProbe = readProbeFile(findProbe(db, encoderQuery(imported.id))?.path ?? '');
		expect(encoderProbe.standardization?.mean).toEqual(probe(1, true).standardization?.mean);
		// The kNN evaluation and the one whose probe was missing came without one.
		const withoutProbe = evaluations
			.filter((e) => getProbePath(db, e.id) === null)
			.map((e) => e.protocol);
		expect(withoutProbe).toEqual(['linear', 'knn']);
		// In the order they were made, so the newest stays the newest.
		expect(evaluations.map((e) => e.role)).toEqual([
			'encoder',
			'encoder',
			'random-init',
			'encoder'
		]);
		expect(evaluations.map((e) => e.protocol)).toEqual(['linear', 'knn', 'linear', 'linear']);
	});

	it('leaves out a probe that is damaged on disk at export', () => {
		const original = evaluatedRun('damaged');
		exportRunBundle(source.store.db, original.run.id, bundleFile());
		const carried = decodeCheckpoint(new Uint8Array(fs.readFileSync(bundleFile()))).meta;
		expect((carried.probes as { evaluationId: number }[]).map((p) => p.evaluationId)).toEqual([
			original.control,
			original.encoder
		]);
	});

	it('imports a run without a probe damaged in the bundle, and says so in its notes', async () => {
		const original = evaluatedRun('missing');
		exportRunBundle(source.store.db, original.run.id, bundleFile());
		rewriteBundle((meta) => {
			for (const carried of meta.probes as { evaluationId: number; base64: string }[]) {
				if (carried.evaluationId !== original.encoder) continue;
				const bytes = Buffer.from(carried.base64, 'base64');
				bytes[20] = (bytes[20] ?? 0) ^ 0x01;
				carried.base64 = bytes.toString('base64');
			}
		});
		const imported = await importBundle();
		const db = target.store.db;
		expect(findProbe(db, encoderQuery(imported.id))).toBeNull();
		expect(findProbe(db, controlQuery(imported.id))).not.toBeNull();
		// The evaluation itself still came, with its figures.
		const encoderEvaluations = listEvaluations(db, imported.id).filter(
			(e) => e.role === 'encoder' && e.protocol === 'linear'
		);
		expect(encoderEvaluations.map((e) => e.metrics?.top1)).toEqual([0.6, 0.6]);
		expect(imported.notes).toMatch(/^from the lab\n\n/);
		expect(imported.notes).toContain(`${dataset}, fc6, encoder at step ${step}`);
		expect(imported.notes).toContain('damaged in the bundle');
		// Nothing was written for it.
		const probes = path.join(runsDir(target), `run-${imported.id}`, 'probes');
		expect(fs.readdirSync(probes)).toHaveLength(1);
	});

	it('still imports a bundle written before probes travelled', async () => {
		const original = evaluatedRun('missing');
		exportRunBundle(source.store.db, original.run.id, bundleFile());
		rewriteBundle((meta) => {
			delete meta.probes;
		});
		const imported = await importBundle();
		const db = target.store.db;
		expect(imported).toMatchObject({ name: 'probed (imported)', status: 'completed', step });
		expect(imported.notes).toBe('from the lab');
		expect(listEvaluations(db, imported.id).map((e) => e.status)).toEqual(
			Array(4).fill('completed')
		);
		expect(findProbe(db, encoderQuery(imported.id))).toBeNull();
		expect(findProbe(db, controlQuery(imported.id))).toBeNull();
		expect(fs.existsSync(path.join(runsDir(target), `run-${imported.id}`, 'probes'))).toBe(false);
	});
});
