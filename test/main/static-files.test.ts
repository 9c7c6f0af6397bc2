import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStaticFile } from '../../src/main/server/static-files';
import { temporaryFolder } from '../support/paths';

describe('readStaticFile', () => {
	const folder = temporaryFolder();
	const root = path.join(folder.path, 'renderer');

	beforeAll(() => {
		fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
		fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html>');
		fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'export {}');
		fs.writeFileSync(path.join(folder.path, 'secret.txt'), 'token');
	});
	afterAll(() => folder.remove());

	it('serves index.html for / and files with their type', async () => {
		expect((await readStaticFile(root, '/'))?.contentType).toContain('text/html');
		const script = await readStaticFile(root, '/assets/app.js?v=1');
		expect(script?.contentType).toContain('text/javascript');
		expect(script?.body.toString()).toBe('export {}');
	});

	it.each([
		'/../secret.txt',
		'/%2e%2e/secret.txt',
		'/assets/..%2f..%2fsecret.txt',
		'/%00',
		'/%E0%A4%A'
	])('refuses %s', async (url) => {
		expect(await readStaticFile(root, url)).toBeNull();
	});

	it('returns null for folders and missing files', async () => {
		expect(await readStaticFile(root, '/assets')).toBeNull();
		expect(await readStaticFile(root, '/missing.js')).toBeNull();
	});
});
