/**
 * Reading a run bundle that came from anywhere: streamed from a regular file, within limits no
 * legitimate bundle reaches, and checked through before anything is written, so that a hostile
 * or damaged file is refused with a clear error instead of freezing the app, exhausting its
 * memory or leaving half a run behind. The app runs it in a worker process (`bundle-reader`).
 *
 * Errors name what is wrong structurally and never quote the file's bytes: the path may point
 * at anyone's file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { z } from 'zod';
import { AppFailure } from '../../core/api/errors';
import { evaluationRecordSchema } from '../../core/api/evaluation';
import { metricPointSchema, runRecordSchema } from '../../core/api/training';
import {
	checkpointHeaderLength,
	checkpointPrefixBytes,
	decodeCheckpointHeader,
	type CheckpointContents,
	type CheckpointHeader
} from '../../core/training/checkpoint';
import type { TrainConfig } from '../../core/training/config';
import type { EncoderArchitecture } from '../../core/encoders/architecture';
import { resNetExpectedTensors } from '../../core/encoders/resnet';
import { specOf } from '../../core/interop/smallalexnet-torch';
import { modelPresets, trainablePlan, weightShapes } from '../../core/training/encoder-spec';
import { optimizerSlotPrefixes, optimizerStepKey } from '../../core/training/optimizer';
import { mebibytes } from '../durable-file';

/** The `format` tag of a bundle's header (the container is the checkpoint format). */
export const bundleFormat = 'noiselab-run-bundle';

/**
 * The limits a bundle must keep. A legitimate bundle stays far below each: the paper's encoder
 * with Adam's state is about 0.7 GB; a run logs one metric row per step (the paper's 200
 * epochs are about 27,000 steps); a run gathers a few evaluations per checkpoint it was
 * evaluated at; a linear probe over fc6 of 4096 features and 1000 classes is 16 MB.
 */
export const bundleLimits = {
	/** The whole file. */
	fileBytes: 2 * 2 ** 30,
	/** The JSON header: the run record, metrics, evaluations and probes. */
	headerBytes: 256 * 2 ** 20,
	/** Logged steps (and never more than the run has steps). */
	metricRows: 2_000_000,
	/** Evaluations of the run. */
	evaluationRows: 10_000,
	/** One carried probe file, base64-encoded in the header. */
	probeBase64Chars: Math.ceil((64 * 2 ** 20) / 3) * 4
} as const;

/** A bundle's header, validated. */
export const bundleMetaSchema = z.object({
	format: z.literal(bundleFormat),
	version: z.literal(1),
	run: runRecordSchema,
	metrics: z.array(metricPointSchema),
	evaluations: z.array(evaluationRecordSchema),
	checkpointStep: z.number().int(),
	checkpointMeta: z.record(z.string(), z.unknown()),
	/** SHA-256 (hex) of the data section: the weights. Bundles written before it lack it. */
	dataSha256: z
		.string()
		.regex(/^[0-9a-f]{64}$/)
		.optional(),
	/** The probe files of `evaluations`, by the exporting store's evaluation id. */
	probes: z
		.array(
			z.object({
				evaluationId: z.number().int(),
				base64: z.string().max(bundleLimits.probeBase64Chars)
			})
		)
		.optional()
});

/** See {@link bundleMetaSchema}. */
export type BundleMeta = z.infer<typeof bundleMetaSchema>;

/** A bundle read and checked through: safe to import. */
export interface RunBundle {
	meta: BundleMeta;
	tensors: CheckpointContents['tensors'];
}

