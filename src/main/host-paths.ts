/**
 * Which folders on the host a client may name. The API takes host paths (export folders,
 * training folders, datasets, bundles); who may name which depends on who the client is:
 *
 * - `any`: the desktop app (the user at this machine, with its native dialogs), the CLI and
 *   `serve --allow-any-path`. Paths are used as given.
 * - `confined`: web mode's default. A path is used only when, with its symlinks resolved, it
 *   lies in the data folder or in a folder the user allowed. Allowing a folder from a browser
 *   takes a code printed in the terminal of `noiselab serve`, so that holding the URL is not
 *   enough to widen what the URL reaches.
 *
 * A refusal reads the same whether the path exists or not, so it cannot be used to probe the
 * machine.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppFailure } from '../core/api/errors';
import type { FolderListing, HostPathAccess } from '../core/api/settings';
import { imageExtensions } from './image-files';

/** What a path is for, as the messages name it. */
export type HostPathUse =
	| 'dataset export folder'
	| 'training image folder'
	| 'noise image folder'
	| 'evaluation dataset folder'
	| 'bundle file to write'
	| 'bundle file to import'
	| 'study bundle folder'
	| 'encoder checkpoint to import'
	| 'encoder export folder'
	| 'folder to browse';

/** A folder waiting for the code printed on the host. */
interface PendingFolder {
	folder: string;
	code: string;
	expiresAt: number;
	attemptsLeft: number;
}

/** What the host provides to a {@link HostPaths}. */
export interface HostPathsOptions {
	access: HostPathAccess;
	/** The data folder, always usable. */
	dataDir: string;
	/** The folders the user allowed (stored in the settings). */
	allowedFolders: () => readonly string[];
	saveAllowedFolders: (folders: readonly string[]) => void;
	/**
	 * Shows a message to the person at the host (the terminal of `noiselab serve`). Without it,
	 * a confined client cannot allow a folder.
	 */
	tellHost?: (message: string) => void;
	/** The clock, for the code's expiry. */
	now?: () => number;
}

/** Sub-folders listed per folder: enough to browse, bounded for a folder of 100k entries. */
const listedFolders = 500;
/** Other file names listed per folder, so an IDX or CIFAR dataset can be recognised. */
const listedFiles = 12;

/** How long a confirmation code printed on the host stays valid. */
const codeLifetimeMs = 5 * 60_000;
/** Wrong codes accepted before the request must be made again (and a new code printed). */
const codeAttempts = 3;

/** The host-path policy of one app context; see the module comment. */
export class HostPaths {
	private pending: PendingFolder | null = null;

	constructor(private readonly options: HostPathsOptions) {}

	get access(): HostPathAccess {
		return this.options.access;
	}

