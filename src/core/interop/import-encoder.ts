/**
 * From the bytes of a checkpoint file to an encoder NoiseLab can build: read the format
 * (PyTorch zip or safetensors), unwrap the usual containers (`state_dict`, `model`,
 * `module.`, MoCo's `module.encoder_q.`), detect or check the architecture from the keys and
 * shapes, and report every difference (missing, unexpected, wrong shape) at once. Nothing is
 * half-loaded: a mismatch is an error before any weight is used.
 */
import {
	imagenetNormalisation,
	stl10Normalisation,
	type ArchitectureKind,
	type EncoderArchitecture,
	type Normalisation
} from '../encoders/architecture';
import { resNetExpectedTensors, type ExpectedTensor } from '../encoders/resnet';
import { featureMapSizes, modelPresets } from '../training/encoder-spec';
import type { PickleValue } from './pickle';
import { looksLikeSafetensors, readSafetensors } from './safetensors';
import {
	smallAlexNetExpectedTensors,
	smallAlexNetFromTorch,
	specOf,
	type SmallAlexNetArchitecture
} from './smallalexnet-torch';
import type { HostTensor, StateDict } from './tensors';
import { readTorchCheckpoint, TorchTensor } from './torch-checkpoint';
import { looksLikeZip } from './zip';

/** Which file format the bytes are. */
export type CheckpointFormat = 'pytorch' | 'safetensors';

/** Options of {@link importEncoderWeights}. */
export interface ImportOptions {
	/** The architecture; detected from the keys when absent. */
	architecture?: ArchitectureKind;
	/** Input side in pixels; default 224 for ResNet-50, derived from fc6 for SmallAlexNet. */
	inputSize?: number;
}

/** An encoder read from a file. */
export interface ImportedWeights {
	format: CheckpointFormat;
	architecture: EncoderArchitecture;
	/** The input normalisation the encoder expects (ImageNet for ResNet-50, STL-10 for SmallAlexNet). */
	normalisation: Normalisation;
	/**
	 * The weights as NoiseLab keeps them: SmallAlexNet in NoiseLab's names and layouts
	 * (`conv1/kernel`, …), ResNet-50 in torchvision's names and layouts.
	 */
	tensors: Record<string, HostTensor>;
	/** What was done to get there, in words (prefix stripped, head dropped, float16 converted, …). */
	notes: string[];
}

/** Thrown when a file's weights do not fit the architecture; the message lists the differences. */
export class WeightsMismatchError extends Error {
	override name = 'WeightsMismatchError';
}

/** Reads the tensors of a checkpoint file, in either format, with notes on what was unwrapped. */
export function readStateDict(bytes: Uint8Array): {
	format: CheckpointFormat;
	tensors: StateDict;
	notes: string[];
} {
	if (looksLikeZip(bytes)) {
		const notes: string[] = [];
		const tensors = unwrapStateDict(readTorchCheckpoint(bytes), notes);
		return { format: 'pytorch', tensors, notes };
	}
	if (looksLikeSafetensors(bytes)) {
		const notes: string[] = [];
		const tensors = stripPrefixes(readSafetensors(bytes).tensors, notes);
		return { format: 'safetensors', tensors, notes };
	}
	if (bytes.length > 2 && bytes[0] === 0x80) readTorchCheckpoint(bytes); // throws the legacy-format message
	throw new Error(
		'The file is neither a PyTorch checkpoint (a zip written by torch.save) nor a safetensors file.'
	);
}

function isTensorDict(value: PickleValue): value is Map<string, PickleValue> {
	if (!(value instanceof Map) || value.size === 0) return false;
	let tensors = 0;
	for (const [key, entry] of value) {
		if (typeof key !== 'string') return false;
		if (entry instanceof TorchTensor) tensors++;
	}
	return tensors > 0;
}