/** The SHA-256 of a checkpoint container's data section, as a bundle's `dataSha256` holds it. */
export function dataSectionSha256(tensors: CheckpointContents['tensors']): string {
	const hash = crypto.createHash('sha256');
	for (const tensor of Object.values(tensors)) {
		hash.update(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
	}
	return hash.digest('hex');
}

/**
 * Reads and checks the bundle at `file`. Throws AppFailure INVALID_REQUEST naming the problem
 * (NOT_FOUND when there is no such file) before anything is written anywhere.
 */
export async function readRunBundle(file: string): Promise<RunBundle> {
	const refuse = (why: string) =>
		new AppFailure('INVALID_REQUEST', `Cannot import ${file}: ${why}.`);
	let handle: fs.FileHandle;
	try {
		// O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
		handle = await fs.open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') throw new AppFailure('NOT_FOUND', `There is no file ${file}.`);
		throw refuse(code === 'EACCES' ? 'permission denied' : `it cannot be opened (${code})`);
	}
	try {
		const { size } = await checkRegularFile(handle, refuse);
		const prefix = await readExactly(handle, checkpointPrefixBytes, 0);
		let headerLength: number;
		try {
			headerLength = checkpointHeaderLength(prefix);
		} catch {
			throw refuse('it is not a NoiseLab run bundle (it does not start like one)');
		}
		if (headerLength > bundleLimits.headerBytes) {
			throw refuse(
				`its header is ${mebibytes(headerLength)}, more than the ${mebibytes(bundleLimits.headerBytes)} a bundle may hold`
			);
		}
		if (checkpointPrefixBytes + headerLength > size) throw refuse('it is truncated');
		let header: CheckpointHeader;
		try {
			header = decodeCheckpointHeader(
				await readExactly(handle, headerLength, checkpointPrefixBytes)
			);
		} catch (error) {
			throw refuse(`its header is unreadable (${(error as Error).message})`);
		}
		if (header.dataStart + header.dataBytes !== size) {
			throw refuse(
				size < header.dataStart + header.dataBytes ? 'it is truncated' : 'it has trailing bytes'
			);
		}
		const meta = parseMeta(header.meta, refuse);
		checkConsistency(meta, header, refuse);
		const tensors = await readTensors(handle, header, meta.dataSha256, refuse);
		return { meta, tensors };
	} finally {
		await handle.close();
	}
}

async function checkRegularFile(
	handle: fs.FileHandle,
	refuse: (why: string) => AppFailure
): Promise<{ size: number }> {
	const stat = await handle.stat();
	if (!stat.isFile()) {
		throw refuse(
			stat.isDirectory()
				? 'it is a folder, not a bundle file'
				: 'it is not a regular file (a device, pipe or socket)'
		);
	}
	if (stat.size > bundleLimits.fileBytes) {
		throw refuse(
			`it is ${mebibytes(stat.size)}, more than the ${mebibytes(bundleLimits.fileBytes)} a bundle may be`
		);
	}
	return { size: stat.size };
}

/** The header's meta, row counts checked before the schema walks them. */
function parseMeta(meta: Record<string, unknown>, refuse: (why: string) => AppFailure): BundleMeta {
	if (meta.format !== bundleFormat) {
		throw refuse('it is not a NoiseLab run bundle (a checkpoint, perhaps?)');
	}
	const rows = (value: unknown) => (Array.isArray(value) ? value.length : 0);
	if (rows(meta.metrics) > bundleLimits.metricRows) {
		throw refuse(
			`it logs ${rows(meta.metrics)} steps, more than the ${bundleLimits.metricRows} a bundle may hold`
		);
	}
	if (rows(meta.evaluations) > bundleLimits.evaluationRows) {
		throw refuse(
			`it holds ${rows(meta.evaluations)} evaluations, more than the ${bundleLimits.evaluationRows} a bundle may hold`
		);
	}
	if (rows(meta.probes) > rows(meta.evaluations)) {
		throw refuse('it holds more probes than evaluations');
	}
	const parsed = bundleMetaSchema.safeParse(meta);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		throw refuse(
			`its header does not validate (${issue?.path.join('.') || 'header'}: ${issue?.message ?? 'invalid'})`
		);
	}
	return parsed.data;
}

/** What the record says against what the file holds: steps, architecture, optimiser state. */
function checkConsistency(
	meta: BundleMeta,
	header: CheckpointHeader,
	refuse: (why: string) => AppFailure
): void {
	const { run, checkpointStep, checkpointMeta } = meta;
	const total = run.config.steps;
	if (checkpointStep < 0 || checkpointStep > total) {
		throw refuse(`its checkpoint is at step ${checkpointStep}, outside the run's 0..${total}`);
	}
	if (checkpointMeta.step !== undefined && checkpointMeta.step !== checkpointStep) {
		throw refuse('its checkpoint says another step than the bundle does');
	}
	if (run.imported) {
		// An external encoder: its weights follow the imported architecture, and it has no optimiser.
		const problem = importedLayoutProblem(run.imported.architecture, header.tensors);
		if (problem) throw refuse(`its weights do not fit the imported encoder: ${problem}`);
	} else if (checkpointMeta.model !== undefined && checkpointMeta.model !== run.config.model) {
		throw refuse(`its checkpoint is not of the run's ${run.config.model} encoder`);
	}
	if (meta.metrics.length > total) {
		throw refuse(`it logs ${meta.metrics.length} steps for a run of ${total}`);
	}
	if (meta.metrics.some((point) => point.step < 1 || point.step > total)) {
		throw refuse(`it logs steps outside the run's 1..${total}`);
	}
	const problem = run.imported ? null : layoutProblem(run.config, header.tensors);
	if (problem)
		throw refuse(`its weights do not fit the run's ${run.config.model} encoder: ${problem}`);
	let offset = 0;
	for (const entry of header.tensors) {
		// Tensors follow one another as the exporter writes them: what is streamed needs no seeking.
		if (entry.offset !== offset) throw refuse('its tensor table is out of order');
		offset += elements(entry.shape) * 4;
	}
	if (offset !== header.dataBytes) throw refuse('its data section does not match its tensor table');
}

