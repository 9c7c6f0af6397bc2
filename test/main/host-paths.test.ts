import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { canonicalPath, HostPaths, type HostPathsOptions } from '../../src/main/host-paths';
import { temporaryFolder } from '../support/paths';

describe('the host-path policy', () => {
	let root: ReturnType<typeof temporaryFolder>;
	let data: string;
	let other: string;
	let allowed: string[];
	let told: string[];
	let clock: number;

	beforeEach(() => {
		root = temporaryFolder('noiselab-host-paths-');
		data = path.join(root.path, 'data');
		other = path.join(root.path, 'other');
		fs.mkdirSync(data);
		fs.mkdirSync(other);
		allowed = [];
		told = [];
		clock = 0;
	});
	afterEach(() => root.remove());

	const policy = (overrides: Partial<HostPathsOptions> = {}) =>
		new HostPaths({
			access: 'confined',
			dataDir: data,
			allowedFolders: () => allowed,
			saveAllowedFolders: (folders) => (allowed = [...folders]),
			tellHost: (message) => told.push(message),
			now: () => clock,
			...overrides
		});
	const codeOf = (message: string | undefined) => /(\d{4}-\d{4})/.exec(message ?? '')?.[1] ?? '';
	const refusal = (run: () => unknown): string => {
		try {
			run();
		} catch (error) {
			if (error instanceof AppFailure) return error.code;
			throw error;
		}
		return 'allowed';
	};

	it('resolves the symlinks of a path that does not exist yet through its nearest ancestor', () => {
		const link = path.join(data, 'link');
		fs.symlinkSync(other, link);
		expect(canonicalPath(path.join(link, 'new', 'file.nlrun'))).toBe(
			path.join(fs.realpathSync(other), 'new', 'file.nlrun')
		);
		expect(canonicalPath(path.join(data, 'a', '..', '..', 'other'))).toBe(fs.realpathSync(other));
	});

	it('confines paths to the data folder and the allowed folders; any access passes them through', () => {
		const hostPaths = policy();
		expect(hostPaths.resolve('bundle file to write', path.join(data, 'x.nlrun'))).toBe(
			path.join(fs.realpathSync(data), 'x.nlrun')
		);
		expect(refusal(() => hostPaths.resolve('bundle file to write', path.join(other, 'x')))).toBe(
			'PATH_NOT_ALLOWED'
		);
		// A sibling whose name starts like the data folder's is outside it.
		fs.mkdirSync(`${data}-evil`);
		expect(refusal(() => hostPaths.resolve('bundle file to write', `${data}-evil/x`))).toBe(
			'PATH_NOT_ALLOWED'
		);
		expect(refusal(() => hostPaths.resolve('bundle file to write', 'relative/x'))).toBe(
			'INVALID_REQUEST'
		);
		hostPaths.allowOnHost(other);
		expect(hostPaths.resolve('training image folder', other)).toBe(fs.realpathSync(other));
		expect(policy({ access: 'any' }).resolve('training image folder', '/etc')).toBe('/etc');
	});

	it('allows a folder from a client only with the code told to the host, within 5 minutes', () => {
		const hostPaths = policy();
		expect(hostPaths.allow(other)).toBe('confirm');
		expect(allowed).toEqual([]);
		clock = 5 * 60_000 + 1;
		expect(refusal(() => hostPaths.allow(other, codeOf(told.at(-1))))).toBe('INVALID_REQUEST');
		expect(hostPaths.allow(other)).toBe('confirm');
		// A code asked for one folder does not allow another.
		expect(refusal(() => hostPaths.allow(data, codeOf(told.at(-1))))).toBe('INVALID_REQUEST');
		expect(hostPaths.allow(other)).toBe('confirm');
		expect(hostPaths.allow(other, codeOf(told.at(-1)).replace('-', ''))).toBe('allowed');
		expect(allowed).toEqual([fs.realpathSync(other)]);
		hostPaths.remove(other);
		expect(allowed).toEqual([]);
	});

	it('cannot allow a folder from a client without a host to confirm, but can with any access', () => {
		expect(refusal(() => policy({ tellHost: undefined }).allow(other))).toBe('PATH_NOT_ALLOWED');
		expect(policy({ access: 'any' }).allow(other)).toBe('allowed');
		expect(allowed).toEqual([fs.realpathSync(other)]);
	});

	it('browses folders within the usable ones only, and climbs no higher than a starting point', () => {
		fs.mkdirSync(path.join(data, 'photos', 'cats'), { recursive: true });
		fs.mkdirSync(path.join(data, '.hidden'));
		fs.writeFileSync(path.join(data, 'photos', 'a.png'), '');
		fs.writeFileSync(path.join(data, 'photos', 'b.JPG'), '');
		fs.writeFileSync(path.join(data, 'photos', 'train-images-idx3-ubyte.gz'), '');
		allowed = [other];
		const hostPaths = policy();
		const start = hostPaths.browse(null);
		expect(start.path).toBeNull();
		expect(start.folders.map((entry) => entry.path)).toEqual([
			fs.realpathSync(data),
			fs.realpathSync(other)
		]);
		const top = hostPaths.browse(data);
		expect(top.parent).toBeNull();
		expect(top.folders.map((entry) => entry.name)).toEqual(['photos']);
		const photos = hostPaths.browse(path.join(data, 'photos'));
		expect(photos).toMatchObject({
			path: path.join(fs.realpathSync(data), 'photos'),
			parent: fs.realpathSync(data),
			images: 2,
			files: ['train-images-idx3-ubyte.gz'],
			truncated: false
		});
		expect(photos.folders).toEqual([
			{ name: 'cats', path: path.join(fs.realpathSync(data), 'photos', 'cats') }
		]);
		expect(refusal(() => hostPaths.browse(root.path))).toBe('PATH_NOT_ALLOWED');
		expect(refusal(() => hostPaths.browse(path.join(data, 'photos', '..', '..')))).toBe(
			'PATH_NOT_ALLOWED'
		);
		expect(refusal(() => hostPaths.browse(path.join(data, 'missing')))).toBe('INVALID_REQUEST');

		const any = policy({ access: 'any' });
		expect(any.browse(data).parent).toBe(path.dirname(data));
	});
});