/** The state dict inside a checkpoint object: the object itself, or its `state_dict` / `model` / … entry. */
function unwrapStateDict(root: PickleValue, notes: string[]): StateDict {
	let dict: Map<string, PickleValue> | null = isTensorDict(root) ? root : null;
	if (!dict && root instanceof Map) {
		for (const key of ['state_dict', 'model', 'model_state_dict', 'encoder', 'net', 'network']) {
			const entry = root.get(key);
			if (isTensorDict(entry ?? null)) {
				dict = entry as Map<string, PickleValue>;
				const others = [...root.keys()].filter((k) => k !== key).map(String);
				notes.push(
					`Took the weights under '${key}'${others.length > 0 ? ` (also in the file: ${others.slice(0, 6).join(', ')})` : ''}.`
				);
				break;
			}
		}
	}
	if (!dict) {
		const keys =
			root instanceof Map ? [...root.keys()].map(String).slice(0, 10).join(', ') : typeof root;
		throw new Error(
			`The checkpoint holds no state dict of tensors (top-level: ${keys}). Save model.state_dict() with torch.save.`
		);
	}
	const tensors: StateDict = new Map();
	const converted = new Set<string>();
	for (const [key, value] of dict) {
		if (!(value instanceof TorchTensor)) continue;
		if (value.dtype !== 'float32' && value.dtype !== 'int64') converted.add(value.dtype);
		tensors.set(key, { shape: value.shape, data: value.data });
	}
	if (converted.size > 0) notes.push(`Converted ${[...converted].join(', ')} values to float32.`);
	return stripPrefixes(tensors, notes);
}

/** Removes MoCo's `module.encoder_q.` (keeping only the query encoder) or DataParallel's `module.`. */
function stripPrefixes(tensors: StateDict, notes: string[]): StateDict {
	for (const prefix of ['module.encoder_q.', 'encoder_q.']) {
		const kept = [...tensors].filter(([name]) => name.startsWith(prefix));
		if (kept.length === 0) continue;
		const dropped = tensors.size - kept.length;
		notes.push(
			`Kept the ${kept.length} tensors under '${prefix}' (MoCo's query encoder)${dropped > 0 ? `; ignored ${dropped} others (key encoder, queue)` : ''}.`
		);
		return new Map(kept.map(([name, tensor]) => [name.slice(prefix.length), tensor]));
	}
	for (const prefix of ['module.', 'encoder.', 'backbone.']) {
		if ([...tensors.keys()].every((name) => name.startsWith(prefix))) {
			notes.push(`Removed the '${prefix}' prefix from every name.`);
			return new Map([...tensors].map(([name, tensor]) => [name.slice(prefix.length), tensor]));
		}
	}
	return tensors;
}

/** The architecture the keys describe, or an error naming what was found. */
export function detectArchitecture(names: Iterable<string>): ArchitectureKind {
	const keys = new Set(names);
	if (keys.has('blocks.0.0.weight') && keys.has('blocks.7.0.weight')) return 'smallalexnet';
	if (keys.has('conv1.weight') && keys.has('layer4.0.conv3.weight')) return 'resnet50';
	if (keys.has('conv1.weight') && keys.has('layer4.0.conv2.weight')) {
		throw new Error(
			'This is a ResNet with basic blocks (ResNet-18 or -34); NoiseLab imports ResNet-50 (bottleneck blocks) and SmallAlexNet.'
		);
	}
	const sample = [...keys].slice(0, 8).join(', ');
	throw new Error(
		`Cannot tell the architecture from the weights' names (${sample}${keys.size > 8 ? ', …' : ''}). NoiseLab imports the paper's SmallAlexNet (blocks.N.M.*) and torchvision's ResNet-50 (conv1, layer1…layer4); pass --arch to check against one.`
	);
}

function shapeOf(tensors: StateDict, name: string, what: string): number[] {
	const tensor = tensors.get(name);
	if (!tensor) throw new WeightsMismatchError(`The weights have no '${name}' (${what}).`);
	return tensor.shape;
}

/** The SmallAlexNet whose widths the tensors have. */
function inferSmallAlexNet(
	tensors: StateDict,
	inputSize: number | undefined
): SmallAlexNetArchitecture {
	const channels = [0, 1, 2, 3, 4].map(
		(i) => shapeOf(tensors, `blocks.${i}.0.weight`, `conv${i + 1}`)[0] ?? 0
	);
	const fc6 = shapeOf(tensors, 'blocks.5.1.weight', 'fc6');
	const fcWidth = fc6[0] ?? 0;
	const embeddingDim = shapeOf(tensors, 'blocks.7.0.weight', 'fc8')[0] ?? 0;
	const side = Math.round(Math.sqrt((fc6[1] ?? 0) / (channels[4] as number)));
	if (side * side * (channels[4] as number) !== fc6[1]) {
		throw new WeightsMismatchError(
			`fc6 reads ${fc6[1]} inputs, which is not conv5's ${channels[4]} channels times a square map.`
		);
	}
	const base = {
		kind: 'smallalexnet' as const,
		channels: channels as [number, number, number, number, number],
		fcWidth,
		embeddingDim
	};
	const fits = (size: number) => {
		try {
			return featureMapSizes({ ...base, inputSize: size })[4] === side;
		} catch {
			return false;
		}
	};
	if (inputSize !== undefined) {
		if (!fits(inputSize)) {
			throw new WeightsMismatchError(
				`fc6 expects a ${side}×${side} conv5 map, which a ${inputSize} px input does not give.`
			);
		}
		return { ...base, inputSize };
	}
	const preset = Object.values(modelPresets).find((spec) => fits(spec.inputSize));
	let size = preset?.inputSize ?? 15;
	while (!fits(size) && size < 4096) size++;
	return { ...base, inputSize: size };
}

