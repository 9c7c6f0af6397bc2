import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, temporaryFolder } from '../support/paths';

const bin = path.join(repoRoot, 'bin', 'noiselab.js');

/** Every file under `root` by relative path. */
function files(root: string): Map<string, Buffer> {
	const out = new Map<string, Buffer>();
	const walk = (dir: string) => {
		for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
			const full = path.join(dir, entry.name);
			if (entry.isDirectory()) walk(full);
			else out.set(path.relative(root, full), fs.readFileSync(full));
		}
	};
	walk(root);
	return out;
}

function withoutTimes(manifest: Buffer): unknown {
	const { createdAt, completedAt, ...rest } = JSON.parse(manifest.toString('utf8'));
	void createdAt;
	void completedAt;
	return rest;
}

describe('datasets generated in parts', () => {
	const home = temporaryFolder();
	const whole = path.join(home.path, 'whole');
	const parted = path.join(home.path, 'parted');
	afterAll(() => home.remove());
	const cli = (...args: string[]) =>
		spawnSync(process.execPath, [bin, ...args], {
			encoding: 'utf8',
			env: { ...process.env, NOISELAB_HOME: home.path },
			timeout: 180_000
		});
	// 3500 images from index 250: sub-folders 0–3, so four parts of one sub-folder each.
	const dataset = [
		'--preset',
		'dead_leaves-squares',
		'--size',
		'32',
		'--format',
		'png',
		'--count',
		'3500',
		'--start-index',
		'250',
		'--shards',
		'--workers',
		'2'
	];

	it('four parts generated separately equal one whole generation, byte for byte', () => {
		const one = cli('generate', ...dataset, '--out', whole);
		expect(one.status, one.stderr).toBe(0);
		for (const part of [3, 1, 4, 2]) {
			const result = cli('generate', ...dataset, '--part', `${part}/4`, '--out', parted);
			expect(result.status, result.stderr).toBe(0);
			expect(result.stdout).toContain(`of part ${part}/4`);
		}
		const beforeMerge = cli('dataset', 'verify', parted);
		expect(beforeMerge.status, beforeMerge.stdout).toBe(0);
		expect(beforeMerge.stdout).toMatch(/parts\s+4 of 4/);
		const merged = cli('dataset', 'merge', parted);
		expect(merged.status, merged.stderr).toBe(0);

		const a = files(whole);
		const b = files(parted);
		const partManifests = [...b.keys()].filter((name) => name.startsWith('manifest.part-'));
		expect(partManifests).toEqual([1, 2, 3, 4].map((k) => `manifest.part-000${k}-of-0004.json`));
		for (const name of partManifests) b.delete(name);
		expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
		expect(a.size).toBe(3500 + 4 + 1);
		for (const [name, bytes] of a) {
			if (name === 'manifest.json') continue;
			expect(bytes.equals(b.get(name) as Buffer), name).toBe(true);
		}
		expect(withoutTimes(b.get('manifest.json') as Buffer)).toEqual(
			withoutTimes(a.get('manifest.json') as Buffer)
		);
	}, 300_000);

	it('verify checks images, shards and hashes, also for a set of shards alone', () => {
		expect(cli('dataset', 'verify', whole).status).toBe(0);
		const shardsOnly = path.join(home.path, 'shards-only');
		fs.mkdirSync(path.join(shardsOnly, 'shards'), { recursive: true });
		fs.copyFileSync(path.join(whole, 'manifest.json'), path.join(shardsOnly, 'manifest.json'));
		for (const shard of fs.readdirSync(path.join(whole, 'shards'))) {
			fs.copyFileSync(path.join(whole, 'shards', shard), path.join(shardsOnly, 'shards', shard));
		}
		const ok = cli('dataset', 'verify', shardsOnly);
		expect(ok.status, ok.stdout).toBe(0);
		expect(ok.stdout).toContain('not here (shards only)');

		fs.rmSync(path.join(parted, '00002000', '00002345.png'));
		const shard = path.join(parted, 'shards', 'shard-000001.tar');
		const bytes = fs.readFileSync(shard);
		bytes[600] = (bytes[600] as number) ^ 0xff;
		fs.writeFileSync(shard, bytes);
		const bad = cli('dataset', 'verify', parted, '--json');
		expect(bad.status).toBe(1);
		const report = JSON.parse(bad.stdout);
		expect(report.missing).toEqual([2345]);
		expect(report.problems.join('\n')).toMatch(/shard-000001\.tar: its SHA-256 differs/);
	}, 120_000);

	it('refuses to merge with a part missing, and a --part that does not fit', () => {
		const incomplete = path.join(home.path, 'incomplete');
		const result = cli('generate', ...dataset, '--part', '2/4', '--out', incomplete);
		expect(result.status, result.stderr).toBe(0);
		const merge = cli('dataset', 'merge', incomplete);
		expect(merge.status).toBe(2);
		expect(merge.stderr).toContain('Parts 1, 3, 4 of 4 are missing');
		const tooMany = cli('generate', ...dataset, '--part', '5/5', '--out', incomplete);
		expect(tooMany.status).not.toBe(0);
		expect(tooMany.stderr).toMatch(/at most that many parts \(got 5\)/);
		const malformed = cli('generate', ...dataset, '--part', '2-4', '--out', incomplete);
		expect(malformed.status).toBe(2);
		expect(malformed.stderr).toContain('--part must be I/N');
	}, 120_000);
});
