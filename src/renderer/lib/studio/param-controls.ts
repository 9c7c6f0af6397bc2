/**
 * Maps a generator's parameter schema to UI controls: the one place that decides which widget
 * each parameter kind gets, so every generator's panel is derived, never hand-written.
 */
import type { GeneratorInfo } from '../../../core/api/generators';

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
	  };

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
	}
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
