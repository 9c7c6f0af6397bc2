/**
 * Paths for run bundles as the Runs dialogs build and check them. The paths name files on the
 * machine running NoiseLab, which may not be the browser's: its separator is read from the path
 * the user typed rather than from the platform the page runs on.
 */

/** The extension of a run bundle file. */
export const bundleExtension = '.nlrun';

/** The longest slug a file name takes from a run's name; run names go up to 80 characters. */
const slugMaxLength = 48;

/**
 * A run name as a file-name part: lower case, ASCII letters and digits joined by single hyphens
 * (accents dropped, everything else a separator); `run` when nothing usable is left.
 */
export function slugify(name: string): string {
	const slug = name
		.normalize('NFKD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.slice(0, slugMaxLength)
		.replace(/^-+|-+$/g, '');
	return slug === '' ? 'run' : slug;
}

/** The file name a run's bundle is written under: `<run-name-slug>-run<id>.nlrun`. */
export function bundleFileName(run: { id: number; name: string }): string {
	return `${slugify(run.name)}-run${run.id}${bundleExtension}`;
}

/**
 * Whether a path is absolute on POSIX (`/…`) or Windows (`C:\…`, `C:/…`, `\\server\share…`).
 * A bare `C:` or `C:foo` is relative to that drive's current folder, so it is not.
 */
export function isAbsolutePath(path: string): boolean {
	return path.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(path) || path.startsWith('\\\\');
}

/** Whether a path is written with Windows separators (a drive letter, a UNC share or `\` only). */
function usesBackslashes(path: string): boolean {
	return /^[a-zA-Z]:/.test(path) || path.startsWith('\\\\') || !path.includes('/');
}

/**
 * A file inside a folder, joined with the folder's own separator; separators the folder ends
 * with are not doubled, so `/` and `C:\` stay roots.
 */
export function joinPath(folder: string, file: string): string {
	const separator = folder.includes('\\') && usesBackslashes(folder) ? '\\' : '/';
	const trimmed = folder.replace(/[\\/]+$/, '');
	return `${trimmed}${separator}${file}`;
}

/** A checked path, or what is wrong with the value received and what to do. */
export type PathCheck = { ok: true; path: string } | { ok: false; message: string };

/** Checks a folder to write a bundle into: present and absolute; trimmed. */
export function checkBundleFolder(folder: string): PathCheck {
	const trimmed = folder.trim();
	if (trimmed === '') {
		return { ok: false, message: 'Give the folder to write the bundle into.' };
	}
	if (!isAbsolutePath(trimmed)) {
		return {
			ok: false,
			message: `“${trimmed}” is not an absolute path. Give the full path of a folder on the machine running NoiseLab, such as /home/you/bundles or C:\\Users\\you\\bundles.`
		};
	}
	return { ok: true, path: trimmed };
}

/**
 * Checks a bundle file name to write: a name rather than a path, with `.nlrun` added when it
 * has another extension or none (the CLI and the import dialog look for it).
 */
export function checkBundleFileName(name: string): PathCheck {
	const trimmed = name.trim();
	if (trimmed === '' || trimmed === bundleExtension) {
		return { ok: false, message: 'Give the bundle a file name, such as my-run.nlrun.' };
	}
	if (/[\\/]/.test(trimmed)) {
		return {
			ok: false,
			message: `“${trimmed}” contains a path separator. Give the folder above and only the file name here.`
		};
	}
	return { ok: true, path: withBundleExtension(trimmed) };
}

/**
 * Checks a bundle file to import: present, absolute and a file rather than a folder; trimmed.
 * `.nlrun` is added only to a name without any extension: a bundle renamed to another extension
 * must stay importable.
 */
export function checkBundlePath(file: string): PathCheck {
	const trimmed = file.trim();
	if (trimmed === '') return { ok: false, message: 'Give the path of the bundle file to import.' };
	if (!isAbsolutePath(trimmed)) {
		return {
			ok: false,
			message: `“${trimmed}” is not an absolute path. Give the full path of the .nlrun file on the machine running NoiseLab, such as /home/you/bundles/my-run-run3.nlrun.`
		};
	}
	if (/[\\/]$/.test(trimmed)) {
		return {
			ok: false,
			message: `“${trimmed}” names a folder. Add the bundle’s file name, ending in .nlrun.`
		};
	}
	const fileName = trimmed.split(/[\\/]/).at(-1) ?? trimmed;
	return { ok: true, path: fileName.includes('.') ? trimmed : `${trimmed}${bundleExtension}` };
}

/** The name with `.nlrun` appended unless it already ends so (in any case). */
function withBundleExtension(name: string): string {
	return name.toLowerCase().endsWith(bundleExtension) ? name : `${name}${bundleExtension}`;
}
