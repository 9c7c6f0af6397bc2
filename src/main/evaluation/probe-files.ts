/**
 * The linear probe of an evaluation, kept on disk next to its run's checkpoints
 * (`<run folder>/probes/evaluation-<id>.nlprobe`) so that Explain can take a class target
 * through it and show each encoder's prediction.
 *
 * Layout (little-endian): the magic `NLPROBE\0`, a u32 format version, a u32 byte length of a
 * JSON header (layer, class names, dataset, accuracy, whether statistics follow), the header,
 * then float32 values — `weight` (dim × classes, row-major), `bias`, and when the evaluation
 * standardised its features the per-feature `mean` and `std` — and last the SHA-256 of
 * everything before it, so a truncated or altered file is refused instead of explaining with
 * garbage weights.
 */
import { featureLayers, type FeatureLayer } from '../../core/encoders/architecture';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFailure, writeFileDurably } from '../durable-file';
import { z } from 'zod';
import { AppFailure } from '../../core/api/errors';
import { foldStandardization } from '../../core/explain/gradcam';
import type { LinearProbe } from '../../core/evaluation/linear-probe';
import type { FeatureStatistics } from '../../core/evaluation/standardize';

/** The extension of a probe file. */
export const probeFileExtension = '.nlprobe';

const magic = Buffer.from('NLPROBE\0', 'latin1');
const formatVersion = 1;
const prefixBytes = magic.length + 8;
const checksumBytes = 32;

/** A trained linear probe as an evaluation left it, with what it needs to be read back. */
export interface StoredProbe {
	/** The features it reads: conv blocks are averaged over H and W. */
	layer: FeatureLayer;
	/** Feature count. */
	dim: number;
	/** `dim × classes`, row-major: `logits = features · weight + bias`. */
	weight: Float32Array;
	/** One value per class. */
	bias: Float32Array;
	/** The training features' statistics when the probe was trained on z-scores, else null. */
	standardization: FeatureStatistics | null;
	/** The dataset's class names; their count is the probe's class count. */
	classes: string[];
	/** The dataset the probe was trained on (an evaluation's `dataset`). */
	dataset: string;
	/** The evaluation's top-1 test accuracy (0–1), null when not known. */
	accuracy: number | null;
}

const headerSchema = z
	.object({
		layer: z.enum(featureLayers),
		dim: z.number().int().min(1),
		classes: z.array(z.string()).min(1),
		dataset: z.string(),
		accuracy: z.number().nullable(),
		standardized: z.boolean()
	})
	.strict();

/** The file that holds the probe of evaluation `evaluationId` of the run whose folder is given. */
export function probeFilePath(runFolder: string, evaluationId: number): string {
	return path.join(runFolder, 'probes', `evaluation-${evaluationId}${probeFileExtension}`);
}

function checkShapes(probe: StoredProbe): void {
	const classes = probe.classes.length;
	const problems = [
		probe.weight.length !== probe.dim * classes &&
			`weight has ${probe.weight.length} values, expected ${probe.dim} × ${classes}`,
		probe.bias.length !== classes && `bias has ${probe.bias.length} values, expected ${classes}`,
		probe.standardization &&
			(probe.standardization.mean.length !== probe.dim ||
				probe.standardization.std.length !== probe.dim) &&
			`the statistics do not have ${probe.dim} values`
	].filter((problem): problem is string => typeof problem === 'string');
	if (problems.length > 0) throw new RangeError(`Inconsistent probe: ${problems.join('; ')}.`);
}

