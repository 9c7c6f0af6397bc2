import { describe, expect, it } from 'vitest';
import { apiMethods } from '../../src/core/api/contract';
import { maxUploadBytes } from '../../src/core/api/explain';
import { apiMethodNames } from '../../src/core/api/methods';
import { validateRequest } from '../../src/core/api/validate';

describe('validateRequest', () => {
	it('refuses an unknown method with UNKNOWN_METHOD and lists the known ones', () => {
		const result = validateRequest('system.reboot', {});
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.error.code).toBe('UNKNOWN_METHOD');
		expect(result.error.message).toContain('"system.reboot"');
		expect(result.error.message).toContain('system.doctor');
	});

	it('quotes an unknown method name cut short, never megabytes of it', () => {
		const result = validateRequest('m'.repeat(2 ** 20), {});
		expect(result.ok || result.error.code).toBe('UNKNOWN_METHOD');
		expect(result.ok || result.error.message).toContain(`"${'m'.repeat(76)}…`);
		expect(result.ok || result.error.message.length).toBeLessThan(2000);
	});

	it('refuses an upload over the limit with the image size and the limit', () => {
		const result = validateRequest('explain.compute', {
			encoders: [{ runId: 1 }],
			dataset: 'fashion-mnist-mini',
			upload: { name: 'big.jpg', bytes: new Uint8Array(maxUploadBytes + 2 ** 19) }
		});
		expect(result.ok || result.error.code).toBe('INVALID_REQUEST');
		expect(result.ok || result.error.message).toContain(
			'upload.bytes: the image is 20.5 MiB; uploads may be at most 20 MiB'
		);
	});

	it.each([null, 42, ['system.status'], { name: 'system.status' }])(
		'refuses a non-string method %j',
		(method) => {
			const result = validateRequest(method, {});
			expect(result.ok || result.error.code).toBe('UNKNOWN_METHOD');
		}
	);

	it('refuses a field of the wrong type with INVALID_REQUEST naming the field', () => {
		const result = validateRequest('system.doctor', { refresh: 'yes' });
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.error.code).toBe('INVALID_REQUEST');
		expect(result.error.message).toMatch(/system\.doctor: refresh: .*boolean/);
	});

	it('refuses unknown fields, so that a typo is not silently ignored', () => {
		const result = validateRequest('settings.update', { backnd: 'wasm' });
		expect(result.ok || result.error.code).toBe('INVALID_REQUEST');
		expect(result.ok || result.error.message).toContain('backnd');
	});

	it('refuses a value outside an enum and says which values are allowed', () => {
		const result = validateRequest('settings.update', { backend: 'gpu' });
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.error.code).toBe('INVALID_REQUEST');
		expect(result.error.message).toContain('backend');
		expect(result.error.message).toContain('"wasm"');
	});

	it('refuses a non-object payload', () => {
		const result = validateRequest('settings.get', 'all');
		expect(result.ok || result.error.code).toBe('INVALID_REQUEST');
	});

	it('accepts a valid request and applies defaults', () => {
		expect(validateRequest('system.doctor', {})).toEqual({
			ok: true,
			value: { method: 'system.doctor', params: { refresh: false } }
		});
		expect(validateRequest('settings.update', { backend: 'cpu' })).toEqual({
			ok: true,
			value: { method: 'settings.update', params: { backend: 'cpu' } }
		});
	});

	it('treats missing params as an empty object', () => {
		expect(validateRequest('system.status', undefined).ok).toBe(true);
	});

	it('has a schema for every method name and no schema without a name', () => {
		expect(Object.keys(apiMethods).sort()).toEqual([...apiMethodNames].sort());
	});
});
