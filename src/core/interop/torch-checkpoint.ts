/**
 * PyTorch checkpoints (`.pt`, `.pth`, `.pth.tar`) read without Python: the zip layout that
 * `torch.save` writes since PyTorch 1.6 (`<archive>/data.pkl`, `<archive>/data/<key>` raw
 * storages, `<archive>/byteorder`), unpickled by the allow-listed reader of `pickle.ts`. The
 * only callables a file may name are the tensor and parameter rebuilds, `OrderedDict` and the
 * storage types, each mapped to a function of ours; a checkpoint is never executed.
 */
import { PickleGlobal, unpickle, type AllowedGlobal, type PickleValue } from './pickle';
import { dtypeBytes, gatherStrided, type Dtype, type HostTensor } from './tensors';
import { looksLikeZip, readZip } from './zip';

/** A tensor as unpickled: shape and values (float32), plus its stored element type. */
export class TorchTensor implements HostTensor {
	constructor(
		readonly shape: number[],
		readonly data: Float32Array,
		readonly dtype: Dtype
	) {}
}

/** A storage named by a persistent id; its bytes live in the archive. */
class TorchStorage {
	constructor(
		readonly dtype: Dtype,
		readonly bytes: Uint8Array,
		readonly elements: number,
		readonly key: string
	) {}
}

/** PyTorch's typed storage classes and the element type each holds. */
const storageTypes: Record<string, Dtype> = {
	FloatStorage: 'float32',
	DoubleStorage: 'float64',
	HalfStorage: 'float16',
	BFloat16Storage: 'bfloat16',
	LongStorage: 'int64',
	IntStorage: 'int32',
	ShortStorage: 'int16',
	CharStorage: 'int8',
	ByteStorage: 'uint8',
	BoolStorage: 'bool'
};

function asInts(value: PickleValue, what: string): number[] {
	if (!Array.isArray(value) || value.some((item) => typeof item !== 'number')) {
		throw new Error(`A tensor's ${what} is not a tuple of integers.`);
	}
	return value as number[];
}

function rebuildTensor(args: PickleValue[]): TorchTensor {
	const [storage, offset, size, stride] = args;
	if (!(storage instanceof TorchStorage)) {
		throw new Error('A tensor in the file is not backed by one of its storages.');
	}
	if (typeof offset !== 'number') throw new Error("A tensor's storage offset is not an integer.");
	const shape = asInts(size ?? null, 'size');
	const data = gatherStrided(
		storage.bytes,
		storage.dtype,
		storage.elements,
		offset,
		shape,
		asInts(stride ?? null, 'stride'),
		`Storage ${storage.key}`
	);
	return new TorchTensor(shape, data, storage.dtype);
}

function rebuildParameter(args: PickleValue[]): TorchTensor {
	const [data] = args;
	if (!(data instanceof TorchTensor)) throw new Error('A parameter in the file holds no tensor.');
	return data;
}

/** The names a checkpoint of weights needs, each a function of ours; everything else is refused. */
function torchGlobals(): Map<string, AllowedGlobal> {
	const globals = new Map<string, AllowedGlobal>([
		[
			'collections.OrderedDict',
			{
				call: (args) => {
					if (args.length > 0) throw new Error('OrderedDict with arguments is not supported.');
					return new Map();
				},
				// The state of a state dict is its `_metadata` (module versions); not needed.
				build: (target) => target
			}
		],
		['torch._utils._rebuild_tensor', { call: rebuildTensor }],
		['torch._utils._rebuild_tensor_v2', { call: rebuildTensor }],
		['torch._utils._rebuild_parameter', { call: rebuildParameter }],
		['torch._utils._rebuild_parameter_with_state', { call: rebuildParameter }],
		[
			// Python 2-protocol pickles encode `bytes` as _codecs.encode(text, 'latin1').
			'_codecs.encode',
			{
				call: ([text, encoding]) => {
					if (typeof text !== 'string' || encoding !== 'latin1') {
						throw new Error('Only _codecs.encode(text, "latin1") is allowed.');
					}
					return Uint8Array.from(text, (char) => char.charCodeAt(0));
				}
			}
		]
	]);
	// Storage types are only named (in persistent ids), never called.
	for (const name of Object.keys(storageTypes)) globals.set(`torch.${name}`, {});
	return globals;
}

/** Reads a PyTorch checkpoint and returns the unpickled object (tensors as {@link TorchTensor}). */
export function readTorchCheckpoint(bytes: Uint8Array): PickleValue {
	if (!looksLikeZip(bytes)) {
		const legacy = bytes.length > 2 && bytes[0] === 0x80;
		throw new Error(
			legacy
				? 'This is a PyTorch checkpoint in the legacy format (saved by PyTorch before 1.6, or with _use_new_zipfile_serialization=False). Re-save it in Python with torch.save(torch.load(f), "new.pth") and import that, or convert it to safetensors.'
				: 'This is not a PyTorch checkpoint: a .pt/.pth/.pth.tar file written by torch.save is a zip archive.'
		);
	}
	const members = readZip(bytes);
	const pickles = [...members.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
	if (pickles.length !== 1) {
		throw new Error(
			`A PyTorch checkpoint holds exactly one <archive>/data.pkl; this zip has ${pickles.length === 0 ? 'none' : pickles.join(', ')}.`
		);
	}
	const root = (pickles[0] as string).slice(0, -'data.pkl'.length);
	const byteorder = members.get(`${root}byteorder`);
	if (byteorder && new TextDecoder().decode(byteorder.data).trim() !== 'little') {
		throw new Error('The checkpoint was saved on a big-endian machine; that is not supported.');
	}
	const storages = new Map<string, TorchStorage>();
	return unpickle((members.get(pickles[0] as string) as { data: Uint8Array }).data, {
		globals: torchGlobals(),
		persistentLoad: (id) => {
			if (!Array.isArray(id) || id[0] !== 'storage' || id.length < 5) {
				throw new Error('The checkpoint refers to external data that is not a tensor storage.');
			}
			const [, type, key, , numel] = id;
			if (!(type instanceof PickleGlobal) || typeof key !== 'string' || typeof numel !== 'number') {
				throw new Error('The checkpoint has a malformed storage reference.');
			}
			const dtype = storageTypes[type.name];
			if (!dtype) throw new Error(`Storage type ${type.qualifiedName} is not supported.`);
			const cached = storages.get(key);
			if (cached) return cached;
			const member = members.get(`${root}data/${key}`);
			if (!member) {
				throw new Error(
					`The checkpoint's storage ${key} is missing from the archive; the file is incomplete.`
				);
			}
			if (member.data.length < numel * dtypeBytes[dtype]) {
				throw new Error(
					`The checkpoint's storage ${key} holds ${member.data.length} bytes, fewer than its ${numel} ${dtype} elements need (${numel * dtypeBytes[dtype]}); the file is truncated or corrupt.`
				);
			}
			const storage = new TorchStorage(dtype, member.data, numel, key);
			storages.set(key, storage);
			return storage;
		}
	});
}
