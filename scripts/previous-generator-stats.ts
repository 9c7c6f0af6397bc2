/**
 * Writes test/core/generators/previous-stats.json: the statistics the paper cares about
 * (spectrum slope, band-pass kurtosis, channel means and stds) of a few images of each preset
 * whose generator changed its rounding, as the previous version of the generators drew them.
 * The property test compares the current version's statistics of the same images with these.
 *
 * Usage: node scripts/run-ts.mjs scripts/previous-generator-stats.ts [--baseline <commit>]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
	loadPreviousRegistry,
	previousVersionCommit,
	projectRoot
} from '../bench/previous-version';
import { imageStatistics, previousStatsCases } from '../test/core/generators/previous-stats';

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: { baseline: { type: 'string', default: previousVersionCommit } }
	});
	const registry = loadPreviousRegistry(values.baseline);
	const cases = [];
	for (const { preset, size, seed, index } of previousStatsCases) {
		const resolved = registry.resolveConfig({ preset, size });
		if (!resolved.ok) throw new Error(resolved.message);
		const { generator, params } = resolved.value;
		const image = await generator.generate(params, seed, index, size);
		cases.push({
			preset,
			size,
			seed,
			index,
			version: generator.version,
			...imageStatistics(image)
		});
	}
	const file = path.join(projectRoot(), 'test/core/generators/previous-stats.json');
	fs.writeFileSync(file, `${JSON.stringify({ baseline: values.baseline, cases }, null, '\t')}\n`);
	console.log(`Wrote ${cases.length} cases from commit ${values.baseline} to ${file}.`);
}

main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
