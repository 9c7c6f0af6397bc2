import { describe, expect, it } from 'vitest';
import {
	bundleExtension,
	bundleFileName,
	checkBundleFileName,
	checkBundleFolder,
	checkBundlePath,
	isAbsolutePath,
	joinPath,
	slugify
} from '../../src/renderer/lib/runs/bundle-paths';

describe('slugify', () => {
	it('keeps lower-case letters and digits joined by single hyphens', () => {
		expect(slugify('Dead leaves – mixed (seed 2)')).toBe('dead-leaves-mixed-seed-2');
		expect(slugify('  StyleGAN__oriented  ')).toBe('stylegan-oriented');
	});

	it('drops accents rather than the letters that carry them', () => {
		expect(slugify('Résumé à Zürich')).toBe('resume-a-zurich');
	});

	it('falls back to "run" when nothing usable is left', () => {
		expect(slugify('')).toBe('run');
		expect(slugify('★★★')).toBe('run');
		expect(slugify('随机噪声')).toBe('run');
	});

	it('shortens long names without leaving a trailing hyphen', () => {
		const slug = slugify(`${'a'.repeat(47)} tail of the name`);
		expect(slug).toBe('a'.repeat(47));
		expect(slugify('word '.repeat(20)).length).toBeLessThanOrEqual(48);
		expect(slugify('word '.repeat(20))).not.toMatch(/-$/);
	});
});

describe('bundleFileName', () => {
	it('is the slug, the run id and the bundle extension', () => {
		expect(bundleFileName({ id: 12, name: 'Noise A (imported)' })).toBe(
			'noise-a-imported-run12.nlrun'
		);
		expect(bundleFileName({ id: 3, name: '…' })).toBe(`run-run3${bundleExtension}`);
	});
});

describe('isAbsolutePath', () => {
	it.each([
		['/home/me/bundles', true],
		['/', true],
		['C:\\Users\\me', true],
		['d:/data', true],
		['\\\\server\\share\\bundles', true],
		['bundles', false],
		['./bundles', false],
		['~/bundles', false],
		['C:', false],
		['C:bundles', false],
		['', false]
	])('%j is absolute: %s', (path, absolute) => {
		expect(isAbsolutePath(path)).toBe(absolute);
	});
});

describe('joinPath', () => {
	it('joins POSIX folders with a slash, without doubling a trailing one', () => {
		expect(joinPath('/home/me/bundles', 'a.nlrun')).toBe('/home/me/bundles/a.nlrun');
		expect(joinPath('/home/me/bundles/', 'a.nlrun')).toBe('/home/me/bundles/a.nlrun');
		expect(joinPath('/', 'a.nlrun')).toBe('/a.nlrun');
	});

	it('joins Windows folders with a backslash, keeping a drive root', () => {
		expect(joinPath('C:\\Users\\me', 'a.nlrun')).toBe('C:\\Users\\me\\a.nlrun');
		expect(joinPath('C:\\Users\\me\\', 'a.nlrun')).toBe('C:\\Users\\me\\a.nlrun');
		expect(joinPath('C:\\', 'a.nlrun')).toBe('C:\\a.nlrun');
		expect(joinPath('\\\\server\\share', 'a.nlrun')).toBe('\\\\server\\share\\a.nlrun');
	});

	it('keeps forward slashes in a Windows path written with them', () => {
		expect(joinPath('C:/Users/me', 'a.nlrun')).toBe('C:/Users/me/a.nlrun');
	});

	it('treats a backslash inside a POSIX path as part of a name', () => {
		expect(joinPath('/home/me/odd\\name', 'a.nlrun')).toBe('/home/me/odd\\name/a.nlrun');
	});
});

describe('checkBundleFolder', () => {
	it('accepts an absolute folder, trimmed', () => {
		expect(checkBundleFolder('  /tmp/bundles \n')).toEqual({ ok: true, path: '/tmp/bundles' });
		expect(checkBundleFolder('C:\\bundles')).toEqual({ ok: true, path: 'C:\\bundles' });
	});

	it('refuses an empty or relative folder, naming the value received', () => {
		const empty = checkBundleFolder('   ');
		expect(empty.ok).toBe(false);
		const relative = checkBundleFolder('bundles/mine');
		expect(relative).toMatchObject({ ok: false });
		if (!relative.ok) expect(relative.message).toContain('“bundles/mine” is not an absolute path');
	});
});

describe('checkBundleFileName', () => {
	it('adds the extension when it is missing, and keeps it in any case', () => {
		expect(checkBundleFileName('my-run')).toEqual({ ok: true, path: 'my-run.nlrun' });
		expect(checkBundleFileName('my-run.NLRUN')).toEqual({ ok: true, path: 'my-run.NLRUN' });
		expect(checkBundleFileName(' my.run.nlrun ')).toEqual({ ok: true, path: 'my.run.nlrun' });
		expect(checkBundleFileName('archive.zip')).toEqual({ ok: true, path: 'archive.zip.nlrun' });
	});

	it('refuses an empty name, a bare extension and a path', () => {
		expect(checkBundleFileName('').ok).toBe(false);
		expect(checkBundleFileName('.nlrun').ok).toBe(false);
		const withFolder = checkBundleFileName('sub/my-run.nlrun');
		expect(withFolder.ok).toBe(false);
		if (!withFolder.ok) expect(withFolder.message).toContain('“sub/my-run.nlrun”');
		expect(checkBundleFileName('sub\\my-run').ok).toBe(false);
	});
});

describe('checkBundlePath', () => {
	it('accepts an absolute file, adding the extension only to a name without one', () => {
		expect(checkBundlePath(' /tmp/a-run1.nlrun ')).toEqual({ ok: true, path: '/tmp/a-run1.nlrun' });
		expect(checkBundlePath('/tmp/a-run1')).toEqual({ ok: true, path: '/tmp/a-run1.nlrun' });
		expect(checkBundlePath('/tmp/v1.2/a-run1')).toEqual({
			ok: true,
			path: '/tmp/v1.2/a-run1.nlrun'
		});
		expect(checkBundlePath('/tmp/renamed.bin')).toEqual({ ok: true, path: '/tmp/renamed.bin' });
		expect(checkBundlePath('C:\\b\\a-run1')).toEqual({ ok: true, path: 'C:\\b\\a-run1.nlrun' });
	});

	it('refuses an empty, a relative and a folder path', () => {
		expect(checkBundlePath('').ok).toBe(false);
		const relative = checkBundlePath('a-run1.nlrun');
		expect(relative.ok).toBe(false);
		if (!relative.ok) expect(relative.message).toContain('“a-run1.nlrun” is not an absolute path');
		const folder = checkBundlePath('/tmp/bundles/');
		expect(folder.ok).toBe(false);
		if (!folder.ok) expect(folder.message).toContain('names a folder');
	});
});
