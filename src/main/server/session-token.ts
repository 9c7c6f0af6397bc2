/**
 * The web mode's session token, kept in the data folder so that a restarted `noiselab serve`
 * accepts the tabs already open on it. Only this user may read it (it grants the whole API);
 * `serve --new-token` replaces it, which locks every open tab out.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The token file's name inside the data folder. */
export const tokenFileName = 'serve-token';

/** What a stored token must look like: 32 base64url characters (24 random bytes). */
const tokenPattern = /^[A-Za-z0-9_-]{32}$/;

/** The token for `dataDir`, and whether it was made now (first start, rotation, unreadable). */
export interface SessionToken {
	token: string;
	created: boolean;
	file: string;
}

/**
 * Reads the stored token (tightening the file to user-only when it was left readable by others),
 * or makes, stores and returns a new one when there is none, it is malformed, or `rotate` asks.
 */
export function loadSessionToken(dataDir: string, rotate = false): SessionToken {
	const file = path.join(dataDir, tokenFileName);
	if (!rotate) {
		const stored = readToken(file);
		if (stored !== null) {
			if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
			return { token: stored, created: false, file };
		}
	}
	const token = crypto.randomBytes(24).toString('base64url');
	// Written beside the file and renamed over it: a crash leaves the old token or the new one.
	const temporary = `${file}.${process.pid}.tmp`;
	fs.mkdirSync(dataDir, { recursive: true });
	fs.writeFileSync(temporary, `${token}\n`, { mode: 0o600 });
	fs.chmodSync(temporary, 0o600);
	fs.renameSync(temporary, file);
	return { token, created: true, file };
}

function readToken(file: string): string | null {
	try {
		const text = fs.readFileSync(file, 'utf8').trim();
		return tokenPattern.test(text) ? text : null;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
		throw error;
	}
}
