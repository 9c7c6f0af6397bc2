import { afterAll, describe, expect, it } from 'vitest';
import { studyDetailSchema } from '../../src/core/api/studies';
import { noiselabCli } from '../support/cli';
import { parseCsv } from '../support/csv';
import { temporaryFolder } from '../support/paths';

/**
 * `noiselab study` as a user types it: a study of two template sources with a budget cut down
 * to a few steps, worked through, shown, exported and measured for realism.
 */
describe('noiselab study', () => {
	const home = temporaryFolder();
	afterAll(() => home.remove());
	const cli = noiselabCli(home.path, 400_000);

	it(
		'refuses a source that cannot generate yet before measuring, then creates, runs, shows, exports and measures a study',
		{ timeout: 600_000 },
		() => {
			// No run has trained on dead leaves here, so feature visualisations of one cannot be made;
			// this is known before the minute of measuring starts.
			const refused = cli(
				'study',
				'create',
				'--template',
				'paper-small',
				'--only',
				'dead_leaves-squares,feature_vis-dead_leaves'
			);
			expect(refused.status).toBe(2);
			expect(refused.stderr).toContain('feature_vis-dead_leaves cannot be used yet');
			expect(refused.stderr).toContain('dead_leaves-mixed');
			expect(refused.stderr).not.toContain('Measuring');

			const created = cli(
				'study',
				'create',
				'--template',
				'paper-small',
				'--only',
				'control-mean_colour,dead_leaves-squares',
				'--steps',
				'4',
				'--batch',
				'8',
				'--images',
				'24',
				'--epochs',
				'1',
				'--views',
				'1',
				'--max-train',
				'200'
			);
			expect(created.stderr).toContain(
				'Study 1 "Paper: noise models (small scale) · custom": 2 sources × 1 repeat, budget custom'
			);
			expect(created.stderr).toMatch(/Estimated total: .+ 4 items queued/);
			expect(created.status).toBe(0);
			expect(created.stdout.trim()).toBe('1');

			const ran = cli('study', 'run', '1');
			expect(ran.stderr).toContain('Worked');
			expect(ran.stdout).toContain('completed: trainings 2/2, evaluations 3/3');
			expect(ran.status).toBe(0);

			const shown = studyDetailSchema.parse(JSON.parse(cli('study', 'show', '1', '--json').stdout));
			const key = shown.results.targets[0]?.key ?? '';
			expect(shown.results.rows.map((row) => [row.key, row.cells[key]?.n])).toEqual([
				['random-init', 1],
				['control-mean_colour', 1],
				['dead_leaves-squares', 1]
			]);
			expect(shown.spec.evaluation.maxTrain).toBe(200);

			const csv = parseCsv(cli('study', 'export', '1', '--format', 'csv').stdout);
			expect(csv).toHaveLength(4);
			expect(csv.find((cells) => cells[0] === 'dead_leaves-squares')?.[4]).toBe('35.2');
			const latex = cli('study', 'export', '1', '--format', 'latex').stdout;
			expect(latex).toContain('\\toprule');
			expect(latex).toContain('dead\\_leaves-squares & 35.2 & ');

			const realism = cli('study', 'realism', '1', '--samples', '24');
			expect(realism.status).toBe(0);
			expect(realism.stdout).toContain('recall (diversity)');
			expect(realism.stdout).toContain('k = 3, 24 images per side');
			const measured = studyDetailSchema.parse(
				JSON.parse(cli('study', 'show', '1', '--json').stdout)
			);
			const recall = measured.results.extraColumns.find(
				(column) => column.key === 'realism-recall'
			);
			for (const source of ['control-mean_colour', 'dead_leaves-squares']) {
				expect(recall?.values[source]).toBeGreaterThanOrEqual(0);
				expect(recall?.values[source]).toBeLessThanOrEqual(1);
			}
			const tooFew = cli('study', 'realism', '1', '--samples', '4');
			expect(tooFew.status).toBe(2);
			expect(tooFew.stderr).toContain('--samples');
		}
	);
});
