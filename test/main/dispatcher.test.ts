import { describe, expect, it, vi } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { apiMethodNames } from '../../src/core/api/methods';
import { createDispatcher, type ApiHandlers } from '../../src/main/api/dispatcher';

function handlers(overrides: Partial<ApiHandlers>): ApiHandlers {
	const unused = () => {
		throw new Error('not used in this test');
	};
	const all = Object.fromEntries(
		apiMethodNames.map((method) => [method, unused])
	) as unknown as ApiHandlers;
	return { ...all, ...overrides };
}

describe('createDispatcher', () => {
	it('passes validated params, with defaults, and the caller when known, to the handler', async () => {
		const doctor = vi.fn(() => ({}) as never);
		const dispatch = createDispatcher(handlers({ 'system.doctor': doctor }));
		await dispatch('system.doctor', {});
		expect(doctor).toHaveBeenLastCalledWith({ refresh: false }, undefined);
		const caller = { id: 'tab-1', signal: new AbortController().signal };
		await dispatch('system.doctor', { refresh: true }, caller);
		expect(doctor).toHaveBeenLastCalledWith({ refresh: true }, caller);
	});

	it('does not call the handler for an invalid request', async () => {
		const update = vi.fn();
		const result = await createDispatcher(handlers({ 'settings.update': update }))(
			'settings.update',
			{
				backend: 42
			}
		);
		expect(update).not.toHaveBeenCalled();
		expect(result.ok || result.error.code).toBe('INVALID_REQUEST');
	});

	it('keeps the code of an AppFailure thrown by a handler', async () => {
		const result = await createDispatcher(
			handlers({
				'settings.get': () => {
					throw new AppFailure('STORE_UNAVAILABLE', 'disk gone');
				}
			})
		)('settings.get', {});
		expect(result).toEqual({
			ok: false,
			error: { code: 'STORE_UNAVAILABLE', message: 'disk gone' }
		});
	});

	it('turns an unexpected exception into INTERNAL instead of throwing', async () => {
		const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
		const result = await createDispatcher(
			handlers({
				'settings.get': async () => {
					throw new RangeError('boom');
				}
			})
		)('settings.get', {});
		expect(result.ok || result.error).toEqual({
			code: 'INTERNAL',
			message: 'Unexpected error: boom'
		});
		quiet.mockRestore();
	});
});
