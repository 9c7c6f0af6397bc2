/**
 * Generator parameters are declared once, as a schema with labels, ranges, steps, defaults and
 * help. The CLI flags (`--param k=v`), the UI controls, request validation and the manifests of
 * exported datasets are all derived from it.
 */
import { z } from 'zod';
import { encoderReferenceForms, parseEncoderReference } from './trained-encoders';

interface BaseSpec {
	label: string;
	/** One or two sentences: what the parameter does, and the paper's value where it has one. */
	help: string;
}

/** A real number in [min, max]; the UI shows a slider with `step`. */
export interface NumberSpec extends BaseSpec {
	kind: 'number';
	min: number;
	max: number;
	step: number;
	default: number;
}

/** A whole number in [min, max]. */
export interface IntegerSpec extends BaseSpec {
	kind: 'integer';
	min: number;
	max: number;
	step: number;
	default: number;
}

/** On or off. */
export interface BooleanSpec extends BaseSpec {
	kind: 'boolean';
	default: boolean;
}

/** One value out of a list. */
export interface ChoiceSpec<V extends string = string> extends BaseSpec {
	kind: 'choice';
	options: readonly V[];
	default: V;
}

/** A non-empty subset of a list (e.g. the leaf shapes in use). */
export interface SetSpec<V extends string = string> extends BaseSpec {
	kind: 'set';
	options: readonly V[];
	default: readonly V[];
}

/**
 * A trained encoder: `newest:PRESET`, `run:ID` or `run:ID@SHA256` (see `trained-encoders.ts`).
 * The app resolves the first two to the last before generating.
 */
export interface EncoderParamSpec extends BaseSpec {
	kind: 'encoder';
	default: string;
}

/** Any parameter. */
export type ParamSpec =
	NumberSpec | IntegerSpec | BooleanSpec | ChoiceSpec | SetSpec | EncoderParamSpec;

/** A generator's parameters by name. */
export type ParamSchema = Readonly<Record<string, ParamSpec>>;

/** The value type a spec describes. */
export type ParamValue<S extends ParamSpec> = S extends NumberSpec | IntegerSpec
	? number
	: S extends BooleanSpec
		? boolean
		: S extends ChoiceSpec<infer V>
			? V
			: S extends SetSpec<infer V>
				? V[]
				: S extends EncoderParamSpec
					? string
					: never;

/** A complete set of values for a schema. */
export type ParamValues<S extends ParamSchema> = { -readonly [K in keyof S]: ParamValue<S[K]> };

/** The schema's defaults. */
export function defaultParams<S extends ParamSchema>(schema: S): ParamValues<S> {
	return Object.fromEntries(
		Object.entries(schema).map(([name, spec]) => [
			name,
			spec.kind === 'set' ? [...spec.default] : spec.default
		])
	) as ParamValues<S>;
}

function fieldValidator(name: string, spec: ParamSpec): z.ZodType {
	switch (spec.kind) {
		case 'number':
			return z.number().finite().min(spec.min).max(spec.max);
		case 'integer':
			return z.number().int().min(spec.min).max(spec.max);
		case 'boolean':
			return z.boolean();
		case 'choice':
			return z.enum(spec.options as [string, ...string[]]);
		case 'set':
			return z
				.array(z.enum(spec.options as [string, ...string[]]))
				.min(1, `${name} needs at least one of ${spec.options.join(', ')}`)
				.refine((values) => new Set(values).size === values.length, `${name} lists a value twice`);
		case 'encoder':
			return z.string().refine((value) => parseEncoderReference(value) !== null, {
				error: (issue) =>
					`${name} must be ${encoderReferenceForms}; got ${JSON.stringify(issue.input)}`
			});
	}
}

/**
 * A strict validator for partial parameter overrides: unknown names, wrong types and values
 * outside the range are refused with a message that names the range.
 */
export function paramsValidator(schema: ParamSchema): z.ZodType<Record<string, unknown>> {
	return z
		.object(
			Object.fromEntries(
				Object.entries(schema).map(([name, spec]) => [name, fieldValidator(name, spec).optional()])
			)
		)
		.strict() as unknown as z.ZodType<Record<string, unknown>>;
}

/**
 * Parses `name=value` strings (CLI `--param`) into typed values using the schema: numbers for
 * number/integer, `true|false|1|0|yes|no` for booleans, comma-separated lists for sets. Range
 * checks are left to {@link paramsValidator}.
 */
export function parseParamAssignments(
	schema: ParamSchema,
	assignments: readonly string[]
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
	const values: Record<string, unknown> = {};
	for (const assignment of assignments) {
		const split = assignment.indexOf('=');
		if (split <= 0)
			return { ok: false, message: `Expected name=value, got ${JSON.stringify(assignment)}.` };
		const name = assignment.slice(0, split).trim();
		const text = assignment.slice(split + 1).trim();
		const spec = Object.hasOwn(schema, name) ? schema[name] : undefined;
		if (!spec) {
			return {
				ok: false,
				message: `Unknown parameter "${name}". Parameters: ${Object.keys(schema).join(', ') || '(none)'}.`
			};
		}
		switch (spec.kind) {
			case 'number':
			case 'integer': {
				const number = Number(text);
				if (text === '' || !Number.isFinite(number)) {
					return {
						ok: false,
						message: `${name} must be a number from ${spec.min} to ${spec.max}; got ${JSON.stringify(text)}.`
					};
				}
				values[name] = number;
				break;
			}
			case 'boolean': {
				const lowered = text.toLowerCase();
				if (!['true', 'false', '1', '0', 'yes', 'no'].includes(lowered)) {
					return {
						ok: false,
						message: `${name} must be true or false; got ${JSON.stringify(text)}.`
					};
				}
				values[name] = ['true', '1', 'yes'].includes(lowered);
				break;
			}
			case 'choice':
			case 'encoder':
				values[name] = text;
				break;
			case 'set':
				values[name] = text
					.split(',')
					.map((part) => part.trim())
					.filter(Boolean);
				break;
		}
	}
	return { ok: true, value: values };
}

/** Formats a spec's range for messages and help: `0.5–3.5 (step 0.1)`, `one of a, b`. */
export function describeRange(spec: ParamSpec): string {
	switch (spec.kind) {
		case 'number':
		case 'integer':
			return `${spec.min}–${spec.max}`;
		case 'boolean':
			return 'true or false';
		case 'choice':
			return `one of ${spec.options.join(', ')}`;
		case 'set':
			return `a comma-separated subset of ${spec.options.join(', ')}`;
		case 'encoder':
			return encoderReferenceForms;
	}
}
