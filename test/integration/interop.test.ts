import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationRecordSchema } from '../../src/core/api/evaluation';
import { runDetailSchema, runRecordSchema, type RunRecord } from '../../src/core/api/training';
import { buildEncoder, recipeOfRun } from '../../src/core/encoders/build';
import { readSafetensors } from '../../src/core/interop/safetensors';
import { readCheckpoint } from '../../src/main/training/checkpoint-files';
import { createAppContext } from '../../src/main/app-context';
import { forkNodeWorker } from '../../src/main/workers/node-launcher';
import { distDir, repoRoot, temporaryFolder } from '../support/paths';

const bin = path.join(repoRoot, 'bin', 'noiselab.js');
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'torch');
const expected = JSON.parse(fs.readFileSync(path.join(fixtures, 'expected.json'), 'utf8'));

/** A Python with PyTorch, or why there is none (the round trips then skip, saying so). */
function findTorchPython(): { python: string | null; reason: string } {
	const candidates = [process.env.NOISELAB_PYTHON, 'python3', '/usr/bin/python3'].filter(
		(candidate): candidate is string => Boolean(candidate)
	);
	for (const python of candidates) {
		const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], {
			encoding: 'utf8'
		});
		if (probe.status === 0) return { python, reason: `PyTorch ${probe.stdout.trim()} (${python})` };
	}
	return { python: null, reason: `no Python with torch among ${candidates.join(', ')}` };
}

/** The fixture inputs of scripts/make-torch-fixtures.py, NHWC. */
function fixtureInputs(count: number, size: number): tf.Tensor4D {
	const values = new Float32Array(count * size * size * 3);
	for (let n = 0; n < count; n++)
		for (let h = 0; h < size; h++)
			for (let w = 0; w < size; w++)
				for (let c = 0; c < 3; c++)
					values[((n * size + h) * size + w) * 3 + c] =
						Math.sin(0.05 * h + 0.09 * w + 1.3 * c + 0.7 * n) * 1.5;
	return tf.tensor4d(values, [count, size, size, 3]);
}

/** Runs the exported module in PyTorch on the fixture inputs and returns its outputs. */
function torchOutputs(python: string, folder: string, count: number, layer?: string): number[] {
	const script = `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
import noiselab_encoder as m
model = m.load(sys.argv[1])
size = model.config['inputSize']
n = torch.arange(${count}, dtype=torch.float64).view(-1, 1, 1, 1)
c = torch.arange(3, dtype=torch.float64).view(1, -1, 1, 1)
h = torch.arange(size, dtype=torch.float64).view(1, 1, -1, 1)
w = torch.arange(size, dtype=torch.float64).view(1, 1, 1, -1)
x = (torch.sin(0.05 * h + 0.09 * w + 1.3 * c + 0.7 * n) * 1.5).float()
with torch.no_grad():
    out = model(x${layer ? `, layer='${layer}'` : ''})
print(json.dumps([float(v) for v in out.flatten()]))
`;
	const result = spawnSync(python, ['-c', script, folder], { encoding: 'utf8', timeout: 120_000 });
	if (result.status !== 0) throw new Error(`PyTorch failed: ${result.stderr}`);
	return JSON.parse(result.stdout) as number[];
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
	expect(a.length).toBe(b.length);
	let worst = 0;
	for (let i = 0; i < a.length; i++)
		worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
	return worst;
}