function inferResNet(tensors: StateDict, inputSize: number | undefined): EncoderArchitecture {
	const stemWidth = shapeOf(tensors, 'conv1.weight', 'the stem conv')[0] ?? 0;
	const widths = [1, 2, 3, 4].map(
		(stage) => shapeOf(tensors, `layer${stage}.0.conv1.weight`, `stage ${stage}`)[0] ?? 0
	);
	return {
		kind: 'resnet50',
		inputSize: inputSize ?? 224,
		stemWidth,
		widths: widths as [number, number, number, number]
	};
}

/**
 * Compares the file's tensors with what the architecture needs; throws a {@link WeightsMismatchError}
 * listing every missing, unexpected and wrongly shaped tensor. `ignorable` names are dropped
 * silently (BN's step counters) or with a note (a classification head).
 */
export function matchStateDict(
	expected: readonly ExpectedTensor[],
	tensors: StateDict,
	notes: string[],
	headPrefix: string | null
): void {
	const missing: string[] = [];
	const wrongShape: string[] = [];
	for (const { name, shape } of expected) {
		const tensor = tensors.get(name);
		if (!tensor) missing.push(name);
		else if (tensor.shape.join(',') !== shape.join(',')) {
			wrongShape.push(
				`${name}: [${tensor.shape.join(', ')}] in the file, [${shape.join(', ')}] expected`
			);
		}
	}
	const known = new Set(expected.map(({ name }) => name));
	const head: string[] = [];
	const unexpected: string[] = [];
	for (const name of tensors.keys()) {
		if (known.has(name) || name.endsWith('num_batches_tracked')) continue;
		if (headPrefix !== null && name.startsWith(headPrefix)) head.push(name);
		else unexpected.push(name);
	}
	if (missing.length + wrongShape.length + unexpected.length > 0) {
		const list = (title: string, items: string[]) =>
			items.length === 0
				? []
				: [
						`${title} (${items.length}): ${items.slice(0, 12).join('; ')}${items.length > 12 ? '; …' : ''}`
					];
		throw new WeightsMismatchError(
			[
				'The weights do not fit the architecture; nothing was imported.',
				...list('missing', missing),
				...list('unexpected', unexpected),
				...list('wrong shape', wrongShape)
			].join('\n')
		);
	}
	if (head.length > 0)
		notes.push(`Ignored the classification head (${head.join(', ')}): an encoder ends at avgpool.`);
}

/** Reads, checks and converts an encoder checkpoint (see the file comment). */
export function importEncoderWeights(
	bytes: Uint8Array,
	options: ImportOptions = {}
): ImportedWeights {
	const { format, tensors, notes } = readStateDict(bytes);
	const kind = options.architecture ?? detectArchitecture(tensors.keys());
	if (kind === 'smallalexnet') {
		const architecture = inferSmallAlexNet(tensors, options.inputSize);
		matchStateDict(smallAlexNetExpectedTensors(specOf(architecture)), tensors, notes, null);
		return {
			format,
			architecture,
			normalisation: stl10Normalisation,
			tensors: smallAlexNetFromTorch(specOf(architecture), tensors),
			notes
		};
	}
	const architecture = inferResNet(tensors, options.inputSize);
	if (architecture.kind !== 'resnet50') throw new Error('unreachable');
	const expected = resNetExpectedTensors(architecture);
	matchStateDict(expected, tensors, notes, 'fc.');
	return {
		format,
		architecture,
		normalisation: imagenetNormalisation,
		tensors: Object.fromEntries(
			expected.map(({ name }) => [name, tensors.get(name) as HostTensor])
		),
		notes
	};
}
