import fs from 'node:fs';
import path from 'node:path';
import { unwrap } from '../../../core/api/errors';
import {
	camLayers,
	camMethods,
	randomisationLimit,
	type CamMethod,
	type ExplainResult,
	type ExplainTarget
} from '../../../core/api/explain';
import { colormapNames, type ColormapName } from '../../../core/explain/colormap';
import { explainGridPng } from '../../explain/explain-image';
import { cliAppContext, type CliCommand } from '../command';
import { fileProblem } from '../flags';

/** Parses `--target`: predicted, true, embedding, class:N or class-mean:N. */
export function parseTarget(text: string): ExplainTarget | null {
	if (text === 'predicted' || text === 'true' || text === 'embedding') return { kind: text };
	const match = /^(class|class-mean):(\d+)$/.exec(text);
	if (!match) return null;
	return { kind: match[1] as 'class' | 'class-mean', classIndex: Number(match[2]) };
}

/** `noiselab explain`: Grad-CAM of two or more runs' encoders on one image, as a PNG grid. */
export const explainCommand: CliCommand = {
	name: 'explain',
	summary: 'Grad-CAM side by side: where two or more encoders look in one image (PNG grid).',
	usage:
		'--runs A,B[,…] (--image PATH | --dataset NAME --index I) [--method gradcam|gradcam++|xgradcam|hirescam|layercam] [--layer conv5] [--target predicted] --out grid.png',
	flagHelp: {
		runs: 'run ids, comma-separated (up to 4); "random:ID" for the random-init encoder of run ID',
		image: 'an image file of your own (PNG, JPEG, WebP)',
		dataset:
			'the dataset (as for eval): its test image --index, and its classes for probe targets (default fashion-mnist-mini)',
		index: 'the test image index (default 0)',
		method: `${camMethods.map((method) => method.id).join(', ')} (as pytorch-grad-cam's classes; default gradcam)`,
		layer: `the layer to explain: ${camLayers.join(', ')} (default conv5; a ResNet-50 uses the same depth, layer4)`,
		target:
			'predicted (default: the probe’s class, else the own embedding), true, embedding, class:N or class-mean:N',
		colormap: `${colormapNames.join(', ')} (default jet)`,
		opacity: 'heatmap opacity over the image, 0–1 (default 0.5)',
		out: 'the PNG to write'
	},
	options: {
		runs: { type: 'string' },
		image: { type: 'string' },
		dataset: { type: 'string', default: 'fashion-mnist-mini' },
		index: { type: 'string', default: '0' },
		method: { type: 'string', default: 'gradcam' },
		layer: { type: 'string', default: 'conv5' },
		target: { type: 'string', default: 'predicted' },
		colormap: { type: 'string', default: 'jet' },
		opacity: { type: 'string', default: '0.5' },
		out: { type: 'string' }
	},
	async run(args, env) {
		const { values } = args;
		const problems: string[] = [];
		const target = parseTarget(String(values.target));
		const opacity = Number(values.opacity);
		const colormap = String(values.colormap) as ColormapName;
		const index = Number(values.index);
		if (!values.runs) problems.push('--runs is required (e.g. --runs 3,5 or --runs 3,random:3).');
		if (!values.out) problems.push('--out is required.');
		if (values.image !== undefined && args.values.index !== '0')
			problems.push('Give --image PATH or --index I (an image of --dataset), not both.');
		if (!target)
			problems.push(
				`--target must be predicted, true, embedding, class:N or class-mean:N; got ${JSON.stringify(values.target)}.`
			);
		if (!camMethods.some((method) => method.id === values.method))
			problems.push(
				`--method must be one of ${camMethods.map((method) => method.id).join(', ')}; got ${JSON.stringify(values.method)}.`
			);
		if (!camLayers.includes(values.layer as 'conv5'))
			problems.push(
				`--layer must be a conv block (${camLayers.join(', ')}); got ${JSON.stringify(values.layer)}.`
			);
		if (!colormapNames.includes(colormap))
			problems.push(`--colormap must be one of ${colormapNames.join(', ')}; got ${colormap}.`);
		if (!(opacity >= 0 && opacity <= 1))
			problems.push(`--opacity must be 0–1; got ${values.opacity}.`);
		const imageProblem =
			values.image === undefined
				? null
				: fileProblem('image', path.resolve(String(values.image)), 'an image file');
		if (imageProblem) problems.push(imageProblem);
		if (!Number.isInteger(index) || index < 0)
			problems.push(`--index must be a whole number ≥ 0; got ${values.index}.`);
		const encoders = String(values.runs ?? '')
			.split(',')
			.filter((spec) => spec !== '')
			.map((spec) => {
				const randomInit = spec.startsWith('random:');
				const runId = Number(randomInit ? spec.slice('random:'.length) : spec);
				if (!Number.isInteger(runId)) problems.push(`--runs: "${spec}" is not a run id.`);
				return { runId, randomInit };
			});
		if (problems.length > 0) {
			env.stderr(problems.join('\n'));
			return 2;
		}
		// Explaining only reads runs and probes (caches are safe to share): it works beside the app.
		const context = cliAppContext(env, 'read-only');
		try {
			const upload =
				values.image === undefined
					? undefined
					: {
							name: path.basename(String(values.image)),
							bytes: new Uint8Array(fs.readFileSync(path.resolve(String(values.image))))
						};
			const result = unwrap(
				await context.dispatch('explain.compute', {
					encoders,
					dataset: String(values.dataset),
					index,
					...(upload ? { upload } : {}),
					method: values.method as CamMethod,
					layer: values.layer as 'conv5',
					target: target ?? { kind: 'predicted' }
				})
			) as ExplainResult;
			if (!upload) {
				env.stderr(
					`Image ${index} of ${String(values.dataset)}'s test split, class "${result.label ?? '?'}".`
				);
			}
			for (const encoder of result.encoders) env.stderr(describeEncoder(encoder, result.classes));
			if (result.agreement !== null || result.encoders.length >= 2)
				env.stderr(
					`  agreement of the first two maps (Spearman): ${result.agreement === null ? 'undefined, a map is flat (no positive evidence anywhere)' : result.agreement.toFixed(3)}`
				);
			const file = path.resolve(String(values.out));
			fs.writeFileSync(
				file,
				await explainGridPng(result, values.method as CamMethod, { colormap, opacity })
			);
			env.stderr(`Wrote ${file} (${String(values.method)}, ${String(values.layer)}).`);
			return 0;
		} catch (error) {
			env.stderr((error as Error).message);
			return 1;
		} finally {
			context.close();
		}
	}
};

function describeEncoder(
	encoder: ExplainResult['encoders'][number],
	classes: readonly string[]
): string {
	const lines = [`  ${encoder.label}: ${encoder.target.description}`];
	if (!encoder.probe) {
		lines.push('    (evaluate it on this dataset with the linear probe to explain classes)');
	}
	if (encoder.prediction) {
		const { classIndex, confidence } = encoder.prediction;
		lines.push(
			`    probe predicts "${classes[classIndex] ?? classIndex}" (${(confidence * 100).toFixed(1)}%)`
		);
	}
	lines.push(
		`    deletion AUC ${encoder.deletion.toFixed(3)} (lower is better), insertion AUC ${encoder.insertion.toFixed(3)}`
	);
	if (encoder.randomisation === null && !encoder.randomInit) {
		lines.push(
			'    randomisation check: not measurable (this map or its random-init map is flat: no rank order to compare)'
		);
	} else if (encoder.randomisation !== null) {
		lines.push(
			`    randomisation check: Spearman ${encoder.randomisation.toFixed(3)} with its random init (${encoder.randomisation < randomisationLimit ? 'passes: the map depends on the trained weights' : 'FAILS: the map looks like the untrained network’s'})`
		);
	}
	return lines.join('\n');
}