/**
 * Why a checkpoint's tensor table does not fit `config`'s encoder and optimiser, or null: every
 * weight with its exact shape, and the optimiser's step counter and slots, nothing else.
 */
function layoutProblem(
	config: TrainConfig,
	table: readonly { name: string; shape: number[] }[]
): string | null {
	const spec = modelPresets[config.model];
	const weights = weightShapes(spec);
	// The optimiser keeps slots for the trainable tensors, not for the batch-norm statistics.
	const trainable = new Map(trainablePlan(spec).map((entry) => [entry.name, entry.shape]));
	const shapes = new Map(table.map((entry) => [entry.name, entry.shape]));
	for (const [name, shape] of weights) {
		const found = shapes.get(name);
		if (!found) return `'${name}' is missing`;
		if (found.join('x') !== shape.join('x')) {
			return `'${name}' is [${found.join(', ')}], the encoder's is [${shape.join(', ')}]`;
		}
	}
	const prefixes = optimizerSlotPrefixes(config);
	let slots = 0;
	for (const [name, shape] of shapes) {
		if (weights.has(name)) continue;
		if (name === optimizerStepKey) {
			if (shape.length !== 0) return `'${name}' is not a scalar`;
			continue;
		}
		const prefix = prefixes.find((candidate) => name.startsWith(`${candidate}/`));
		const weight = prefix ? trainable.get(name.slice(prefix.length + 1)) : undefined;
		if (!weight) return `it holds '${name}', which a ${config.optimizer} run does not have`;
		if (weight.join('x') !== shape.join('x')) return `'${name}' has the wrong shape`;
		slots++;
	}
	if (!shapes.has(optimizerStepKey)) return `'${optimizerStepKey}' is missing`;
	if (slots !== 0 && slots !== prefixes.length * trainable.size) {
		return 'its optimiser state is incomplete';
	}
	return null;
}

/** Why a checkpoint's tensor table is not exactly the weights of an imported architecture, or null. */
function importedLayoutProblem(
	architecture: EncoderArchitecture,
	table: readonly { name: string; shape: number[] }[]
): string | null {
	const expected =
		architecture.kind === 'resnet50'
			? new Map(resNetExpectedTensors(architecture).map((entry) => [entry.name, entry.shape]))
			: weightShapes(specOf(architecture));
	const shapes = new Map(table.map((entry) => [entry.name, entry.shape]));
	for (const [name, shape] of expected) {
		const found = shapes.get(name);
		if (!found) return `'${name}' is missing`;
		if (found.join('x') !== shape.join('x')) {
			return `'${name}' is [${found.join(', ')}], the encoder's is [${shape.join(', ')}]`;
		}
	}
	const extra = [...shapes.keys()].find((name) => !expected.has(name) && name !== optimizerStepKey);
	return extra === undefined ? null : `it holds '${extra}', which the encoder does not have`;
}

/** Streams the data section into the tensors, hashing it and refusing NaN and infinities. */
async function readTensors(
	handle: fs.FileHandle,
	header: CheckpointHeader,
	expectedSha256: string | undefined,
	refuse: (why: string) => AppFailure
): Promise<CheckpointContents['tensors']> {
	const hash = crypto.createHash('sha256');
	const tensors: CheckpointContents['tensors'] = {};
	for (const entry of header.tensors) {
		const data = new Float32Array(elements(entry.shape));
		const bytes = new Uint8Array(data.buffer);
		const chunk = 16 * 2 ** 20;
		for (let done = 0; done < bytes.length; done += chunk) {
			const part = bytes.subarray(done, Math.min(bytes.length, done + chunk));
			await readInto(handle, part, header.dataStart + entry.offset + done);
			hash.update(part);
		}
		if (!data.every(Number.isFinite)) {
			throw refuse(`its tensor '${entry.name}' holds NaN or infinite values`);
		}
		tensors[entry.name] = { shape: entry.shape, data };
	}
	if (expectedSha256 !== undefined && hash.digest('hex') !== expectedSha256) {
		throw refuse('its weights fail their own SHA-256 (the file was altered or damaged)');
	}
	return tensors;
}

async function readExactly(
	handle: fs.FileHandle,
	length: number,
	position: number
): Promise<Uint8Array> {
	const bytes = new Uint8Array(length);
	await readInto(handle, bytes, position);
	return bytes;
}

async function readInto(
	handle: fs.FileHandle,
	target: Uint8Array,
	position: number
): Promise<void> {
	for (let done = 0; done < target.length;) {
		const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
		if (bytesRead === 0) throw new AppFailure('INVALID_REQUEST', 'The bundle ended early.');
		done += bytesRead;
	}
}

function elements(shape: readonly number[]): number {
	return shape.reduce((a, b) => a * b, 1);
}
