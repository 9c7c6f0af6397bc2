import { describe, expect, it } from 'vitest';
import { AppFailure, errorCodes, toAppError, unwrap } from '../../src/core/api/errors';

describe('errors', () => {
	it('keeps the code of an AppFailure', () => {
		expect(toAppError(new AppFailure('NOT_FOUND', 'No run 7.'))).toEqual({
			code: 'NOT_FOUND',
			message: 'No run 7.'
		});
	});

	it('turns any other exception into INTERNAL with its message', () => {
		expect(toAppError(new TypeError('x is undefined'))).toEqual({
			code: 'INTERNAL',
			message: 'Unexpected error: x is undefined'
		});
		expect(toAppError('plain string').message).toContain('plain string');
	});

	it('unwrap returns the value or throws the failure with its code', () => {
		expect(unwrap({ ok: true, value: 3 })).toBe(3);
		expect(() => unwrap({ ok: false, error: { code: 'CANCELLED', message: 'stop' } })).toThrow(
			expect.objectContaining({ code: 'CANCELLED', message: 'stop' })
		);
	});

	it('gives every code a hint that says what to do', () => {
		for (const [code, entry] of Object.entries(errorCodes)) {
			expect(entry.hint.length, code).toBeGreaterThan(20);
		}
	});
});
