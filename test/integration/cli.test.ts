import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doctorReportSchema } from '../../src/core/api/contract';
import { failpointsVariable } from '../../src/main/failpoints';
import { databaseFileName, openStore } from '../../src/main/store/database';
import { readSettings } from '../../src/main/store/settings';
import { repoRoot, temporaryFolder } from '../support/paths';

const bin = path.join(repoRoot, 'bin', 'noiselab.js');

describe('the noiselab CLI', () => {
	let home: ReturnType<typeof temporaryFolder>;
	beforeEach(() => {
		home = temporaryFolder();
	});
	afterEach(() => home.remove());

	const cli = (...args: string[]) =>
		spawnSync(process.execPath, [bin, ...args], {
			encoding: 'utf8',
			env: { ...process.env, NOISELAB_HOME: home.path },
			timeout: 60_000
		});

	it('prints its version and help', () => {
		const version = cli('--version');
		expect(version.status).toBe(0);
		expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
		const help = cli('--help');
		expect(help.status).toBe(0);
		expect(help.stdout).toContain('doctor');
		expect(help.stdout).toContain('serve');
		expect(cli('serve', '--help').stdout).toContain('--port');
	});

	it('refuses an unknown command or flag with exit code 2 and a hint', () => {
		const unknown = cli('train-everything');
		expect(unknown.status).toBe(2);
		expect(unknown.stderr).toContain('Unknown command "train-everything"');
		const badFlag = cli('doctor', '--colour');
		expect(badFlag.status).toBe(2);
		expect(badFlag.stderr).toContain('--colour');
		const badPort = cli('serve', '--port', 'eighty');
		expect(badPort.status).toBe(2);
		expect(badPort.stderr).toContain('"eighty"');
	});

	it('doctor reports a truthful, schema-valid health report', () => {
		const result = cli('doctor', '--json');
		expect(result.status, result.stderr).toBe(0);
		const report = doctorReportSchema.parse(JSON.parse(result.stdout));
		expect(report.runtime.node).toBe(process.versions.node);
		expect(report.dataDir).toEqual({ path: home.path, source: 'NOISELAB_HOME' });
		expect(report.database).toMatchObject({
			status: 'ok',
			path: path.join(home.path, databaseFileName)
		});
		expect(report.workers.ok).toBe(true);
		expect(report.backends.map((probe) => probe.id)).toEqual([
			'tfjs-node-gpu',
			'webgpu',
			'tfjs-node',
			'wasm',
			'cpu'
		]);
		expect(report.selection.active).not.toBeNull();
		const text = cli('doctor');
		expect(text.stdout).toContain('Active backend:');
		expect(text.stdout).toContain(home.path);
	});

	it('doctor exits 1 and explains a database written by a newer NoiseLab', () => {
		const store = openStore(home.path);
		const file = store.path;
		store.close();
		const raw = new Database(file);
		raw.pragma('user_version = 999');
		raw.close();
		const result = cli('doctor');
		expect(result.status).toBe(1);
		expect(result.stdout).toContain('✗ Database');
		expect(result.stderr).toContain('schema version 999');
	});

	it('doctor exits 1 and reports a damaged database that still opens (PRAGMA quick_check)', () => {
		const store = openStore(home.path);
		const file = store.path;
		const pageSize = store.db.pragma('page_size', { simple: true }) as number;
		store.close();
		// Garbage over the header of page 2, a table's root: the file opens, its tables do not add up.
		const bytes = fs.readFileSync(file);
		bytes.fill(0xff, pageSize, pageSize + 16);
		fs.writeFileSync(file, bytes);
		const result = cli('doctor');
		expect(result.status).toBe(1);
		expect(result.stdout).toContain('✗ Database');
		expect(result.stderr).toMatch(/The database .* is damaged \(SQLite's quick_check: .+\)/);
		expect(result.stderr).toContain('restore it from a backup');
	});

	it('serve prints the URL with its token and stops cleanly on SIGTERM', async () => {
		const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
			env: { ...process.env, NOISELAB_HOME: home.path }
		});
		let output = '';
		let errors = '';
		child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
		await expect.poll(() => output, { timeout: 20_000 }).toMatch(/token=[\w-]+/);
		const url = output.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/)?.[0];
		expect(url).toBeDefined();
		const page = await fetch(url as string);
		expect(page.status).toBe(200);
		const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
		child.kill('SIGTERM');
		expect(await exit, errors).toBe(0);
		expect(output).toContain('Stopped.');
	});

	it('serve warns when it listens beyond this machine', async () => {
		const child = spawn(process.execPath, [bin, 'serve', '--host', '0.0.0.0', '--port', '0'], {
			env: { ...process.env, NOISELAB_HOME: home.path }
		});
		let errors = '';
		child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
		await expect.poll(() => errors, { timeout: 20_000 }).toContain('reachable from other machines');
		const exit = new Promise((resolve) => child.on('exit', resolve));
		child.kill('SIGTERM');
		await exit;
	});

	it('serve keeps --allow-folder folders in Settings, and warns about --allow-any-path', async () => {
		const serve = async (...flags: string[]) => {
			const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...flags], {
				env: { ...process.env, NOISELAB_HOME: home.path }
			});
			let output = '';
			child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
			child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
			await expect.poll(() => output, { timeout: 20_000 }).toContain('Press Ctrl-C');
			const exit = new Promise((resolve) => child.on('exit', resolve));
			child.kill('SIGTERM');
			await exit;
			return output;
		};
		const extra = fs.mkdtempSync(path.join(home.path, 'extra-'));
		const confined = await serve('--allow-folder', extra);
		expect(confined).toContain('Folders:     the data folder and 1 allowed folder');
		expect(confined).not.toContain('--allow-any-path lets');
		const store = openStore(home.path);
		expect(readSettings(store.db).allowedFolders).toEqual([fs.realpathSync(extra)]);
		store.close();
		const open = await serve('--allow-any-path');
		expect(open).toContain('Folders:     any path (--allow-any-path)');
		expect(open).toContain('Warning: --allow-any-path lets anyone with the URL');
	});

	it('generate lists presets and parameters, and refuses bad input with the valid choices', () => {
		const list = cli('generate', '--list');
		expect(list.status).toBe(0);
		expect(list.stdout).toContain('control-white_noise');
		const unknown = cli(
			'generate',
			'--preset',
			'dead_leaves-circles',
			'--count',
			'5',
			'--out',
			path.join(home.path, 'x')
		);
		expect(unknown.status).toBe(1);
		expect(unknown.stderr).toContain('Presets:');
		const missing = cli('generate', '--preset', 'control-white_noise');
		expect(missing.status).toBe(2);
		expect(missing.stderr).toContain('--count is required');
		expect(missing.stderr).toContain('--out is required');
		const badSize = cli(
			'generate',
			'--preset',
			'control-white_noise',
			'--count',
			'5',
			'--size',
			'9000',
			'--out',
			home.path
		);
		expect(badSize.status).toBe(2);
		expect(badSize.stderr).toContain('--size must be a whole number from 32 to 512');
	});

	it('generate pins feature_vis-dead_leaves to a trained encoder, or says there is none', () => {
		const generate = (out: string) =>
			cli(
				'generate',
				'--preset',
				'feature_vis-dead_leaves',
				'--count',
				'1',
				'--size',
				'32',
				'--param',
				'steps=1',
				'--out',
				path.join(home.path, out)
			);
		const none = generate('none');
		expect(none.status).toBe(1);
		expect(none.stderr).toContain(`There are no runs in ${home.path} yet`);
		const train = cli(
			...['train', '--preset', 'dead_leaves-mixed', '--size', '64', '--model', 'tiny'],
			...['--steps', '2', '--batch', '8', '--optimizer', 'adam', '--backend', 'wasm']
		);
		expect(train.status, train.stderr).toBe(0);
		const made = generate('made');
		expect(made.status, made.stderr).toBe(0);
		const manifest = JSON.parse(
			fs.readFileSync(path.join(home.path, 'made', 'manifest.json'), 'utf8')
		) as { params: { encoder: string } };
		const [, sha256] = /^run:1@([0-9a-f]{64})$/.exec(manifest.params.encoder) ?? [];
		expect(sha256, manifest.params.encoder).toBeDefined();
		expect(fs.existsSync(path.join(home.path, 'cache', 'encoders', `${sha256}.nlck`))).toBe(true);
	});

	it('generate stops cleanly on Ctrl-C and a rerun resumes', async () => {
		const out = path.join(home.path, 'dataset');
		const args = [
			bin,
			'generate',
			'--preset',
			'control-white_noise',
			'--count',
			'3000',
			'--size',
			'64',
			'--out',
			out,
			'--workers',
			'1'
		];
		// The first export holds after 100 images (a failpoint) until Ctrl-C: a fast machine wrote
		// all 3000 before the signal arrived.
		const child = spawn(process.execPath, args, {
			env: {
				...process.env,
				NOISELAB_HOME: home.path,
				[failpointsVariable]: 'export.hold-after-images=100'
			}
		});
		let errors = '';
		child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
		await expect
			.poll(() => fs.existsSync(path.join(out, '00000000', '00000020.jpg')), { timeout: 30_000 })
			.toBe(true);
		const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
		child.kill('SIGINT');
		expect(await exit).toBe(130);
		expect(errors).toContain('Stopping after the images in progress');
		const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
			complete: boolean;
			written: number;
		};
		expect(manifest.complete).toBe(false);
		expect(manifest.written).toBeGreaterThanOrEqual(20);
		expect(manifest.written).toBeLessThanOrEqual(100);
		const rerun = cli(...args.slice(1));
		expect(rerun.status, rerun.stderr).toBe(0);
		expect(rerun.stdout).toMatch(/holds 3000 of 3000 images .*already there, resumed/);
		expect(rerun.stderr).toMatch(/3000\/3000 \(100%\)/);
	});
});
