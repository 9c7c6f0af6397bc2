/**
 * `noiselab import FILE` (a PyTorch or safetensors checkpoint becomes an external encoder) and
 * `noiselab export RUN --out DIR` (a run's encoder for PyTorch), through the same API as the app.
 */
import path from 'node:path';
import { architectureKinds, describeArchitecture } from '../../../core/encoders/architecture';
import type { ExportEncoderResult } from '../../../core/api/interop';
import type { RunRecord } from '../../../core/api/training';
import { cliAppContext, type CliCommand } from '../command';

/** `noiselab import FILE [--arch smallalexnet|resnet50] [--name NAME] …` */
export const importCommand: CliCommand = {
	name: 'import',
	summary:
		'Import an encoder from a PyTorch checkpoint (.pt/.pth/.pth.tar) or safetensors file; prints its run id.',
	usage:
		'FILE [--arch smallalexnet|resnet50] [--name NAME] [--input-size PX] [--source TEXT] [--licence TEXT] [--json]',
	flagHelp: {
		arch: `the architecture (${architectureKinds.join(' or ')}); detected from the weights' names when absent`,
		name: 'the name in the runs list (default: the file name)',
		'input-size': 'input side in pixels (ResNet-50 default 224; SmallAlexNet derived from fc6)',
		source: 'where the weights come from (recorded with the encoder)',
		licence: 'the licence of the weights (recorded with the encoder)',
		json: 'print the new run record as JSON'
	},
	options: {
		arch: { type: 'string' },
		name: { type: 'string' },
		'input-size': { type: 'string' },
		source: { type: 'string' },
		licence: { type: 'string' },
		json: { type: 'boolean', default: false }
	},
	positionals: true,
	async run(args, env) {
		const [file, ...rest] = args.positionals;
		if (file === undefined || rest.length > 0) {
			env.stderr('Usage: noiselab import FILE [--arch smallalexnet|resnet50] [--name NAME]');
			return 2;
		}
		const { values } = args;
		const arch = values.arch as string | undefined;
		if (arch !== undefined && !(architectureKinds as readonly string[]).includes(arch)) {
			env.stderr(`--arch must be ${architectureKinds.join(' or ')}; got ${JSON.stringify(arch)}.`);
			return 2;
		}
		const inputSize = values['input-size'] === undefined ? undefined : Number(values['input-size']);
		if (inputSize !== undefined && !Number.isInteger(inputSize)) {
			env.stderr(
				`--input-size must be a whole number of pixels; got ${JSON.stringify(values['input-size'])}.`
			);
			return 2;
		}
		const context = cliAppContext(env);
		try {
			const started = Date.now();
			const result = await context.dispatch('runs.importEncoder', {
				path: path.resolve(file),
				...(arch === undefined ? {} : { architecture: arch }),
				...(inputSize === undefined ? {} : { inputSize }),
				...(values.name === undefined ? {} : { name: values.name }),
				...(values.source === undefined ? {} : { sourceName: values.source }),
				...(values.licence === undefined ? {} : { licence: values.licence })
			});
			if (!result.ok) {
				env.stderr(`Cannot import: ${result.error.message}`);
				return result.error.code === 'NOT_FOUND' ? 1 : 2;
			}
			const run = result.value as RunRecord;
			if (values.json) {
				env.stdout(JSON.stringify(run, null, 2));
				return 0;
			}
			const imported = run.imported;
			env.stdout(String(run.id));
			if (imported) {
				env.stderr(
					[
						`Imported "${run.name}" as run ${run.id}: ${describeArchitecture(imported.architecture)}, ${(run.parameterCount ?? 0).toLocaleString('en-US')} weights, from ${imported.format} in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
						...imported.notes.map((note) => `  ${note}`),
						`  SHA-256 ${imported.sha256}`,
						`Evaluate it with: noiselab eval --run ${run.id} --dataset fashion-mnist-mini`
					].join('\n')
				);
			}
			return 0;
		} finally {
			context.close();
		}
	}
};

/** `noiselab export RUN --out DIR` */
export const exportCommand: CliCommand = {
	name: 'export',
	summary:
		'Export a run’s encoder for PyTorch: encoder.safetensors, noiselab_encoder.py, config.json.',
	usage: 'RUN --out DIR',
	flagHelp: { out: 'a new or empty folder' },
	options: { out: { type: 'string' } },
	positionals: true,
	async run(args, env) {
		const [id, ...rest] = args.positionals;
		const out = args.values.out as string | undefined;
		if (id === undefined || rest.length > 0 || out === undefined || !/^\d+$/.test(id)) {
			env.stderr('Usage: noiselab export RUN --out DIR');
			return 2;
		}
		const context = cliAppContext(env);
		try {
			const result = await context.dispatch('runs.exportEncoder', {
				id: Number(id),
				folder: path.resolve(out)
			});
			if (!result.ok) {
				env.stderr(`Cannot export: ${result.error.message}`);
				return result.error.code === 'NOT_FOUND' ? 1 : 2;
			}
			const written = result.value as ExportEncoderResult;
			env.stdout(
				[
					`Wrote ${written.files.join(', ')} into ${written.folder} (${(written.bytes / 2 ** 20).toFixed(1)} MiB).`,
					`In Python: import sys; sys.path.insert(0, '${written.folder}'); import noiselab_encoder; model = noiselab_encoder.load('${written.folder}')`
				].join('\n')
			);
			return 0;
		} finally {
			context.close();
		}
	}
};
