import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/core/format';

describe('formatDuration', () => {
	it('uses seconds, minutes or hours as the size calls for', () => {
		expect(formatDuration(0.4)).toBe('0 s');
		expect(formatDuration(59.4)).toBe('59 s');
		expect(formatDuration(185)).toBe('3 min 05 s');
		expect(formatDuration(7620)).toBe('2 h 07 min');
	});

	it('says ? for what is not a duration', () => {
		expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('?');
		expect(formatDuration(Number.NaN)).toBe('?');
		expect(formatDuration(-1)).toBe('?');
	});
});
