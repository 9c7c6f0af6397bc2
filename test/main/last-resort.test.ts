import { describe, expect, it } from 'vitest';
import {
	isSocketLevelError,
	lastResortHandler,
	lastResortMarker
} from '../../src/main/server/last-resort';

function withCode(message: string, code: string): Error {
	return Object.assign(new Error(message), { code });
}

describe('the web server’s last-resort handler', () => {
	it('tells errors of one client connection from everything else', () => {
		expect(isSocketLevelError(withCode('read ECONNRESET', 'ECONNRESET'))).toBe(true);
		expect(isSocketLevelError(withCode('write EPIPE', 'EPIPE'))).toBe(true);
		expect(isSocketLevelError(withCode('invalid opcode 3', 'WS_ERR_INVALID_OPCODE'))).toBe(true);
		expect(isSocketLevelError(withCode('Parse Error', 'HPE_INVALID_METHOD'))).toBe(true);
		// A disk, a database or a bug is not a socket: surviving those could corrupt data.
		expect(isSocketLevelError(withCode('no space left', 'ENOSPC'))).toBe(false);
		expect(isSocketLevelError(withCode('database is locked', 'SQLITE_BUSY'))).toBe(false);
		expect(isSocketLevelError(new TypeError('Invalid URL'))).toBe(false);
		expect(isSocketLevelError('ECONNRESET')).toBe(false);
		expect(isSocketLevelError(null)).toBe(false);
	});

	it('logs a socket error and keeps the process; logs anything else and exits 1', () => {
		const lines: string[] = [];
		const exits: number[] = [];
		const handle = lastResortHandler(
			(line) => lines.push(line),
			(code) => exits.push(code)
		);
		handle(withCode('read ECONNRESET', 'ECONNRESET'), 'uncaughtException');
		expect(exits).toEqual([]);
		expect(lines[0]).toContain(`${lastResortMarker} socket error (ECONNRESET`);
		handle(new TypeError('boom'), 'uncaughtException');
		expect(exits).toEqual([1]);
		expect(lines[1]).toContain('exception; stopping');
		expect(lines[1]).toContain('TypeError: boom');
		handle(withCode('write EPIPE', 'EPIPE'), 'unhandledRejection');
		handle(new Error('lost'), 'unhandledRejection');
		expect(exits).toEqual([1, 1]);
		expect(lines[3]).toContain('promise rejection; stopping');
	});
});
