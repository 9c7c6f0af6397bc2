import { describe, expect, it } from 'vitest';
import {
	imagePath,
	sameDataset,
	type DatasetManifest
} from '../../../src/core/generators/manifest';
import {
	defaultParams,
	describeRange,
	paramsValidator,
	parseParamAssignments,
	type ParamSchema
} from '../../../src/core/generators/params';
import { AppFailure } from '../../../src/core/api/errors';
import {
	generateOrExplain,
	outputVersion,
	sameOutputSince,
	type GeneratorDefinition
} from '../../../src/core/generators/generator';
import { Random } from '../../../src/core/generators/random';
import { resolveConfig } from '../../../src/core/generators/registry';

const schema = {
	sigma: {
		kind: 'number',
		label: 'σ',
		help: 'Radius law exponent.',
		min: 1,
		max: 5,
		step: 0.1,
		default: 3
	},
	budget: {
		kind: 'integer',
		label: 'Leaves',
		help: 'Leaf budget.',
		min: 1,
		max: 10000,
		step: 1,
		default: 5000
	},
	textured: { kind: 'boolean', label: 'Textured', help: 'Fill leaves.', default: false },
	colour: {
		kind: 'choice',
		label: 'Colour',
		help: 'Colour law.',
		options: ['uniform', 'natural'],
		default: 'uniform'
	},
	shapes: {
		kind: 'set',
		label: 'Shapes',
		help: 'Shapes.',
		options: ['circle', 'square'],
		default: ['circle']
	}
} as const satisfies ParamSchema;

describe('parameter schemas', () => {
	it('derive defaults', () => {
		expect(defaultParams(schema)).toEqual({
			sigma: 3,
			budget: 5000,
			textured: false,
			colour: 'uniform',
			shapes: ['circle']
		});
	});

	it('validate ranges, integers, choices and sets, naming the field', () => {
		const validate = paramsValidator(schema);
		expect(validate.safeParse({ sigma: 2.5, shapes: ['square', 'circle'] }).success).toBe(true);
		for (const bad of [
			{ sigma: 9 },
			{ budget: 2.5 },
			{ colour: 'red' },
			{ shapes: [] },
			{ shapes: ['circle', 'circle'] },
			{ extra: 1 }
		]) {
			const parsed = validate.safeParse(bad);
			expect(parsed.success, JSON.stringify(bad)).toBe(false);
			// A field error names its path; an unknown field is listed in the issue's keys.
			const issue = parsed.error?.issues[0] as { path: PropertyKey[]; keys?: string[] } | undefined;
			expect(issue?.path[0] ?? issue?.keys?.[0]).toBe(Object.keys(bad)[0]);
		}
	});

	it('parse CLI assignments by kind and explain mistakes', () => {
		expect(
			parseParamAssignments(schema, [
				'sigma=2.5',
				'textured=yes',
				'shapes=circle, square',
				'colour=natural'
			])
		).toEqual({
			ok: true,
			value: { sigma: 2.5, textured: true, shapes: ['circle', 'square'], colour: 'natural' }
		});
		const unknown = parseParamAssignments(schema, ['sigmaa=2']);
		expect(unknown.ok || unknown.message).toContain('Parameters: sigma, budget');
		const notNumber = parseParamAssignments(schema, ['sigma=big']);
		expect(notNumber.ok || notNumber.message).toContain('from 1 to 5');
		expect(parseParamAssignments(schema, ['sigma']).ok).toBe(false);
		expect(describeRange(schema.colour)).toBe('one of uniform, natural');
	});
});

describe('Random', () => {
	it('is deterministic per key and differs across keys', () => {
		const a = new Random(1, 2);
		const b = new Random(1, 2);
		const c = new Random(1, 3);
		const draws = (r: Random) => Array.from({ length: 8 }, () => r.uint32());
		const first = draws(a);
		expect(draws(b)).toEqual(first);
		expect(draws(c)).not.toEqual(first);
	});

	it('draws uniform, integer and normal values with the right moments', () => {
		const random = new Random(42);
		const n = 20000;
		let sum = 0;
		let sumSq = 0;
		const counts = new Float64Array(3);
		let uniformSum = 0;
		for (let i = 0; i < n; i++) {
			const z = random.normal();
			sum += z;
			sumSq += z * z;
			const bucket = random.int(3);
			counts[bucket] = (counts[bucket] as number) + 1;
			uniformSum += random.uniform();
		}
		expect(Math.abs(sum / n)).toBeLessThan(0.03);
		expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.05);
		expect(Math.abs(uniformSum / n - 0.5)).toBeLessThan(0.01);
		for (const count of counts) expect(Math.abs(count / n - 1 / 3)).toBeLessThan(0.015);
	});
});

