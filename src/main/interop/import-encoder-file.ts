/**
 * `noiselab import` / "Import encoder…": a PyTorch or safetensors checkpoint becomes an
 * external encoder, a run of kind `imported` with one checkpoint (step 0) in NoiseLab's own
 * format, so Evaluate, Explain, bundles and deletion treat it like any run. The file is read,
 * checked against its architecture and converted before anything is written; a failure leaves
 * neither a row nor a folder behind.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { AppFailure } from '../../core/api/errors';
import type { ImportEncoderParams } from '../../core/api/interop';
import type { RunRecord } from '../../core/api/training';
import { describeArchitecture } from '../../core/encoders/architecture';
import { importEncoderWeights } from '../../core/interop/import-encoder';
import { trainConfigSchema } from '../../core/training/config';
import { addCheckpoint, createRun, getRun, publicRecord, setRunStatus } from '../store/runs';
import { writeCheckpoint } from '../training/checkpoint-files';

/** The largest checkpoint accepted (a MoCo v2 ResNet-50 checkpoint with optimiser state is ~300 MB). */
export const maxImportBytes = 2 ** 31 - 1;

/** A file name without the checkpoint extensions (`checkpoint_0199.pth.tar` → `checkpoint_0199`). */
function baseName(file: string): string {
	return path
		.basename(file)
		.replace(/(\.pth\.tar|\.pth|\.pt|\.tar|\.safetensors|\.bin|\.ckpt)$/i, '');
}

/** Imports `params.path` as a new external encoder; returns its run record. */
export function importEncoderFile(
	db: Database.Database,
	params: ImportEncoderParams,
	options: { runsDir: string; appVersion: string }
): RunRecord {
	const file = params.path;
	if (!path.isAbsolute(file)) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Give the checkpoint's absolute path; got ${JSON.stringify(file)}.`
		);
	}
	let bytes: Buffer;
	try {
		const { size } = fs.statSync(file);
		if (size > maxImportBytes) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`${file} is ${(size / 2 ** 30).toFixed(1)} GiB; NoiseLab imports checkpoints up to 2 GiB.`
			);
		}
		bytes = fs.readFileSync(file);
	} catch (error) {
		if (error instanceof AppFailure) throw error;
		throw new AppFailure('NOT_FOUND', `Cannot read ${file}: ${(error as Error).message}`);
	}
	let imported: ReturnType<typeof importEncoderWeights>;
	try {
		imported = importEncoderWeights(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
			...(params.architecture ? { architecture: params.architecture } : {}),
			...(params.inputSize ? { inputSize: params.inputSize } : {})
		});
	} catch (error) {
		throw new AppFailure(
			'INVALID_REQUEST',
			`Cannot import ${path.basename(file)}: ${(error as Error).message}`
		);
	}
	const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
	const parameters = Object.values(imported.tensors).reduce(
		(sum, tensor) => sum + tensor.data.length,
		0
	);
	let folder: string | null = null;
	try {
		return db.transaction(() => {
			const run = createRun(
				db,
				{
					name: params.name ?? baseName(file),
					config: trainConfigSchema.parse({ source: { kind: 'folder', path: file }, steps: 1 }),
					sourceLabel: `imported: ${describeArchitecture(imported.architecture)}`,
					appVersion: options.appVersion,
					imported: {
						architecture: imported.architecture,
						normalisation: imported.normalisation,
						format: imported.format,
						fileName: path.basename(file),
						sha256,
						sourceName: params.sourceName,
						licence: params.licence,
						notes: imported.notes
					}
				},
				(id) => path.join(options.runsDir, `run-${id}`)
			);
			folder = run.folder;
			const checkpoint = writeCheckpoint(path.join(run.folder, 'checkpoints'), 0, {
				meta: { runId: run.id, step: 0, imported: { fileName: path.basename(file), sha256 } },
				tensors: imported.tensors
			});
			addCheckpoint(db, run.id, checkpoint);
			db.prepare('UPDATE runs SET parameter_count = ? WHERE id = ?').run(parameters, run.id);
			setRunStatus(db, run.id, 'completed');
			return publicRecord(getRun(db, run.id) ?? run);
		})();
	} catch (error) {
		if (folder !== null) fs.rmSync(folder, { recursive: true, force: true });
		throw error;
	}
}
