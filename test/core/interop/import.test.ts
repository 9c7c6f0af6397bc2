import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stl10Normalisation } from '../../../src/core/encoders/architecture';
import { buildEncoder } from '../../../src/core/encoders/build';
import { withInputNormalisation } from '../../../src/core/encoders/encoder';
import { importEncoderWeights, readStateDict } from '../../../src/core/interop/import-encoder';
import { unpickle, UnsafePickleError } from '../../../src/core/interop/pickle';
import { readSafetensors, writeSafetensors } from '../../../src/core/interop/safetensors';
import { smallAlexNetToTorch, specOf } from '../../../src/core/interop/smallalexnet-torch';
import { readTorchCheckpoint } from '../../../src/core/interop/torch-checkpoint';
import { readZip } from '../../../src/core/interop/zip';
import { buildZip, pickleBytes } from './zip-builder';

const fixtures = path.join(import.meta.dirname, '../../fixtures/torch');
const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(fixtures, name)));
const expected = JSON.parse(fs.readFileSync(path.join(fixtures, 'expected.json'), 'utf8'));

/** The fixture inputs (see scripts/make-torch-fixtures.py), NHWC. */
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

function expectClose(actual: Float32Array | number[], wanted: number[], tolerance = 1e-4): void {
	expect(actual.length).toBe(wanted.length);
	let worst = 0;
	for (let i = 0; i < wanted.length; i++)
		worst = Math.max(worst, Math.abs((actual[i] as number) - (wanted[i] as number)));
	expect(worst).toBeLessThan(tolerance);
}

beforeAll(async () => {
	expect(await tf.setBackend('cpu')).toBe(true);
});

describe('PyTorch checkpoints', () => {
	it('reads float16, bfloat16, float64, int64 and non-contiguous tensors', () => {
		const root = readTorchCheckpoint(read('dtypes.pth')) as Map<
			string,
			{ shape: number[]; data: Float32Array }
		>;
		for (const [name, { shape, values }] of Object.entries(
			expected.dtypes as Record<string, { shape: number[]; values: number[] }>
		)) {
			const tensor = root.get(name);
			expect(tensor?.shape, name).toEqual(shape);
			expectClose(tensor?.data ?? [], values, 1e-6);
		}
	});

	it('unwraps MoCo v2 (module.encoder_q., fc head, key encoder, queue) and detects ResNet-50', () => {
		const imported = importEncoderWeights(read('resnet50-w8.pth'));
		expect(imported.architecture).toEqual({
			kind: 'resnet50',
			inputSize: 224,
			stemWidth: 8,
			widths: [8, 16, 32, 64]
		});
		expect(imported.format).toBe('pytorch');
		expect(imported.notes.join(' ')).toMatch(
			/under 'state_dict'.*module\.encoder_q\..*classification head/s
		);
		expect(Object.keys(imported.tensors).some((name) => name.startsWith('fc.'))).toBe(false);
	});

	it('unwraps state_dict and module. for SmallAlexNet and derives the input size from fc6', () => {
		const imported = importEncoderWeights(read('smallalexnet-micro.pth'));
		expect(imported.architecture).toEqual({
			kind: 'smallalexnet',
			inputSize: 32,
			channels: [8, 16, 16, 16, 8],
			fcWidth: 32,
			embeddingDim: 16
		});
		expect(imported.notes.join(' ')).toMatch(/'module\.' prefix/);
	});
});

