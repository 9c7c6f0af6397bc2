import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
	addIssues,
	issueMessage,
	numberOrUndefined,
	plural
} from '../../src/renderer/lib/form-validation';
import {
	buildEvaluateRequest,
	defaultEvalForm,
	evalAdvancedKeys
} from '../../src/renderer/lib/evaluation/eval-form';

const issuesOf = (schema: z.ZodType, value: unknown) => {
	const parsed = schema.safeParse(value);
	if (parsed.success) throw new Error('expected issues');
	return parsed.error.issues;
};

describe('the shared form wording', () => {
	it('counts in words, irregular plurals included', () => {
		expect(plural(1, 'value')).toBe('1 value');
		expect(plural(2, 'entry', 'entries')).toBe('2 entries');
		expect(plural(12_000, 'image')).toBe('12,000 images');
	});

	it('treats blank and half-typed numbers as missing', () => {
		expect(numberOrUndefined(null)).toBeUndefined();
		expect(numberOrUndefined(Number.NaN)).toBeUndefined();
		expect(numberOrUndefined(0)).toBe(0);
	});

	it('words bounds, types, lists and cross-field checks as sentences', () => {
		const [small] = issuesOf(z.number().min(0), -5);
		expect(issueMessage(small as never)).toBe('At least 0.');
		const [whole] = issuesOf(z.number().int(), 1.5);
		expect(issueMessage(whole as never)).toBe('Must be a whole number.');
		const [list] = issuesOf(z.array(z.number()).max(4), [1, 2, 3, 4, 5]);
		expect(issueMessage(list as never)).toBe('At most 4 values.');
		expect(issueMessage(list as never, { one: 'milestone', many: 'milestones' })).toBe(
			'At most 4 milestones.'
		);
		const [custom] = issuesOf(
			z.number().refine(() => false, { message: 'Lower than the maximum' }),
			1
		);
		expect(issueMessage(custom as never)).toBe('Lower than the maximum.');
		const errors = addIssues(
			{ a: 'kept' },
			issuesOf(z.object({ a: z.number(), b: z.number() }), {}),
			(issue) => String(issue.path[0])
		);
		expect(errors).toEqual({ a: 'kept', b: 'Enter a number.' });
	});

	it('opens Evaluate’s Advanced for any of its invalid fields, kNN k included', () => {
		const built = buildEvaluateRequest({ ...defaultEvalForm(1), protocol: 'knn', knnK: '0' });
		expect(built.ok).toBe(false);
		if (built.ok) return;
		expect(
			Object.keys(built.errors).every((key) =>
				(evalAdvancedKeys as readonly string[]).includes(key)
			)
		).toBe(true);
		expect(built.errors.knnK).toBeDefined();
	});
});
