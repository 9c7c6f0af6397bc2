import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { readPngText } from '../../src/core/explain/png-text';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluationRecordSchema } from '../../src/core/api/evaluation';
import { runDetailSchema, runRecordSchema } from '../../src/core/api/training';
import { repoRoot, temporaryFolder } from '../support/paths';

const bin = path.join(repoRoot, 'bin', 'noiselab.js');

describe('noiselab train and noiselab runs', () => {
	const home = temporaryFolder();
	afterAll(() => home.remove());

	const cli = (...args: string[]) =>
		spawnSync(process.execPath, [bin, ...args], {
			encoding: 'utf8',
			env: { ...process.env, NOISELAB_HOME: home.path },
			timeout: 120_000
		});
	const tinyRun = [
		'--preset',
		'dead_leaves-squares',
		'--size',
		'64',
		'--count',
		'64',
		'--model',
		'tiny',
		'--batch',
		'8',
		'--backend',
		'wasm'
	];

	it('refuses a run without a source or with a bad value, naming the problem', () => {
		const noSource = cli('train', '--steps', '5');
		expect(noSource.status).toBe(2);
		expect(noSource.stderr).toContain('Name one data source');
		const badModel = cli('train', ...tinyRun, '--steps', '5', '--model', 'huge');
		expect(badModel.status).toBe(2);
		expect(badModel.stderr).toMatch(/model/);
		const badResume = cli('train', '--resume', 'latest');
		expect(badResume.status).toBe(2);
		expect(badResume.stderr).toContain('--resume takes a run id');
		const badParam = cli('train', ...tinyRun, '--steps', '5', '--param', 'nonsense=1');
		expect(badParam.status).toBe(2);
		expect(badParam.stderr).toContain('nonsense');
		const badReplicas = cli('train', ...tinyRun, '--steps', '5', '--replicas', '0');
		expect(badReplicas.status).toBe(2);
		expect(badReplicas.stderr).toMatch(/^replicas: /m);
	});

	it('trains a run into the database, then lists and shows it', () => {
		const result = cli('train', ...tinyRun, '--steps', '6', '--name', 'from-cli', '--json');
		expect(result.stderr).toContain('completed at step 6/6');
		expect(result.status).toBe(0);
		const record = runRecordSchema.parse(JSON.parse(result.stdout));
		expect(record).toMatchObject({
			name: 'from-cli',
			status: 'completed',
			step: 6,
			backend: 'wasm'
		});

		const list = cli('runs', 'list');
		expect(list.status).toBe(0);
		expect(list.stdout).toMatch(/from-cli\s+completed\s+6\/6\s+tiny/);
		const listed = cli('runs', 'list', '--json');
		expect(JSON.parse(listed.stdout)).toHaveLength(1);

		const shown = cli('runs', 'show', String(record.id), '--json');
		const detail = runDetailSchema.parse(JSON.parse(shown.stdout));
		expect(detail.metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
		expect(detail.checkpoints.at(-1)?.step).toBe(6);
		expect(cli('runs', 'show', String(record.id)).stdout).toContain('tiny (1,803,768 parameters)');
		const missing = cli('runs', 'show', '999');
		expect(missing.status).toBe(1);
		expect(missing.stderr).toContain('There is no run 999');
	});

	/** Starts `noiselab train …`, waits for its first progress bar, then presses Ctrl-C. */
	async function interruptAfterProgress(args: string[]) {
		const child = spawn(process.execPath, [bin, 'train', ...args], {
			env: { ...process.env, NOISELAB_HOME: home.path }
		});
		let stderr = '';
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no progress: ${stderr}`)), 60_000);
			child.stderr.on('data', (chunk: Buffer) => {
				stderr += chunk.toString();
				// Non-interactive output prints a progress line once training runs.
				if (/█|░/.test(stderr)) {
					clearTimeout(timer);
					resolve();
				}
			});
		});
		child.kill('SIGINT');
		const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
		return { code, stderr };
	}
	const runNamed = (name: string) =>
		runRecordSchema
			.array()
			.parse(JSON.parse(cli('runs', 'list', '--json').stdout))
			.find((run) => run.name === name);

	it('pauses on Ctrl-C at a checkpoint and continues with --resume', async () => {
		const first = await interruptAfterProgress([
			...tinyRun,
			'--steps',
			'500',
			'--name',
			'stop-go',
			'--replicas',
			'2'
		]);
		expect(first.stderr).toContain('Pausing at a checkpoint');
		expect(first.stderr).toMatch(/paused at step \d+\/500.* on wasm, 2 replicas/);
		expect(first.code).toBe(130);
		const paused = runNamed('stop-go');
		expect(paused?.status).toBe('paused');
		expect(paused?.step).toBeGreaterThan(0);

		const second = await interruptAfterProgress(['--resume', String(paused?.id)]);
		expect(second.code).toBe(130);
		expect(second.stderr).toContain('2 replicas (as asked)');
		const after = runNamed('stop-go');
		expect(after?.status).toBe('paused');
		expect(after?.step).toBeGreaterThan(paused?.step ?? Infinity);
		const detail = runDetailSchema.parse(
			JSON.parse(cli('runs', 'show', String(after?.id), '--json').stdout)
		);
		expect(detail.metrics.map((m) => m.step)).toEqual(
			Array.from({ length: after?.step ?? 0 }, (_, i) => i + 1)
		);
	});

	it('evaluates a run, then compares and exports runs', () => {
		const trained = cli('train', ...tinyRun, '--steps', '4', '--name', 'second', '--json');
		expect(trained.status).toBe(0);
		const second = runRecordSchema.parse(JSON.parse(trained.stdout));
		const evaluated = cli(
			'eval',
			'--run',
			String(second.id),
			'--dataset',
			'structured:position-x',
			'--protocol',
			'knn',
			'--max-train',
			'200',
			'--json'
		);
		expect(evaluated.stderr).toMatch(/encoder\s+run \d+\s+top-1 \d+\.\d%/);
		expect(evaluated.stderr).toMatch(/random-init\s+run \d+\s+top-1/);
		expect(evaluated.status).toBe(0);
		const records = evaluationRecordSchema.array().parse(JSON.parse(evaluated.stdout));
		expect(records.map((record) => record.role)).toEqual(['encoder', 'random-init']);

		const first = runNamed('from-cli');
		const compared = cli('runs', 'compare', String(first?.id), String(second.id));
		expect(compared.status).toBe(0);
		// Only what differs: the steps differ, the model does not.
		expect(compared.stdout).toMatch(/^steps\s+6\s+4$/m);
		expect(compared.stdout).not.toMatch(/^model\s/m);
		expect(compared.stdout).toMatch(/structured:position-x · knn\s+–\s+\d+\.\d%/);

		const csv = cli('runs', 'export');
		expect(csv.status).toBe(0);
		expect(csv.stdout.split('\r\n')[0]).toContain('structured:position-x');
		expect(csv.stdout).toContain('second');
		const latex = cli('runs', 'export', '--format', 'latex');
		expect(latex.stdout).toContain('\\begin{tabular}');
		expect(latex.stdout).toContain('\\toprule');
		expect(cli('runs', 'compare', String(first?.id)).status).toBe(2);
	});

	it('moves a run with its metrics, evaluations and checkpoint through a bundle file', () => {
		const source = runNamed('second');
		const file = path.join(home.path, 'second.nlrun');
		const exported = cli('runs', 'bundle', String(source?.id), '--out', file);
		expect(exported.stderr).toContain(`Wrote run ${source?.id} to ${file}`);
		expect(exported.status).toBe(0);

		const elsewhere = temporaryFolder();
		try {
			const other = (...args: string[]) =>
				spawnSync(process.execPath, [bin, ...args], {
					encoding: 'utf8',
					env: { ...process.env, NOISELAB_HOME: elsewhere.path },
					timeout: 120_000
				});
			const imported = other('runs', 'import', file, '--json');
			expect(imported.status).toBe(0);
			const record = runRecordSchema.parse(JSON.parse(imported.stdout));
			expect(record).toMatchObject({
				name: 'second (imported)',
				status: 'completed',
				step: source?.step,
				config: source?.config
			});
			const detail = runDetailSchema.parse(
				JSON.parse(other('runs', 'show', String(record.id), '--json').stdout)
			);
			expect(detail.metrics.map((m) => m.step)).toEqual([1, 2, 3, 4]);
			expect(detail.checkpoints.map((c) => c.step)).toEqual([4]);
			// Its evaluations came along, and its checkpoint can be evaluated again on this machine.
			const csv = other('runs', 'export').stdout;
			expect(csv).toContain('structured:position-x');
			const again = other(
				'eval',
				'--run',
				String(record.id),
				'--dataset',
				'structured:size',
				'--protocol',
				'knn',
				'--max-train',
				'100',
				'--no-random-init'
			);
			expect(again.status).toBe(0);
			expect(cli('runs', 'import', path.join(home.path, 'noiselab.sqlite')).stderr).toMatch(
				/Cannot import/
			);
		} finally {
			elsewhere.remove();
		}
	});

	it('draws Grad-CAM maps of two encoders side by side with their agreement', async () => {
		const first = runNamed('from-cli');
		const out = path.join(home.path, 'grid.png');
		const result = cli(
			'explain',
			'--runs',
			`${first?.id},random:${first?.id}`,
			'--dataset',
			'structured:position-x',
			'--index',
			'2',
			'--out',
			out
		);
		expect(result.stderr).toContain('Wrote');
		expect(result.status).toBe(0);
		expect(result.stderr).toMatch(
			/agreement of the first two maps \(Spearman\): (-?\d\.\d{3}|undefined, a map is flat)/
		);
		// No probe on this task: each encoder's own embedding is explained.
		expect(result.stderr).toMatch(
			/from-cli @ step 6: own embedding \(no probe on structured:position-x\)/
		);
		expect(result.stderr).toMatch(
			/evaluate it on this dataset with the linear probe to explain classes/
		);
		expect(result.stderr).toMatch(/deletion AUC \d\.\d{3} \(lower is better\), insertion AUC/);
		expect(result.stderr).toMatch(
			/randomisation check: (Spearman -?\d\.\d{3} with its random init|not measurable)/
		);
		// Two encoder rows and the difference row, each an image and a map of 160 px, 4 px apart.
		const metadata = await sharp(out).metadata();
		expect([metadata.width, metadata.height]).toEqual([2 * 160 + 4, 3 * 160 + 2 * 4]);
		// The PNG says what it shows: method, layer, each encoder and its target.
		const text = readPngText(new Uint8Array(fs.readFileSync(out)));
		expect(text.Title).toBe('NoiseLab Explain: Grad-CAM (GradCAM) at conv5');
		expect(text.Description?.split('\n')).toEqual([
			'Grad-CAM (GradCAM) at conv5',
			expect.stringMatching(/^A: from-cli @ step 6 — explains own embedding \(no probe on/),
			expect.stringMatching(/^B: .*random init.* — explains own embedding \(no probe on/)
		]);
		const refused = cli('explain', '--runs', '1', '--method', 'scorecam', '--out', out);
		expect(refused.status).toBe(2);
		expect(refused.stderr).toMatch(/--method must be one of gradcam, gradcam\+\+, xgradcam/);
		const missing = cli('explain', '--runs', '1', '--image', 'no-such.png', '--out', out);
		expect(missing.status).toBe(2);
		expect(missing.stderr).toMatch(/--image: there is no file at .*no-such\.png/);
	});
});