describe.each(['pth', 'safetensors'])('imported encoders reproduce PyTorch (%s)', (format) => {
	it('SmallAlexNet: fc8, fc6 and conv3 within 1e-4', () => {
		const imported = importEncoderWeights(read(`smallalexnet-micro.${format}`));
		const encoder = buildEncoder(
			{ architecture: imported.architecture, normalisation: imported.normalisation, seed: 0 },
			imported.tensors
		);
		const x = fixtureInputs(3, 32);
		for (const layer of ['fc8', 'fc6', 'conv3'] as const) {
			const output = encoder.forward(x, { training: false, layer });
			expectClose(output.dataSync<'float32'>(), expected.smallalexnet[layer]);
			output.dispose();
		}
		x.dispose();
		encoder.dispose();
	});

	it('ResNet-50 (width 1/8, 224 px): avgpool and layer3 within 1e-4', () => {
		const imported = importEncoderWeights(read(`resnet50-w8.${format}`));
		// The fixture inputs are already normalised: build without the ImageNet adapter.
		const encoder = buildEncoder(
			{ architecture: imported.architecture, normalisation: stl10Normalisation, seed: 0 },
			imported.tensors
		);
		const x = fixtureInputs(2, 224);
		for (const layer of ['avgpool', 'layer3'] as const) {
			const output = encoder.forward(x, { training: false, layer });
			expectClose(output.dataSync<'float32'>(), expected.resnet50[layer]);
			output.dispose();
		}
		// Grad-CAM's split at layer4 gives the same output.
		const map = encoder.convActivation(x, 'layer4', { training: false });
		expect(map.shape).toEqual([2, 7, 7, 256]);
		const rest = encoder.forwardFrom(map, 'layer4', { training: false });
		expectClose(rest.dataSync<'float32'>(), expected.resnet50.avgpool);
		tf.dispose([x, map, rest]);
		encoder.dispose();
	}, 60_000);
});

describe('input normalisation', () => {
	it('an ImageNet encoder fed STL-10-normalised pixels equals the encoder fed ImageNet-normalised pixels', () => {
		const imported = importEncoderWeights(read('resnet50-w8.safetensors'));
		const architecture = { ...imported.architecture, inputSize: 64 };
		const raw = buildEncoder(
			{ architecture, normalisation: stl10Normalisation, seed: 0 },
			imported.tensors
		);
		const adapted = withInputNormalisation(raw, imported.normalisation);
		const pixels = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3);
		const norm = (stats: { mean: number[]; std: number[] }) =>
			tf.div(tf.sub(pixels, stats.mean), stats.std) as tf.Tensor4D;
		const viaAdapter = adapted.forward(norm(stl10Normalisation), { training: false });
		const direct = raw.forward(norm(imported.normalisation), { training: false });
		expectClose(viaAdapter.dataSync<'float32'>(), Array.from(direct.dataSync<'float32'>()), 1e-4);
		adapted.dispose();
	});
});

describe('mismatches list what differs and import nothing', () => {
	it('names missing, unexpected and wrongly shaped tensors', () => {
		const { tensors } = readSafetensors(read('smallalexnet-micro.safetensors'));
		tensors.delete('blocks.2.1.running_var');
		tensors.set('blocks.9.0.weight', { shape: [1], data: new Float32Array(1) });
		const fc7 = tensors.get('blocks.6.0.weight');
		tensors.set('blocks.6.0.weight', {
			shape: [32, 31],
			data: fc7?.data.slice(0, 32 * 31) ?? new Float32Array()
		});
		const bytes = writeSafetensors(tensors);
		expect(() => importEncoderWeights(bytes)).toThrow(
			/nothing was imported[\s\S]*missing \(1\): blocks\.2\.1\.running_var[\s\S]*unexpected \(1\): blocks\.9\.0\.weight[\s\S]*wrong shape \(1\): blocks\.6\.0\.weight: \[32, 31\] in the file, \[32, 32\] expected/
		);
	});

	it('refuses a ResNet-50 checked as SmallAlexNet, naming the missing keys', () => {
		expect(() =>
			importEncoderWeights(read('resnet50-w8.safetensors'), { architecture: 'smallalexnet' })
		).toThrow(/no 'blocks\.0\.0\.weight'/);
	});

	it('explains a file it cannot place', () => {
		const bytes = writeSafetensors(
			new Map([['dense.kernel', { shape: [2], data: new Float32Array(2) }]])
		);
		expect(() => importEncoderWeights(bytes)).toThrow(
			/Cannot tell the architecture[\s\S]*dense\.kernel/
		);
		expect(() =>
			importEncoderWeights(new TextEncoder().encode('hello world, not weights'))
		).toThrow(/neither a PyTorch checkpoint/);
	});
});

describe('SmallAlexNet layouts', () => {
	it('NoiseLab → PyTorch → NoiseLab is the identity (fc6 flattening order included)', () => {
		const imported = importEncoderWeights(read('smallalexnet-micro.safetensors'));
		if (imported.architecture.kind !== 'smallalexnet') throw new Error('expected SmallAlexNet');
		const spec = specOf(imported.architecture);
		const torch = smallAlexNetToTorch(spec, imported.tensors);
		const original = readSafetensors(read('smallalexnet-micro.safetensors')).tensors;
		for (const [name, tensor] of torch) {
			expect(tensor.shape, name).toEqual(original.get(name)?.shape);
			expect(Array.from(tensor.data), name).toEqual(Array.from(original.get(name)?.data ?? []));
		}
	});
});