describe('external encoders through the CLI', () => {
	const home = temporaryFolder();
	const out = temporaryFolder('noiselab-export-');
	const torch = findTorchPython();
	afterAll(() => {
		home.remove();
		out.remove();
	});
	beforeAll(async () => {
		await tf.setBackend('cpu');
		console.log(
			`PyTorch round trips: ${torch.python ? `run with ${torch.reason}` : `skipped: ${torch.reason}`}`
		);
	});

	const cli = (...args: string[]) =>
		spawnSync(process.execPath, [bin, ...args], {
			encoding: 'utf8',
			env: { ...process.env, NOISELAB_HOME: home.path },
			timeout: 180_000
		});
	const runs = (): RunRecord[] =>
		JSON.parse(cli('runs', 'list', '--json').stdout).map((r: unknown) => runRecordSchema.parse(r));
	const ids: Record<string, number> = {};

	it('imports the MoCo v2 ResNet-50 fixture, recording hash, source and licence', () => {
		const file = path.join(fixtures, 'resnet50-w8.pth');
		const result = cli(
			'import',
			file,
			'--name',
			'moco-w8',
			'--input-size',
			'64',
			'--source',
			'NoiseLab test fixture',
			'--licence',
			'MIT'
		);
		expect(result.status, result.stderr).toBe(0);
		ids.resnet = Number(result.stdout.trim());
		expect(result.stderr).toMatch(/ResNet-50 \(width 1\/8\), 64 px/);
		const run = runs().find((r) => r.id === ids.resnet);
		expect(run).toMatchObject({ kind: 'imported', status: 'completed', name: 'moco-w8' });
		expect(run?.imported).toMatchObject({
			format: 'pytorch',
			fileName: 'resnet50-w8.pth',
			sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
			sourceName: 'NoiseLab test fixture',
			licence: 'MIT'
		});
		expect(cli('runs', 'list').stdout).toMatch(/moco-w8\s+completed\s+0\/1\s+resnet50\s+imported/);
		expect(cli('runs', 'show', String(ids.resnet)).stdout).toContain('module.encoder_q.');
		const small = cli('import', path.join(fixtures, 'smallalexnet-micro.safetensors'));
		expect(small.status, small.stderr).toBe(0);
		ids.alexnet = Number(small.stdout.trim());
	});

	it('a mismatch lists what differs and leaves no run and no folder', () => {
		const before = runs().length;
		const folders = fs.readdirSync(path.join(home.path, 'runs')).length;
		const result = cli(
			'import',
			path.join(fixtures, 'smallalexnet-micro.safetensors'),
			'--arch',
			'resnet50'
		);
		expect(result.status).toBe(2);
		expect(result.stderr).toMatch(/no 'conv1\.weight'/);
		const hostile = cli('import', path.join(fixtures, 'hostile-os-system.pth'));
		expect(hostile.status).toBe(2);
		expect(hostile.stderr).toMatch(/posix\.system.*nothing was run/);
		expect(runs()).toHaveLength(before);
		expect(fs.readdirSync(path.join(home.path, 'runs'))).toHaveLength(folders);
	});

	it('evaluates an imported ResNet-50 with kNN and its random-init control', () => {
		const result = cli(
			'eval',
			'--run',
			String(ids.resnet),
			'--dataset',
			'fashion-mnist-mini',
			'--protocol',
			'knn',
			'--max-train',
			'300',
			'--json'
		);
		expect(result.status, result.stderr).toBe(0);
		const evaluations = (JSON.parse(result.stdout) as unknown[]).map((e) =>
			evaluationRecordSchema.parse(e)
		);
		expect(evaluations.map((e) => [e.role, e.layer, e.status])).toEqual([
			['encoder', 'avgpool', 'completed'],
			['random-init', 'avgpool', 'completed']
		]);
		expect(evaluations[0]?.metrics?.featureDim).toBe(256);
		expect(evaluations[0]?.metrics?.knn?.['20']).toBeGreaterThan(0.15);
	}, 300_000);

	it('explains the imported ResNet-50 (layer4) beside a SmallAlexNet (conv5)', () => {
		const grid = path.join(out.path, 'grid.png');
		const result = cli(
			'explain',
			'--runs',
			`${ids.alexnet},${ids.resnet}`,
			'--dataset',
			'fashion-mnist-mini',
			'--index',
			'3',
			'--target',
			'embedding',
			'--out',
			grid
		);
		expect(result.status, result.stderr).toBe(0);
		expect(fs.statSync(grid).size).toBeGreaterThan(1000);
	}, 300_000);

	it('exports an imported encoder, refuses a non-empty folder, and PyTorch reproduces the original', () => {
		const folder = path.join(out.path, 'resnet');
		const result = cli('export', String(ids.resnet), '--out', folder);
		expect(result.status, result.stderr).toBe(0);
		expect(fs.readdirSync(folder).sort()).toEqual([
			'config.json',
			'encoder.safetensors',
			'noiselab_encoder.py'
		]);
		const weights = readSafetensors(
			new Uint8Array(fs.readFileSync(path.join(folder, 'encoder.safetensors')))
		);
		expect(weights.tensors.has('layer4.2.bn3.num_batches_tracked')).toBe(true);
		expect([...weights.tensors.keys()].some((name) => name.startsWith('fc.'))).toBe(false);
		const again = cli('export', String(ids.resnet), '--out', folder);
		expect(again.status).toBe(2);
		expect(again.stderr).toContain('is not empty');
		if (!torch.python) return;
		// The fixture's own PyTorch outputs are at 224 px; the export keeps the weights, whatever the input size.
		const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8'));
		config.inputSize = 224;
		fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(config));
		expect(
			maxDifference(torchOutputs(torch.python, folder, 2), expected.resnet50.avgpool)
		).toBeLessThan(1e-4);
	}, 300_000);

	it('round trip: a trained run exported and loaded in PyTorch gives NoiseLab’s embeddings', () => {
		const trained = cli(
			'train',
			'--preset',
			'dead_leaves-squares',
			'--size',
			'64',
			'--count',
			'64',
			'--model',
			'tiny',
			'--batch',
			'8',
			'--backend',
			'wasm',
			'--optimizer',
			'adam',
			'--steps',
			'3',
			'--json'
		);
		expect(trained.status, trained.stderr).toBe(0);
		const run = runRecordSchema.parse(JSON.parse(trained.stdout));
		const folder = path.join(out.path, 'trained');
		const result = cli('export', String(run.id), '--out', folder);
		expect(result.status, result.stderr).toBe(0);
		const detail = runDetailSchema.parse(
			JSON.parse(cli('runs', 'show', String(run.id), '--json').stdout)
		);
		const checkpoint = detail.checkpoints.at(-1);
		if (!checkpoint) throw new Error('no checkpoint');
		const encoder = buildEncoder(recipeOfRun(run), readCheckpoint(checkpoint.path).tensors);
		const x = fixtureInputs(3, 32);
		const ours = encoder.forward(x, { training: false });
		const ourFc6 = encoder.forward(x, { training: false, layer: 'fc6' });
		const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8'));
		expect(config).toMatchObject({
			inputSize: 32,
			probeLayer: 'fc6',
			source: { preset: 'tiny', runId: run.id }
		});
		if (torch.python) {
			expect(maxDifference(torchOutputs(torch.python, folder, 3), ours.dataSync())).toBeLessThan(
				1e-4
			);
			expect(
				maxDifference(torchOutputs(torch.python, folder, 3, 'fc6'), ourFc6.dataSync())
			).toBeLessThan(1e-4);
		}
		tf.dispose([x, ours, ourFc6]);
		encoder.dispose();
	}, 300_000);

	it('bundles and deletes an imported encoder like any run', async () => {
		const bundle = path.join(out.path, 'moco.nlrun');
		expect(cli('runs', 'bundle', String(ids.resnet), '--out', bundle).status).toBe(0);
		const imported = cli('runs', 'import', bundle);
		expect(imported.status, imported.stderr).toBe(0);
		const copy = runs().find((r) => r.name === 'moco-w8 (imported)');
		expect(copy).toMatchObject({ kind: 'imported', imported: { fileName: 'resnet50-w8.pth' } });
		expect(cli('runs', 'show', String(copy?.id)).stdout).toContain('resnet50-w8.pth (pytorch)');
		const folder = path.join(home.path, 'runs', `run-${copy?.id}`);
		expect(fs.existsSync(folder)).toBe(true);
		const context = createAppContext({
			dataDir: { path: home.path, source: 'NOISELAB_HOME' },
			launcher: forkNodeWorker,
			workersDir: path.join(distDir, 'workers'),
			pathAccess: 'any'
		});
		try {
			const deleted = await context.dispatch('runs.delete', { id: copy?.id });
			expect(deleted).toEqual({ ok: true, value: { deleted: true } });
		} finally {
			context.close();
		}
		expect(fs.existsSync(folder)).toBe(false);
		expect(runs().some((r) => r.id === copy?.id)).toBe(false);
	}, 120_000);
});
