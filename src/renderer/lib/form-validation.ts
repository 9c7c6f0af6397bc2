/**
 * What every form shares when it turns its fields into an API request: blank numbers, counts in
 * words, and the wording of a zod issue next to its field. The forms validate with the contract's
 * own schemas, so only the wording lives here.
 */
import type { z } from 'zod';

/** A zod issue of a contract schema. */
export type Issue = z.core.$ZodIssue;

/** Errors by form field (a field's key, or `form` for the rest). */
export type FieldErrors = Partial<Record<string, string>>;

/** `1 value`, `3 values`; `pluralNoun` for irregular nouns (`entry`, `entries`). */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
	return `${count.toLocaleString('en-US')} ${count === 1 ? noun : pluralNoun}`;
}

/** A blank number input (null, or NaN from a half-typed value) becomes `undefined`: missing. */
export function numberOrUndefined(value: number | null): number | undefined {
	return value === null || Number.isNaN(value) ? undefined : value;
}

/** Whether a number input is blank. */
export function isBlank(value: number | null): boolean {
	return numberOrUndefined(value) === undefined;
}

/** What a list field holds, for "At least 1 value." */
export interface ListNoun {
	one: string;
	many: string;
}

const values: ListNoun = { one: 'value', many: 'values' };

/**
 * An issue in words a form shows next to its field: the bound it broke (with its number), or
 * the schema's own message for the cross-field checks, always a sentence.
 */
export function issueMessage(issue: Issue, list: ListNoun = values): string {
	switch (issue.code) {
		case 'too_small':
			if (issue.origin === 'string')
				return Number(issue.minimum) <= 1 ? 'Required.' : sentence(issue.message);
			if (issue.origin === 'array')
				return `At least ${plural(Number(issue.minimum), list.one, list.many)}.`;
			return issue.inclusive ? `At least ${issue.minimum}.` : `Must be more than ${issue.minimum}.`;
		case 'too_big':
			if (issue.origin === 'string')
				return `At most ${plural(Number(issue.maximum), 'character')}.`;
			if (issue.origin === 'array')
				return `At most ${plural(Number(issue.maximum), list.one, list.many)}.`;
			return issue.inclusive ? `At most ${issue.maximum}.` : `Must be less than ${issue.maximum}.`;
		case 'invalid_type':
			return issue.expected === 'int' ? 'Must be a whole number.' : 'Enter a number.';
		default:
			return sentence(issue.message);
	}
}

function sentence(message: string): string {
	return message.endsWith('.') ? message : `${message}.`;
}

/** Adds each issue's message to the field `fieldOf` names, keeping the first per field. */
export function addIssues(
	errors: FieldErrors,
	issues: readonly Issue[],
	fieldOf: (issue: Issue) => string,
	list?: ListNoun
): FieldErrors {
	for (const issue of issues) errors[fieldOf(issue)] ??= issueMessage(issue, list);
	return errors;
}
