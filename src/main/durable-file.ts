import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes `bytes` so that `file` is either its old self or complete, even if the process or the
 * machine stops half-way: into a temporary file beside it, flushed to disk, then renamed over
 * it. On failure the temporary file is removed and the error (e.g. ENOSPC) is rethrown.
 */
export function writeFileDurably(file: string, bytes: Uint8Array): void {
	const temporary = `${file}.${process.pid}.tmp`;
	try {
		fs.mkdirSync(path.dirname(file), { recursive: true });
		const fd = fs.openSync(temporary, 'w');
		try {
			fs.writeSync(fd, bytes);
			fs.fsyncSync(fd);
		} finally {
			fs.closeSync(fd);
		}
		fs.renameSync(temporary, file);
	} catch (error) {
		fs.rmSync(temporary, { force: true });
		throw error;
	}
}
