/**
 * Maps a generator's parameter schema to UI controls: the one place that decides which widget
 * each parameter kind gets, so every generator's panel is derived, never hand-written.
 */
import type { GeneratorInfo } from '../../../core/api/generators';
import type { RunRecord } from '../../../core/api/training';
import { parseEncoderReference } from '../../../core/generators/trained-encoders';

type Spec = GeneratorInfo['params'][string];

/** A control the Studio renders for one parameter. */
export type ParamControl =
	| {
			name: string;
			kind: 'slider';
			label: string;
			help: string;
			min: number;
			max: number;
			step: number;
			integer: boolean;
			defaultValue: number;
	  }
	| { name: string; kind: 'switch'; label: string; help: string; defaultValue: boolean }
	| {
			name: string;
			kind: 'select';
			label: string;
			help: string;
			options: string[];
			defaultValue: string;
	  }
	| {
			name: string;
			kind: 'checkboxes';
			label: string;
			help: string;
			options: string[];
			defaultValue: string[];
	  }
	| { name: string; kind: 'encoder'; label: string; help: string; defaultValue: string };

/** The controls of a schema, in declaration order. */
export function controlsFor(params: GeneratorInfo['params']): ParamControl[] {
	return Object.entries(params).map(([name, spec]) => controlFor(name, spec));
}

function controlFor(name: string, spec: Spec): ParamControl {
	switch (spec.kind) {
		case 'number':
		case 'integer':
			return {
				name,
				kind: 'slider',
				label: spec.label,
				help: spec.help,
				min: spec.min,
				max: spec.max,
				step: spec.step,
				integer: spec.kind === 'integer',
				defaultValue: spec.default
			};
		case 'boolean':
			return {
				name,
				kind: 'switch',
				label: spec.label,
				help: spec.help,
				defaultValue: spec.default
			};
		case 'choice':
			return {
				name,
				kind: 'select',
				label: spec.label,
				help: spec.help,
				options: spec.options,
				defaultValue: spec.default
			};
		case 'set':
			return {
				name,
				kind: 'checkboxes',
				label: spec.label,
				help: spec.help,
				options: spec.options,
				defaultValue: [...spec.default]
			};
		case 'encoder':
			return {
				name,
				kind: 'encoder',
				label: spec.label,
				help: spec.help,
				defaultValue: spec.default
			};
	}
}

/** One entry of an encoder picker. */
export interface EncoderChoice {
	value: string;
	label: string;
}

/**
 * The encoders a parameter can name: its default (`newest:PRESET`), every run that has trained
 * at least one step (its newest checkpoint, `run:ID`), and the current value when it is none of
 * these (a pinned checkpoint of a saved preset).
 */
export function encoderChoices(
	control: Extract<ParamControl, { kind: 'encoder' }>,
	runs: readonly RunRecord[],
	current: string
): EncoderChoice[] {
	const choices: EncoderChoice[] = [
		{ value: control.defaultValue, label: describeEncoder(control.defaultValue) }
	];
	for (const run of runs) {
		if (run.step === 0) continue;
		choices.push({
			value: `run:${run.id}`,
			label: `Run ${run.id} · ${run.name} (${run.config.model}, step ${run.step})`
		});
	}
	if (!choices.some((choice) => choice.value === current)) {
		choices.push({ value: current, label: describeEncoder(current) });
	}
	return choices;
}

/** A short description of an encoder reference, for labels and the value column. */
export function describeEncoder(value: string): string {
	const reference = parseEncoderReference(value);
	if (!reference) return value;
	if (reference.kind === 'newest') return `Newest run on ${reference.preset}`;
	return reference.sha256 === null
		? `Run ${reference.runId} (newest checkpoint)`
		: `Run ${reference.runId} @ ${reference.sha256.slice(0, 8)}…`;
}

/** Clamps and rounds a slider value typed by hand (the number field accepts anything). */
export function clampToControl(
	control: Extract<ParamControl, { kind: 'slider' }>,
	value: number
): number {
	if (!Number.isFinite(value)) return control.defaultValue;
	const clamped = Math.min(control.max, Math.max(control.min, value));
	if (control.integer) return Math.round(clamped);
	// Snap to the step grid from min, keeping float noise out of the displayed value.
	const steps = Math.round((clamped - control.min) / control.step);
	const snapped = control.min + steps * control.step;
	const decimals = Math.max(0, -Math.floor(Math.log10(control.step)) + 1);
	return Number(Math.min(control.max, snapped).toFixed(decimals));
}

/** Formats a value for display next to its control. */
export function formatValue(control: ParamControl, value: unknown): string {
	if (control.kind === 'slider') {
		const number = Number(value);
		return control.integer ? String(Math.round(number)) : String(Number(number.toFixed(4)));
	}
	if (control.kind === 'switch') return value ? 'on' : 'off';
	if (control.kind === 'checkboxes') return (value as string[]).join(', ');
	if (control.kind === 'encoder') return describeEncoder(String(value));
	return String(value);
}

/** Whether a value differs from the control's default (to show the reset button). */
export function isModified(control: ParamControl, value: unknown): boolean {
	if (control.kind === 'checkboxes') {
		const current = [...(value as string[])].sort();
		const initial = [...control.defaultValue].sort();
		return current.join('\n') !== initial.join('\n');
	}
	return value !== control.defaultValue;
}

/** Why `seed` is not a usable seed, or null. */
export function seedProblem(seed: number): string | null {
	if (Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 32 - 1) return null;
	const got = Number.isNaN(seed) ? 'nothing' : String(seed);
	return `The seed must be a whole number from 0 to 4,294,967,295; got ${got}.`;
}
