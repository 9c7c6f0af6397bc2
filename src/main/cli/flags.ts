/**
 * Command-line flags in the user's own terms: negative numbers are values, not options, and a
 * schema's complaint about a field is reported against the flag that set it, with what it
 * expects and the value received (`--steps must be at least 1; got -5.`).
 */
import fs from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import type { z } from 'zod';

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * Joins `--flag -5` into `--flag=-5` for flags that take a value, so that `parseArgs` reads a
 * negative number as the flag's value (which validation then judges) instead of refusing it
 * as an ambiguous option.
 */
export function joinNegativeValues(args: readonly string[], options: FlagOptions): string[] {
	const joined: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const arg = args[i] as string;
		const next = args[i + 1];
		const name = arg.startsWith('--') ? arg.slice(2) : null;
		if (
			name !== null &&
			options[name]?.type === 'string' &&
			next !== undefined &&
			/^-(\d|\.\d)/.test(next)
		) {
			joined.push(`${arg}=${next}`);
			i += 1;
		} else joined.push(arg);
	}
	return joined;
}

/** A value as the user typed it: numbers bare, anything else quoted. */
export function shownValue(value: unknown): string {
	if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
		return value;
	}
	return JSON.stringify(value);
}

/** What a schema issue says the field expects, in words that fit after "must be". */
function expectation(issue: z.core.$ZodIssue): string {
	switch (issue.code) {
		case 'too_small':
			return `${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
		case 'too_big':
			return `${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`;
		case 'invalid_type':
			return issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`;
		case 'invalid_value':
			return `one of ${issue.values.map(String).join(', ')}`;
		default:
			return issue.message;
	}
}

/**
 * Turns schema issues into one line per flag. `flagOf` maps a field path (`source.count`) or a
 * prefix of one (`source.config.params`) to the flag that sets it; `values` are the parsed
 * flags, for the value received.
 */
export function flagProblems(
	issues: readonly z.core.$ZodIssue[],
	flagOf: Record<string, string>,
	values: Record<string, unknown>
): string[] {
	return issues.map((issue) => {
		const field = issue.path.map(String).join('.');
		const prefix = Object.keys(flagOf)
			.filter((key) => field === key || field.startsWith(`${key}.`))
			.sort((a, b) => b.length - a.length)[0];
		if (prefix === undefined) return `${field || 'the options'}: ${issue.message}.`;
		const flag = flagOf[prefix] as string;
		const received = values[flag];
		if (received === undefined) return `--${flag} is required (${expectation(issue)}).`;
		return `--${flag} must be ${expectation(issue)}; got ${shownValue(received)}.`;
	});
}

/** Why `folder` cannot be the folder a flag names, or null when it is one. */
export function folderProblem(flag: string, folder: string): string | null {
	const stat = fs.statSync(folder, { throwIfNoEntry: false });
	if (!stat) return `--${flag}: there is no folder at ${folder}.`;
	if (!stat.isDirectory()) return `--${flag}: ${folder} is a file, not a folder.`;
	return null;
}

/** Why `file` cannot be the file a flag names (`what` it should be), or null when it is one. */
export function fileProblem(flag: string, file: string, what = 'file'): string | null {
	const stat = fs.statSync(file, { throwIfNoEntry: false });
	if (!stat) return `--${flag}: there is no file at ${file}.`;
	if (stat.isDirectory()) return `--${flag}: ${file} is a folder, not ${what}.`;
	return null;
}