/** The bytes of a probe file (see the module comment for the layout). */
export function encodeProbeFile(probe: StoredProbe): Uint8Array {
	checkShapes(probe);
	const header = Buffer.from(
		JSON.stringify({
			layer: probe.layer,
			dim: probe.dim,
			classes: probe.classes,
			dataset: probe.dataset,
			accuracy: probe.accuracy,
			standardized: probe.standardization !== null
		}),
		'utf8'
	);
	const arrays = [probe.weight, probe.bias];
	if (probe.standardization) arrays.push(probe.standardization.mean, probe.standardization.std);
	const floats = arrays.reduce((sum, array) => sum + array.length, 0);
	const bytes = Buffer.alloc(prefixBytes + header.length + floats * 4 + checksumBytes);
	magic.copy(bytes, 0);
	bytes.writeUInt32LE(formatVersion, magic.length);
	bytes.writeUInt32LE(header.length, magic.length + 4);
	header.copy(bytes, prefixBytes);
	let offset = prefixBytes + header.length;
	for (const array of arrays) {
		for (const value of array) {
			bytes.writeFloatLE(value, offset);
			offset += 4;
		}
	}
	crypto.createHash('sha256').update(bytes.subarray(0, offset)).digest().copy(bytes, offset);
	return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Reads the bytes of a probe file; `source` names it in errors. Throws AppFailure IO_ERROR. */
export function decodeProbeFile(data: Uint8Array, source: string): StoredProbe {
	const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	const refuse = (why: string) =>
		new AppFailure(
			'IO_ERROR',
			`${source} is not a usable probe file: ${why}. Evaluate the encoder again with the linear probe to rewrite it.`
		);
	if (bytes.length < magic.length || !bytes.subarray(0, magic.length).equals(magic)) {
		throw refuse('it does not start with the NoiseLab probe signature');
	}
	if (bytes.length < prefixBytes + checksumBytes) {
		throw refuse(`it is truncated (${bytes.length} bytes)`);
	}
	const version = bytes.readUInt32LE(magic.length);
	if (version !== formatVersion) {
		throw refuse(`it has format version ${version}; this NoiseLab reads version ${formatVersion}`);
	}
	const headerLength = bytes.readUInt32LE(magic.length + 4);
	if (prefixBytes + headerLength + checksumBytes > bytes.length) {
		throw refuse(`it is truncated (${bytes.length} bytes)`);
	}
	let header: z.infer<typeof headerSchema>;
	try {
		header = headerSchema.parse(
			JSON.parse(bytes.toString('utf8', prefixBytes, prefixBytes + headerLength))
		);
	} catch {
		throw refuse('its header is damaged');
	}
	const classes = header.classes.length;
	const floats = header.dim * classes + classes + (header.standardized ? 2 * header.dim : 0);
	const payloadEnd = prefixBytes + headerLength + floats * 4;
	if (payloadEnd + checksumBytes !== bytes.length) {
		throw refuse(`it has ${bytes.length} bytes, expected ${payloadEnd + checksumBytes}`);
	}
	const expected = crypto.createHash('sha256').update(bytes.subarray(0, payloadEnd)).digest();
	if (!expected.equals(bytes.subarray(payloadEnd))) {
		throw refuse('its checksum does not match its contents (the file was altered or damaged)');
	}
	let offset = prefixBytes + headerLength;
	const take = (count: number): Float32Array => {
		const values = new Float32Array(count);
		for (let i = 0; i < count; i++) values[i] = bytes.readFloatLE(offset + 4 * i);
		offset += 4 * count;
		return values;
	};
	const weight = take(header.dim * classes);
	const bias = take(classes);
	const standardization = header.standardized
		? { mean: take(header.dim), std: take(header.dim) }
		: null;
	return {
		layer: header.layer,
		dim: header.dim,
		weight,
		bias,
		standardization,
		classes: header.classes,
		dataset: header.dataset,
		accuracy: header.accuracy
	};
}

/**
 * Writes a probe file so that a crash at any moment leaves either no file or a whole one
 * (temporary file, fsync, rename). Throws AppFailure DISK_FULL or IO_ERROR.
 */
export function writeProbeFile(file: string, probe: StoredProbe): void {
	try {
		writeFileDurably(file, encodeProbeFile(probe));
	} catch (error) {
		throw writeFailure(error, `the linear probe ${path.basename(file)}`, path.dirname(file));
	}
}

/** Reads and validates a probe file: NOT_FOUND when it is missing, IO_ERROR when it is unusable. */
export function readProbeFile(file: string): StoredProbe {
	let bytes: Buffer;
	try {
		bytes = fs.readFileSync(file);
	} catch (error) {
		throw new AppFailure(
			'NOT_FOUND',
			`Cannot read the linear probe ${file}: ${(error as Error).message}. Evaluate the encoder again with the linear probe.`
		);
	}
	return decodeProbeFile(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), file);
}

/**
 * The probe as Grad-CAM's `class` target takes it: reading the encoder's raw `layer` features,
 * with the standardisation folded into its weights (see `foldStandardization`).
 */
export function probeForCam(stored: StoredProbe): { probe: LinearProbe; layer: FeatureLayer } {
	const probe: LinearProbe = {
		dim: stored.dim,
		classes: stored.classes.length,
		weight: stored.weight,
		bias: stored.bias,
		lossHistory: []
	};
	return {
		probe: stored.standardization ? foldStandardization(probe, stored.standardization) : probe,
		layer: stored.layer
	};
}

/** {@link readProbeFile} then {@link probeForCam}. */
export function readProbeForCam(file: string): { probe: LinearProbe; layer: FeatureLayer } {
	return probeForCam(readProbeFile(file));
}
