import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { CamMethod } from '../../../core/explain/gradcam';
import { loadEncoder } from '../../../core/evaluation/features';
import { imageAt } from '../../../core/evaluation/dataset';
import type { SourceImage } from '../../../core/training/augment';
import { encoderLayers, type EncoderLayer } from '../../../core/training/model';
import { activateTrainingBackend } from '../../compute/training-backend';
import { openEvalDataset, datasetSeed } from '../../evaluation/evaluate-job';
import { drawGrid, explainMaps } from '../../explain/explain-image';
import { resolveDataDir } from '../../paths';
import { openStore } from '../../store/database';
import { readSettings } from '../../store/settings';
import { getRun, listCheckpoints } from '../../store/runs';
import { readCheckpoint } from '../../training/checkpoint-files';
import type { CliCommand } from '../command';

/** `noiselab explain`: Grad-CAM of two or more runs' encoders on one image, as a PNG grid. */
export const explainCommand: CliCommand = {
	name: 'explain',
	summary: 'Grad-CAM side by side: where two or more encoders look in one image (PNG grid).',
	usage:
		'--runs A,B[,…] (--image PATH | --dataset NAME --index I) [--method gradcam|gradcam++] [--layer conv5] --out grid.png',
	flagHelp: {
		runs: 'run ids, comma-separated; "random:ID" for the random-init encoder of run ID',
		image: 'an image file',
		dataset: 'or a dataset (as for eval) with --index: an image of its test split',
		index: 'the test image index (default 0)',
		method: 'gradcam (default) or gradcam++',
		layer: `the conv block to explain: ${encoderLayers.slice(0, 5).join(', ')} (default conv5)`,
		out: 'the PNG to write'
	},
	options: {
		runs: { type: 'string' },
		image: { type: 'string' },
		dataset: { type: 'string' },
		index: { type: 'string', default: '0' },
		method: { type: 'string', default: 'gradcam' },
		layer: { type: 'string', default: 'conv5' },
		out: { type: 'string' }
	},
	async run(args, env) {
		const { values } = args;
		const method = String(values.method) as CamMethod;
		const layer = String(values.layer) as EncoderLayer;
		const problems: string[] = [];
		if (!values.runs) problems.push('--runs is required (e.g. --runs 3,5).');
		if (!values.out) problems.push('--out is required.');
		if ((values.image === undefined) === (values.dataset === undefined))
			problems.push('Give --image PATH or --dataset NAME (with --index).');
		if (method !== 'gradcam' && method !== 'gradcam++')
			problems.push(`--method must be gradcam or gradcam++; got ${JSON.stringify(values.method)}.`);
		if (!encoderLayers.slice(0, 5).includes(layer))
			problems.push(
				`--layer must be a conv block (conv1…conv5); got ${JSON.stringify(values.layer)}.`
			);
		if (problems.length > 0) {
			env.stderr(problems.join('\n'));
			return 2;
		}
		const dataDir = resolveDataDir();
		const store = openStore(dataDir.path);
		try {
			const backend = await activateTrainingBackend(readSettings(store.db).backend);
			const encoders = [];
			for (const spec of String(values.runs).split(',')) {
				const random = spec.startsWith('random:');
				const id = Number(random ? spec.slice(7) : spec);
				const run = getRun(store.db, id);
				if (!run) throw new Error(`There is no run ${spec}. See \`noiselab runs list\`.`);
				const checkpoint = listCheckpoints(store.db, id).at(-1);
				if (!random && !checkpoint) throw new Error(`Run ${id} has no checkpoint yet.`);
				const tensors =
					random || !checkpoint ? null : readCheckpoint(checkpoint.path, checkpoint.sha256).tensors;
				encoders.push({
					label: random ? `${run.name} (random init)` : `${run.name} @ ${checkpoint?.step}`,
					encoder: loadEncoder(run.config.model, run.config.seed, tensors)
				});
			}
			let image: SourceImage;
			if (values.image !== undefined) {
				const { data, info } = await sharp(path.resolve(String(values.image)))
					.removeAlpha()
					.toColourspace('srgb')
					.raw()
					.toBuffer({ resolveWithObject: true });
				image = { width: info.width, height: info.height, data: new Uint8Array(data) };
			} else {
				const dataset = await openEvalDataset(String(values.dataset), {
					seed: datasetSeed,
					cacheDir: path.join(dataDir.path, 'cache', 'datasets')
				});
				const index = Number(values.index);
				if (!Number.isInteger(index) || index < 0 || index >= dataset.test.images.count)
					throw new Error(
						`--index must be 0…${dataset.test.images.count - 1}; got ${values.index}.`
					);
				image = imageAt(dataset.test.images, index);
				env.stderr(
					`Image ${index} of ${dataset.name}'s test split, class "${dataset.classes[dataset.test.labels[index] ?? 0]}".`
				);
			}
			const result = await explainMaps(image, encoders, { method, layer });
			for (const { encoder } of encoders) encoder.dispose();
			const target = path.resolve(String(values.out));
			fs.writeFileSync(target, await drawGrid(result));
			for (const encoder of result.encoders) {
				env.stderr(
					`  ${encoder.label}: deletion AUC ${encoder.deletion.toFixed(3)} (lower is better), insertion AUC ${encoder.insertion.toFixed(3)}`
				);
			}
			if (result.agreement !== null)
				env.stderr(
					`  agreement of the first two maps (Spearman): ${Number.isNaN(result.agreement) ? 'undefined, a map is flat (no positive evidence anywhere)' : result.agreement.toFixed(3)}`
				);
			env.stderr(`Wrote ${target} (${method}, ${layer}, on ${backend.id}).`);
			return 0;
		} catch (error) {
			env.stderr((error as Error).message);
			return 1;
		} finally {
			store.close();
		}
	}
};
