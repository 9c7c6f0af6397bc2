/** `noiselab dataset verify DIR` and `noiselab dataset merge DIR`: datasets generated in parts. */
import path from 'node:path';
import { AppFailure } from '../../../core/api/errors';
import { mergeDatasetParts, verifyDataset } from '../../generation/dataset-parts';
import type { CliCommand } from '../command';

/** `noiselab dataset verify|merge DIR` */
export const datasetCommand: CliCommand = {
	name: 'dataset',
	summary:
		'Verify an exported dataset (images, shards, parts) or merge the manifests of its parts.',
	usage: 'verify DIR [--json]\n       noiselab dataset merge DIR',
	flagHelp: { json: 'print the report as JSON' },
	options: { json: { type: 'boolean', default: false } },
	positionals: true,
	async run(args, env) {
		const [action, folder, ...rest] = args.positionals;
		if ((action !== 'verify' && action !== 'merge') || folder === undefined || rest.length > 0) {
			env.stderr('Usage: noiselab dataset verify DIR [--json] | noiselab dataset merge DIR');
			return 2;
		}
		const dir = path.resolve(folder);
		try {
			if (action === 'merge') {
				const merged = mergeDatasetParts(dir);
				env.stdout(
					`Merged ${dir}: manifest.json for images ${merged.startIndex}–${merged.startIndex + merged.count - 1} (${merged.written} images${merged.shards ? `, ${Object.keys(merged.shardHashes).length} shards` : ''}). Check it with: noiselab dataset verify ${dir}`
				);
				return 0;
			}
			const report = verifyDataset(dir);
			if (args.values.json) env.stdout(JSON.stringify(report, null, '\t'));
			else {
				env.stdout(
					[
						`${dir}: ${report.manifests.join(', ')}`,
						report.parts
							? `  parts   ${report.parts.present.length} of ${report.parts.expected} (${report.parts.present.join(', ')})`
							: null,
						report.images === null
							? '  images  not here (shards only)'
							: `  images  ${report.images} of ${report.expected} complete`,
						report.shards
							? `  shards  ${report.shards.checked - report.shards.problems.length} of ${report.shards.checked} match`
							: null,
						report.problems.length === 0
							? 'OK: the folder matches its manifest.'
							: `Problems:\n  ${report.problems.join('\n  ')}`
					]
						.filter((line) => line !== null)
						.join('\n')
				);
			}
			return report.problems.length === 0 ? 0 : 1;
		} catch (error) {
			env.stderr((error as Error).message);
			return error instanceof AppFailure && error.code === 'NOT_FOUND' ? 1 : 2;
		}
	}
};
