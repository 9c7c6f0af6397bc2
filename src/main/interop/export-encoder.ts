/**
 * "Export for PyTorch" / `noiselab export`: a run's encoder (trained or imported) as a folder
 * PyTorch reads without NoiseLab:
 *   encoder.safetensors   the state dict in PyTorch's names and layouts (OIHW convs, [out, in]
 *                         linears, fc6 reading (c, h, w)), BN buffers and num_batches_tracked
 *   noiselab_encoder.py   the module with those names and a load() helper
 *   config.json           architecture, normalisation, input size, layers, where it came from
 * `model.load_state_dict(...)` (strict) then gives NoiseLab's embeddings.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { AppFailure } from '../../core/api/errors';
import type { ExportEncoderResult } from '../../core/api/interop';
import { describeArchitecture, layersOf } from '../../core/encoders/architecture';
import { recipeOfRun } from '../../core/encoders/build';
import { resNetExpectedTensors } from '../../core/encoders/resnet';
import { writeSafetensors, type WritableTensor } from '../../core/interop/safetensors';
import { smallAlexNetToTorch, specOf } from '../../core/interop/smallalexnet-torch';
import { getRun, listCheckpoints } from '../store/runs';
import { readCheckpoint } from '../training/checkpoint-files';
import { writeFileDurably } from '../durable-file';
import { pytorchModuleSource } from './pytorch-module';

/** The file names an export writes. */
export const exportFiles = {
	weights: 'encoder.safetensors',
	module: 'noiselab_encoder.py',
	config: 'config.json'
} as const;

/** Adds `num_batches_tracked` (int64, 0) after each BN's running variance, as PyTorch's state dicts have it. */
function withBatchCounters(tensors: Map<string, WritableTensor>): Map<string, WritableTensor> {
	const out = new Map<string, WritableTensor>();
	for (const [name, tensor] of tensors) {
		out.set(name, tensor);
		if (name.endsWith('.running_var')) {
			out.set(name.replace(/running_var$/, 'num_batches_tracked'), {
				shape: [],
				data: new Float32Array(1),
				dtype: 'int64'
			});
		}
	}
	return out;
}

/** Writes run `runId`'s newest encoder into `folder` (absolute; new or empty). */
export function exportEncoderFolder(
	db: Database.Database,
	runId: number,
	folder: string
): ExportEncoderResult {
	if (!path.isAbsolute(folder)) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Give an absolute folder path; got ${JSON.stringify(folder)}.`
		);
	}
	const run = getRun(db, runId);
	if (!run)
		throw new AppFailure('NOT_FOUND', `There is no run ${runId}. See the Runs list for the ids.`);
	const checkpoint = listCheckpoints(db, runId).at(-1);
	if (!checkpoint) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Run "${run.name}" has no checkpoint to export yet; train it a little first.`
		);
	}
	if (fs.existsSync(folder) && fs.readdirSync(folder).length > 0) {
		throw new AppFailure(
			'FOLDER_CONFLICT',
			`${folder} is not empty; export into a new or empty folder (nothing was overwritten).`
		);
	}
	const recipe = recipeOfRun(run);
	const { tensors } = readCheckpoint(checkpoint.path, checkpoint.sha256);
	const { architecture } = recipe;
	const torchTensors =
		architecture.kind === 'smallalexnet'
			? smallAlexNetToTorch(specOf(architecture), tensors)
			: new Map(
					resNetExpectedTensors(architecture).map(({ name }) => {
						const tensor = tensors[name];
						if (!tensor)
							throw new AppFailure('IO_ERROR', `The checkpoint of run ${runId} lacks '${name}'.`);
						return [name, tensor];
					})
				);
	const weights = writeSafetensors(withBatchCounters(torchTensors), {
		format: 'pt',
		producer: 'NoiseLab',
		run: run.name
	});
	const layers = layersOf(architecture);
	const config = {
		format: 'noiselab-encoder',
		version: 1,
		name: run.name,
		description: describeArchitecture(architecture),
		architecture,
		normalisation: recipe.normalisation,
		inputSize: architecture.inputSize,
		layers: layers.all,
		outputLayer: layers.all.at(-1),
		probeLayer: layers.probe,
		camLayer: layers.cam,
		output:
			architecture.kind === 'smallalexnet'
				? 'fc8, divided by its L2 norm (the contrastive embedding)'
				: 'avgpool features (ResNet-50 without its fc head)',
		weights: exportFiles.weights,
		weightsSha256: crypto.createHash('sha256').update(weights).digest('hex'),
		source: {
			runId: run.id,
			kind: run.kind,
			checkpointStep: checkpoint.step,
			...(run.kind === 'trained' ? { preset: run.config.model, trainSource: run.sourceLabel } : {}),
			...(run.imported ? { imported: run.imported } : {})
		}
	};
	const files: [string, Uint8Array][] = [
		[exportFiles.weights, weights],
		[exportFiles.module, new TextEncoder().encode(pytorchModuleSource)],
		[exportFiles.config, new TextEncoder().encode(`${JSON.stringify(config, null, '\t')}\n`)]
	];
	try {
		for (const [name, bytes] of files) writeFileDurably(path.join(folder, name), bytes);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new AppFailure(
			code === 'ENOSPC' ? 'DISK_FULL' : 'IO_ERROR',
			`Cannot write into ${folder}: ${(error as Error).message}`
		);
	}
	return {
		folder,
		files: files.map(([name]) => name),
		bytes: files.reduce((sum, [, bytes]) => sum + bytes.length, 0)
	};
}