describe('hostile files are refused and nothing runs', () => {
	const inTempDir = (body: (dir: string) => void) => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noiselab-hostile-'));
		const cwd = process.cwd();
		process.chdir(dir);
		try {
			body(dir);
		} finally {
			process.chdir(cwd);
			const left = fs.readdirSync(dir);
			fs.rmSync(dir, { recursive: true, force: true });
			expect(left).toEqual([]);
		}
	};

	it('a checkpoint whose pickle calls os.system (made by torch.save)', () => {
		inTempDir(() => {
			expect(() => importEncoderWeights(read('hostile-os-system.pth'))).toThrow(UnsafePickleError);
			expect(() => readTorchCheckpoint(read('hostile-os-system.pth'))).toThrow(
				/global posix\.system.*nothing was run/
			);
		});
	});

	it('a global outside the allow-list, even one never called', () => {
		const pickle = pickleBytes('cbuiltins\neval\n', '.');
		expect(() => unpickle(pickle, { globals: new Map() })).toThrow(/builtins\.eval/);
		const zip = buildZip([
			{
				name: 'archive/data.pkl',
				data: pickleBytes('}(X', [4, 0, 0, 0], 'evilcsubprocess\nPopen\nu.')
			}
		]);
		expect(() => readTorchCheckpoint(zip)).toThrow(/subprocess\.Popen/);
	});

	it('REDUCE of an allowed name that may not be called, and BUILD on a plain value', () => {
		const reduceStorage = buildZip([
			{ name: 'a/data.pkl', data: pickleBytes('ctorch\nFloatStorage\n)R.') }
		]);
		expect(() => readTorchCheckpoint(reduceStorage)).toThrow(
			/call torch\.FloatStorage, which is not allowed/
		);
		const build = pickleBytes(']}b.');
		expect(() => unpickle(build, { globals: new Map() })).toThrow(/set the state of a value/);
	});

	it('a truncated zip', () => {
		const bytes = read('resnet50-w8.pth');
		for (const length of [bytes.length - 30, Math.floor(bytes.length / 2), 100]) {
			expect(() => readStateDict(bytes.subarray(0, length))).toThrow(/truncated|corrupt/);
		}
	});

	it('a storage shorter than its tensor', () => {
		const members = [...readZip(read('dtypes.pth')).values()];
		const damaged = members.map(({ name, data }) => ({
			name,
			data: name.endsWith('data/2') ? data.subarray(0, 40) : data
		}));
		expect(() => readTorchCheckpoint(buildZip(damaged))).toThrow(
			/storage 2 holds 40 bytes, fewer than/
		);
		// A tensor whose strides reach past a storage of the right length.
		const pickle = pickleBytes(
			'ctorch._utils\n_rebuild_tensor_v2\n(',
			'(X',
			[7, 0, 0, 0],
			'storagectorch\nFloatStorage\nX',
			[1, 0, 0, 0],
			'0X',
			[3, 0, 0, 0],
			'cpuK',
			[2],
			'tQ',
			'K',
			[0],
			'K',
			[3],
			[0x85],
			'K',
			[1],
			[0x85],
			[0x89],
			'N',
			'tR.'
		);
		const zip = buildZip([
			{ name: 'x/data.pkl', data: pickle },
			{ name: 'x/data/0', data: new Uint8Array(8) }
		]);
		expect(() => readTorchCheckpoint(zip)).toThrow(/reaches element 2 of a storage holding 2/);
	});

	it('a zip-slip member name', () => {
		inTempDir(() => {
			const zip = buildZip([
				{ name: 'archive/data.pkl', data: pickleBytes('}.') },
				{ name: 'archive/../../escape.txt', data: new TextEncoder().encode('x') }
			]);
			expect(() => readTorchCheckpoint(zip)).toThrow(
				/unsafe member name "archive\/\.\.\/\.\.\/escape\.txt"/
			);
			expect(() => readZip(buildZip([{ name: '/etc/passwd', data: new Uint8Array(1) }]))).toThrow(
				/unsafe/
			);
		});
	});
});
