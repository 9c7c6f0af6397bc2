import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/api/training';
import {
	clampToControl,
	controlsFor,
	encoderChoices,
	formatValue,
	isModified,
	seedProblem,
	type ParamControl
} from '../../src/renderer/lib/studio/param-controls';
import { generators } from '../../src/core/generators/registry';

describe('schema-to-controls mapping', () => {
	const schema = {
		sigma: { kind: 'number', label: 'σ', help: 'law', min: 0, max: 6, step: 0.1, default: 3 },
		budget: {
			kind: 'integer',
			label: 'Leaves',
			help: 'budget',
			min: 1,
			max: 10000,
			step: 1,
			default: 5000
		},
		textured: { kind: 'boolean', label: 'Textured', help: 'fill', default: false },
		colour: {
			kind: 'choice',
			label: 'Colour',
			help: 'law',
			options: ['paper', 'full_range'],
			default: 'paper'
		},
		shapes: {
			kind: 'set',
			label: 'Shapes',
			help: 'shapes',
			options: ['circle', 'square'],
			default: ['circle']
		}
	} as const;

	it('gives each kind its widget, with label, help, range and default', () => {
		const controls = controlsFor(structuredClone(schema) as never);
		expect(controls.map((control) => [control.name, control.kind])).toEqual([
			['sigma', 'slider'],
			['budget', 'slider'],
			['textured', 'switch'],
			['colour', 'select'],
			['shapes', 'checkboxes']
		]);
		expect(controls[0]).toMatchObject({
			label: 'σ',
			help: 'law',
			min: 0,
			max: 6,
			step: 0.1,
			integer: false,
			defaultValue: 3
		});
		expect(controls[1]).toMatchObject({ integer: true });
		expect(controls[4]).toMatchObject({ options: ['circle', 'square'], defaultValue: ['circle'] });
	});

	it('maps every parameter of every registered generator', () => {
		for (const generator of generators) {
			const controls = controlsFor(generator.params as never);
			expect(controls).toHaveLength(Object.keys(generator.params).length);
			for (const control of controls) {
				expect(control.label.length, `${generator.id}.${control.name}`).toBeGreaterThan(0);
				expect(
					control.help.length,
					`${generator.id}.${control.name} needs help text`
				).toBeGreaterThan(10);
			}
		}
	});

	it('clamps, rounds and snaps typed values to the slider', () => {
		type Slider = Extract<ParamControl, { kind: 'slider' }>;
		const controls = controlsFor(structuredClone(schema) as never);
		const sigma = controls[0] as Slider;
		const budget = controls[1] as Slider;
		expect(clampToControl(sigma, 9)).toBe(6);
		expect(clampToControl(sigma, -1)).toBe(0);
		expect(clampToControl(sigma, 2.34)).toBe(2.3);
		expect(clampToControl(sigma, Number.NaN)).toBe(3);
		expect(clampToControl(budget, 12.6)).toBe(13);
	});

	it('formats values and detects changes from the default', () => {
		const controls = controlsFor(structuredClone(schema) as never);
		const [sigma, , textured, , shapes] = controls as [never, never, never, never, never];
		expect(formatValue(sigma, 0.30000000000000004)).toBe('0.3');
		expect(formatValue(textured, true)).toBe('on');
		expect(isModified(sigma, 3)).toBe(false);
		expect(isModified(sigma, 2.9)).toBe(true);
		expect(isModified(shapes, ['circle'])).toBe(false);
		expect(isModified(shapes, ['square', 'circle'])).toBe(true);
	});
});

describe('encoder controls', () => {
	const [control] = controlsFor({
		encoder: {
			kind: 'encoder',
			label: 'Encoder',
			help: 'which',
			default: 'newest:dead_leaves-mixed'
		}
	}) as [Extract<ParamControl, { kind: 'encoder' }>];
	const run = (id: number, step: number) =>
		({ id, name: `run ${id}`, step, config: { model: 'tiny' } }) as unknown as RunRecord;
	const sha = 'c0ffee'.padEnd(64, '0');

	it('offers the default, every run with a checkpoint, and the current pinned value', () => {
		expect(control).toMatchObject({ kind: 'encoder', defaultValue: 'newest:dead_leaves-mixed' });
		const choices = encoderChoices(control, [run(3, 100), run(2, 0)], `run:9@${sha}`);
		expect(choices).toEqual([
			{ value: 'newest:dead_leaves-mixed', label: 'Newest run on dead_leaves-mixed' },
			{ value: 'run:3', label: 'Run 3 · run 3 (tiny, step 100)' },
			{ value: `run:9@${sha}`, label: 'Run 9 @ c0ffee00…' }
		]);
		expect(encoderChoices(control, [run(3, 100)], 'run:3')).toHaveLength(2);
	});

	it('shows references shortly', () => {
		expect(formatValue(control, 'run:5')).toBe('Run 5 (newest checkpoint)');
		expect(formatValue(control, 'newest:stat-wmm')).toBe('Newest run on stat-wmm');
	});
});

describe('the Studio seed', () => {
	it('refuses what is not a whole number from 0 to 2³²−1, saying what it got', () => {
		expect(seedProblem(0)).toBeNull();
		expect(seedProblem(2 ** 32 - 1)).toBeNull();
		expect(seedProblem(-5)).toBe(
			'The seed must be a whole number from 0 to 4,294,967,295; got -5.'
		);
		expect(seedProblem(1.5)).toMatch(/got 1\.5\.$/);
		expect(seedProblem(Number.NaN)).toMatch(/got nothing\.$/);
	});
});
