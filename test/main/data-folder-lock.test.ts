import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
	folderOwner,
	lockDataFolder,
	lockFileName,
	ownerFileName,
	type FolderOwner
} from '../../src/main/data-folder-lock';
import { repoRoot, temporaryFolder } from '../support/paths';

describe('the data folder lock', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	beforeEach(() => {
		folder = temporaryFolder();
	});
	afterEach(() => folder.remove());

	const ownerFile = () => path.join(folder.path, ownerFileName);

	it('lets one owner in and refuses the next, naming the holder and how to stop it', () => {
		const first = lockDataFolder(folder.path, 'noiselab serve --port 5177');
		try {
			expect(() => lockDataFolder(folder.path, 'noiselab train')).toThrow(
				expect.objectContaining({
					code: 'DATA_FOLDER_BUSY',
					message: expect.stringMatching(
						new RegExp(
							`^The data folder .* is in use by \`noiselab serve --port 5177\` \\(PID ${process.pid}, since .*\\): .* \`kill ${process.pid}\``
						)
					)
				})
			);
			expect(folderOwner(folder.path)).toMatchObject({
				pid: process.pid,
				command: 'noiselab serve --port 5177',
				hostname: os.hostname()
			});
		} finally {
			first.release();
		}
		expect(fs.existsSync(ownerFile())).toBe(false);
		expect(folderOwner(folder.path)).toBeNull();
		lockDataFolder(folder.path, 'noiselab train').release();
	});

	it('takes over from a holder that died, whatever its file says (a crash, a reused PID)', () => {
		// A crash leaves the description behind; it may even name a PID that is alive now (this one).
		const leftBehind: FolderOwner = {
			pid: process.pid,
			hostname: os.hostname(),
			command: 'noiselab serve',
			startedAt: '2020-01-01T00:00:00.000Z'
		};
		fs.writeFileSync(ownerFile(), JSON.stringify(leftBehind));
		fs.writeFileSync(path.join(folder.path, 'noiselab.lock'), '');
		expect(folderOwner(folder.path)).toBeNull();
		const lock = lockDataFolder(folder.path, 'noiselab train');
		try {
			const owner = JSON.parse(fs.readFileSync(ownerFile(), 'utf8')) as FolderOwner;
			expect(owner.command).toBe('noiselab train');
			expect(owner.startedAt).not.toBe(leftBehind.startedAt);
		} finally {
			lock.release();
		}
	});

	it('stays held while its own process asks who holds it (POSIX would drop it on a close)', () => {
		const lock = lockDataFolder(folder.path, 'noiselab serve');
		try {
			for (let i = 0; i < 3; i++) expect(folderOwner(folder.path)?.pid).toBe(process.pid);
			// Another process still finds the folder taken.
			const probe = spawnSync(
				process.execPath,
				[
					'-e',
					`const Database = require('better-sqlite3');
					const db = new Database(process.argv[1], { timeout: 0 });
					try { db.exec('BEGIN EXCLUSIVE'); console.log('free'); } catch (e) { console.log(e.code); }`,
					path.join(folder.path, lockFileName)
				],
				{ encoding: 'utf8', cwd: repoRoot }
			);
			expect(probe.stdout.trim()).toBe('SQLITE_BUSY');
		} finally {
			lock.release();
		}
	});

	it('creates the folder, and names an unwritable one instead of the holder', () => {
		const nested = path.join(folder.path, 'new', 'data');
		lockDataFolder(nested, 'noiselab serve').release();
		expect(fs.existsSync(nested)).toBe(true);
		const file = path.join(folder.path, 'a-file');
		fs.writeFileSync(file, '');
		expect(() => lockDataFolder(file, 'noiselab serve')).toThrow(
			expect.objectContaining({ code: 'STORE_UNAVAILABLE' })
		);
	});
});