	/**
	 * The path to use for `requested`: unchanged with `any` access; confined, the canonical path
	 * (symlinks resolved) when it lies in a usable folder. Throws INVALID_REQUEST for a relative
	 * path and PATH_NOT_ALLOWED for one outside the usable folders.
	 */
	resolve(use: HostPathUse, requested: string): string {
		if (this.options.access === 'any') return requested;
		if (!path.isAbsolute(requested)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`The ${use} must be an absolute path on the machine running NoiseLab; got ${JSON.stringify(requested)}.`
			);
		}
		const canonical = canonicalPath(requested);
		if (this.roots().some((root) => isInside(canonical, root))) return canonical;
		throw new AppFailure(
			'PATH_NOT_ALLOWED',
			`${requested} (the ${use}) is outside the folders web mode may use: the data folder ` +
				`${this.options.dataDir} and the folders allowed in Settings → Folders. Allow its ` +
				'folder there (the code appears in the terminal running `noiselab serve`), or start ' +
				'`noiselab serve --allow-folder DIR`.'
		);
	}

	/** The usable folders, canonical: the data folder, then the allowed ones that exist. */
	roots(): string[] {
		return [this.options.dataDir, ...this.options.allowedFolders()].flatMap((folder) => {
			try {
				return [fs.realpathSync.native(folder)];
			} catch {
				return [];
			}
		});
	}

	/**
	 * A folder as the browser's folder picker shows it (see {@link FolderListing}). `null` lists
	 * the starting points: the usable folders when confined; the data folder, the home folder and
	 * the file system's root with any access. A folder is listed only where {@link resolve} would
	 * accept it, and "Up" stops at the starting point it lies in.
	 */
	browse(requested: string | null): FolderListing {
		const starts =
			this.options.access === 'confined'
				? this.roots()
				: [...new Set([this.options.dataDir, os.homedir(), path.parse(process.cwd()).root])];
		if (requested === null) {
			return {
				path: null,
				parent: null,
				folders: starts.map((folder) => ({ name: folder, path: folder })),
				images: 0,
				files: [],
				truncated: false
			};
		}
		const folder =
			this.options.access === 'confined'
				? this.resolve('folder to browse', requested)
				: canonicalPath(this.resolveAbsolute(requested));
		const entries = readFolder(folder);
		const folders: FolderListing['folders'] = [];
		const files: string[] = [];
		let images = 0;
		for (const entry of entries) {
			if (entry.name.startsWith('.')) continue;
			const child = path.join(folder, entry.name);
			if (entry.isDirectory() || (entry.isSymbolicLink() && isFolder(child))) {
				folders.push({ name: entry.name, path: child });
			} else if (imageExtensions.has(path.extname(entry.name).toLowerCase())) images++;
			else files.push(entry.name);
		}
		const byName = (a: string, b: string) => a.localeCompare(b, 'en');
		folders.sort((a, b) => byName(a.name, b.name));
		const atStart =
			this.options.access === 'confined'
				? starts.includes(folder)
				: path.dirname(folder) === folder;
		return {
			path: folder,
			parent: atStart ? null : path.dirname(folder),
			folders: folders.slice(0, listedFolders),
			images,
			files: files.sort(byName).slice(0, listedFiles),
			truncated: folders.length > listedFolders
		};
	}

	private resolveAbsolute(requested: string): string {
		if (!path.isAbsolute(requested)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`A folder to browse must be an absolute path; got ${JSON.stringify(requested)}.`
			);
		}
		return requested;
	}

	/**
	 * Adds a folder at the host's request (`serve --allow-folder`, a test), without a code.
	 * Returns the canonical folder stored.
	 */
	allowOnHost(folder: string): string {
		const canonical = existingFolder(folder);
		const allowed = this.options.allowedFolders();
		if (!allowed.includes(canonical)) this.options.saveAllowedFolders([...allowed, canonical]);
		return canonical;
	}

	/**
	 * A client asks to allow `folder`. With `any` access it is allowed at once. Confined, the
	 * first request prints a code on the host and answers `confirm`; the request repeated with
	 * that code allows the folder. A wrong code counts against the attempts; an expired or used
	 * up one needs a new request.
	 */
	allow(folder: string, code?: string): 'allowed' | 'confirm' {
		if (!path.isAbsolute(folder)) {
			throw new AppFailure(
				'INVALID_REQUEST',
				`A folder to allow must be an absolute path; got ${JSON.stringify(folder)}.`
			);
		}
		const requested = path.resolve(folder);
		if (this.options.access === 'any') {
			this.allowOnHost(requested);
			return 'allowed';
		}
		const now = (this.options.now ?? Date.now)();
		if (code === undefined) {
			const { tellHost } = this.options;
			if (!tellHost) {
				throw new AppFailure(
					'PATH_NOT_ALLOWED',
					'This server cannot confirm a folder. Start it with `noiselab serve --allow-folder DIR`.'
				);
			}
			const digits = crypto.randomInt(0, 100_000_000).toString().padStart(8, '0');
			const issued = `${digits.slice(0, 4)}-${digits.slice(4)}`;
			this.pending = {
				folder: requested,
				code: issued,
				expiresAt: now + codeLifetimeMs,
				attemptsLeft: codeAttempts
			};
			tellHost(
				`A browser asks to let web mode use ${requested}. If that was you, type this code ` +
					`in Settings → Folders: ${issued} (valid 5 minutes).`
			);
			return 'confirm';
		}
		const pending = this.pending;
		if (!pending || pending.folder !== requested || now > pending.expiresAt) {
			this.pending = null;
			throw new AppFailure(
				'INVALID_REQUEST',
				`No code is waiting for ${requested} (codes last 5 minutes). Ask again for a new code.`
			);
		}
		if (!codesMatch(code, pending.code)) {
			pending.attemptsLeft -= 1;
			if (pending.attemptsLeft === 0) this.pending = null;
			throw new AppFailure(
				'INVALID_REQUEST',
				pending.attemptsLeft > 0
					? `That is not the code printed by noiselab serve; ${pending.attemptsLeft} more ${pending.attemptsLeft === 1 ? 'try' : 'tries'}.`
					: 'That is not the code printed by noiselab serve either. Ask again for a new code.'
			);
		}
		this.pending = null;
		this.allowOnHost(requested);
		return 'allowed';
	}

	/** Stops allowing a folder (as stored, or as typed). Always possible: it only narrows. */
	remove(folder: string): void {
		const allowed = this.options.allowedFolders();
		const canonical = (() => {
			try {
				return fs.realpathSync.native(folder);
			} catch {
				return folder;
			}
		})();
		const kept = allowed.filter((entry) => entry !== folder && entry !== canonical);
		if (kept.length !== allowed.length) this.options.saveAllowedFolders(kept);
	}
}

/** Whether `file` is `folder` or lies inside it (both canonical). */
function isInside(file: string, folder: string): boolean {
	return file === folder || file.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep);
}

/**
 * The path with every symlink resolved, for a path that may not exist yet: the nearest
 * existing ancestor is resolved and the rest appended (after `path.resolve` removed `..`).
 */
export function canonicalPath(file: string): string {
	let existing = path.resolve(file);
	const rest: string[] = [];
	for (;;) {
		try {
			return path.join(fs.realpathSync.native(existing), ...rest.reverse());
		} catch {
			const parent = path.dirname(existing);
			if (parent === existing) return path.resolve(file);
			rest.push(path.basename(existing));
			existing = parent;
		}
	}
}

/** The canonical form of a folder that must exist; INVALID_REQUEST otherwise. */
function existingFolder(folder: string): string {
	const canonical = canonicalPath(folder);
	if (!fs.statSync(canonical, { throwIfNoEntry: false })?.isDirectory()) {
		throw new AppFailure('INVALID_REQUEST', `${folder} is not a folder on this machine.`);
	}
	return canonical;
}

function isFolder(file: string): boolean {
	return fs.statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** The entries of a folder to browse; INVALID_REQUEST when it is not a readable folder. */
function readFolder(folder: string): fs.Dirent[] {
	try {
		return fs.readdirSync(folder, { withFileTypes: true });
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new AppFailure(
			'INVALID_REQUEST',
			code === 'ENOENT' || code === 'ENOTDIR'
				? `${folder} is not a folder on this machine.`
				: `Cannot read the folder ${folder} (${code ?? String(error)}).`
		);
	}
}

/** Compares codes in constant time; `12345678` and `1234-5678` are the same code. */
function codesMatch(given: string, expected: string): boolean {
	const a = Buffer.from(given.replace(/\D/g, ''));
	const b = Buffer.from(expected.replace(/\D/g, ''));
	return a.length === b.length && crypto.timingSafeEqual(a, b);
}