describe('dataset manifests and layout', () => {
	it('groups images into 8-digit folders of 1000', () => {
		expect(imagePath(0, 'jpg')).toBe('00000000/00000000.jpg');
		expect(imagePath(1234, 'png')).toBe('00001000/00001234.png');
		expect(imagePath(104999, 'jpg')).toBe('00104000/00104999.jpg');
	});

	it('treats a different seed, size or params as another dataset but not a different count', () => {
		const base = {
			generator: { id: 'g', version: 1 },
			params: { a: 1, b: 2 },
			size: 128,
			seed: 0,
			seedScheme: 's',
			format: 'jpg',
			quality: 95,
			layout: 'l',
			count: 10
		} as unknown as DatasetManifest;
		expect(sameDataset(base, { ...base, count: 99, params: { b: 2, a: 1 } })).toBe(true);
		expect(sameDataset(base, { ...base, seed: 1 })).toBe(false);
		expect(sameDataset(base, { ...base, size: 64 })).toBe(false);
		expect(sameDataset(base, { ...base, params: { a: 1, b: 3 } })).toBe(false);
	});

	it('lets a variant bump change the recorded version of only the variants it concerns', () => {
		const generator = {
			id: 'g',
			version: 3,
			variantBumps: [
				{ version: 2, concerns: (p: { fancy: boolean }) => p.fancy, reason: 'fancy fill' },
				{ version: 4, concerns: (p: { fancy: boolean }) => !p.fancy, reason: 'plain edges' }
			]
		} as unknown as GeneratorDefinition;
		const fancy = { fancy: true };
		const plain = { fancy: false };
		expect(outputVersion(generator, fancy)).toBe(3);
		expect(outputVersion(generator, plain)).toBe(4);
		// 3 was a plain bump: it changed every variant, so nothing before it matches today's bytes.
		expect([1, 2, 3, 4, 5].map((v) => sameOutputSince(generator, fancy, v))).toEqual([
			false,
			false,
			true,
			false,
			false
		]);
		expect([1, 2, 3, 4, 5].map((v) => sameOutputSince(generator, plain, v))).toEqual([
			false,
			false,
			false,
			true,
			false
		]);
		const base = {
			generator: { id: 'g', version: 3 },
			params: fancy,
			size: 128,
			seed: 0,
			seedScheme: 's',
			format: 'jpg',
			quality: 95,
			layout: 'l',
			count: 10
		} as unknown as DatasetManifest;
		const other = { ...base, generator: { id: 'g', version: 4 } };
		expect(sameDataset(base, base)).toBe(true);
		// Versions that differ match only where the generator says the bytes did not change.
		expect(sameDataset(base, other)).toBe(false);
		expect(sameDataset(base, other, () => generator)).toBe(false);
		const plainBase = { ...base, params: plain };
		expect(
			sameDataset(
				{ ...plainBase, generator: { id: 'g', version: 3 } },
				{ ...plainBase, generator: { id: 'g', version: 4 } },
				() => generator
			)
		).toBe(false);
	});

	it('keeps dead leaves version 2 for every variant, with untextured version-1 records still matching', () => {
		const untextured = resolveConfig({ preset: 'dead_leaves-squares' });
		const textured = resolveConfig({ preset: 'dead_leaves-textures' });
		if (!untextured.ok || !textured.ok) throw new Error('presets');
		const { generator } = untextured.value;
		expect(outputVersion(generator, untextured.value.params)).toBe(2);
		expect(outputVersion(generator, textured.value.params)).toBe(2);
		expect(sameOutputSince(generator, untextured.value.params, 1)).toBe(true);
		expect(sameOutputSince(generator, untextured.value.params, 2)).toBe(true);
		expect(sameOutputSince(generator, textured.value.params, 1)).toBe(false);
		expect(sameOutputSince(generator, textured.value.params, 2)).toBe(true);
		expect(sameOutputSince(generator, untextured.value.params, 3)).toBe(false);
	});

	it('resolves presets and refuses what does not exist', () => {
		const resolved = resolveConfig({ preset: 'control-white_noise' });
		expect(resolved.ok && resolved.value.size).toBe(128);
		expect(resolveConfig({ generator: 'nope' }).ok).toBe(false);
		expect(resolveConfig({}).ok).toBe(false);
	});
});

describe('a generator that refuses its settings', () => {
	it('is an invalid request that names the parameters by label, not an unexpected error', async () => {
		const resolved = resolveConfig({
			preset: 'dead_leaves-squares',
			params: { rmin: 0.9, rmax: 0.1 },
			size: 32
		});
		if (!resolved.ok) throw new Error(resolved.message);
		const { generator, params, size } = resolved.value;
		const failure = await generateOrExplain(generator, params, 0, 0, size).then(
			() => null,
			(error: unknown) => error
		);
		expect(failure).toBeInstanceOf(AppFailure);
		expect((failure as AppFailure).code).toBe('INVALID_REQUEST');
		expect((failure as AppFailure).message).toMatch(
			/^Dead leaves cannot draw these settings: Smallest radius \(rmin\) .* must be smaller than Largest radius \(rmax\)/
		);
	});
});
