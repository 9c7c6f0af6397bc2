import { describe, expect, it } from 'vitest';
import {
	explainActivationsParamsSchema,
	explainBatchParamsSchema,
	explainNeighboursParamsSchema,
	explainParamsSchema
} from '../../src/core/api/explain';
import type { RunRecord } from '../../src/core/api/training';
import {
	addEncoderPick,
	buildActivationsParams,
	buildBatchParams,
	buildEncoderRefs,
	buildExplainParams,
	buildNeighboursParams,
	buildTarget,
	checkUpload,
	defaultEncoderPicks,
	evaluationEncoderPicks,
	describeChannel,
	describePage,
	describePrediction,
	describeProbe,
	exportFileName,
	indexAtPosition,
	isFlatMap,
	lastIndex,
	maxEncoders,
	pageOffsetFor,
	parseChannel,
	perClassRows,
	positionOfIndex,
	progressShare,
	randomisationVerdict,
	removeEncoderPick,
	stepPosition,
	targetKinds,
	targetMismatch,
	targetNeedsClass,
	type ImageChoice
} from '../../src/renderer/lib/explain/explain-form';
import {
	colorize,
	colormapTables,
	differenceMap,
	jetColor,
	overlay
} from '../../src/core/explain/colormap';
import {
	describeAgreement,
	formatAuc,
	meanDifference
} from '../../src/renderer/lib/explain/heatmap';

describe('jet colour map', () => {
	it('runs dark blue → cyan → yellow → dark red like cv2.COLORMAP_JET', () => {
		expect(jetColor(0)).toEqual([0, 0, 128]);
		expect(jetColor(255)).toEqual([128, 0, 0]);
		// A quarter of the way: pure blue turning cyan; halfway: green-ish; three quarters: yellow-red.
		const [r1, g1, b1] = jetColor(64);
		expect(b1).toBe(255);
		expect(r1).toBe(0);
		expect(g1).toBeGreaterThan(100);
		const [r2, g2, b2] = jetColor(128);
		expect(g2).toBe(255);
		expect(r2).toBeGreaterThan(100);
		expect(b2).toBeGreaterThan(100);
		expect(jetColor(191)).toEqual([255, jetColor(191)[1], 0]);
	});

	it('clamps values outside 0–255 and matches its lookup table', () => {
		expect(jetColor(-20)).toEqual(jetColor(0));
		expect(jetColor(400)).toEqual(jetColor(255));
		expect(colormapTables.jet.length).toBe(768);
		expect([...colormapTables.jet.subarray(100 * 3, 101 * 3)]).toEqual(jetColor(100));
	});

	it('colours a map pixel by pixel', () => {
		const rgb = colorize(new Uint8Array([0, 255]));
		expect([...rgb]).toEqual([0, 0, 128, 128, 0, 0]);
	});
});

describe('overlay', () => {
	const image = new Uint8Array([10, 20, 30, 200, 200, 200]);
	const map = new Uint8Array([0, 255]);

	it('shows the image at opacity 0 and only the map at opacity 1', () => {
		expect([...overlay(image, map, 0)]).toEqual([...image]);
		expect([...overlay(image, map, 1)]).toEqual([...colorize(map)]);
	});

	it('blends linearly in between and clamps the opacity', () => {
		expect([...overlay(image, map, 0.5)]).toEqual([5, 10, 79, 164, 100, 100]);
		expect([...overlay(image, map, 3)]).toEqual([...colorize(map)]);
	});

	it('rejects a map of another size', () => {
		expect(() => overlay(image, new Uint8Array(3), 0.5)).toThrow(/pixels/);
	});
});

describe('differenceMap', () => {
	it('is |A − B| per pixel, symmetric and zero for equal maps', () => {
		const a = new Uint8Array([0, 100, 255, 7]);
		const b = new Uint8Array([255, 40, 255, 9]);
		expect([...differenceMap(a, b)]).toEqual([255, 60, 0, 2]);
		expect([...differenceMap(b, a)]).toEqual([255, 60, 0, 2]);
		expect(meanDifference(differenceMap(a, a))).toBe(0);
		expect(meanDifference(differenceMap(a, b))).toBeCloseTo(317 / 4 / 255, 10);
	});

	it('rejects maps of different sizes', () => {
		expect(() => differenceMap(new Uint8Array(2), new Uint8Array(3))).toThrow(/size/);
	});
});

describe('formatting', () => {
	it('formats AUCs and describes the agreement in words', () => {
		expect(formatAuc(0.12345)).toBe('0.123');
		expect(formatAuc(Number.NaN)).toBe('—');
		expect(describeAgreement(null)).toMatch(/not defined/);
		expect(describeAgreement(0.82)).toBe('0.82 — strong agreement');
		expect(describeAgreement(0.05)).toBe('0.05 — no agreement');
		expect(describeAgreement(-0.5)).toBe('-0.50 — moderate inverse agreement');
	});
});

function run(id: number, createdAt: string, status: RunRecord['status']): RunRecord {
	return { id, createdAt, status, step: 100 } as unknown as RunRecord;
}

const runs = [
	run(1, '2026-01-01T00:00:00Z', 'completed'),
	run(2, '2026-01-02T00:00:00Z', 'completed'),
	run(3, '2026-01-03T00:00:00Z', 'running')
];

const datasetImage: ImageChoice = { dataset: 'fashion-mnist-mini', index: 3, upload: null };
const ownImage: ImageChoice = {
	dataset: 'fashion-mnist-mini',
	index: 0,
	upload: { name: 'cat.png', bytes: new Uint8Array([137, 80, 78, 71]) }
};

describe('encoder slots', () => {
	it('proposes the newest completed run against its own random init', () => {
		expect(defaultEncoderPicks(runs)).toEqual([
			{ runId: 2, randomInit: false },
			{ runId: 2, randomInit: true }
		]);
		expect(defaultEncoderPicks([])).toEqual([
			{ runId: null, randomInit: false },
			{ runId: null, randomInit: true }
		]);
	});

	it('adds a run not compared yet, up to four slots, and removes all but the last', () => {
		const two = defaultEncoderPicks(runs);
		const three = addEncoderPick(two, runs);
		// Run 2 is taken: the newest completed of the others is run 1.
		expect(three[2]).toEqual({ runId: 1, randomInit: false });
		const four = addEncoderPick(three, runs);
		expect(four[3]).toEqual({ runId: 3, randomInit: false });
		expect(addEncoderPick(four, runs)).toHaveLength(maxEncoders);
		// Every run taken: the reference's run, at random init unless that is taken too.
		const onlyRun = [runs[1] as RunRecord];
		expect(addEncoderPick([{ runId: 2, randomInit: false }], onlyRun)[1]).toEqual({
			runId: 2,
			randomInit: true
		});
		expect(addEncoderPick(two, onlyRun)[2]).toEqual({ runId: 2, randomInit: false });
		expect(removeEncoderPick(four, 1).map((pick) => pick.runId)).toEqual([2, 1, 3]);
		expect(removeEncoderPick([{ runId: 1, randomInit: false }], 0)).toHaveLength(1);
	});

	it('sends the chosen slots only and refuses the same encoder twice', () => {
		const refs = buildEncoderRefs([
			{ runId: 4, randomInit: false },
			{ runId: null, randomInit: true },
			{ runId: 4, randomInit: true }
		]);
		expect(refs).toEqual({
			ok: true,
			params: [
				{ runId: 4, randomInit: false },
				{ runId: 4, randomInit: true }
			]
		});
		const twice = buildEncoderRefs([
			{ runId: 4, randomInit: false },
			{ runId: 5, randomInit: false },
			{ runId: 4, randomInit: false }
		]);
		expect(twice.ok ? '' : twice.error.message).toBe('Encoders A and C are the same.');
		const none = buildEncoderRefs([{ runId: null, randomInit: false }]);
		expect(none.ok ? '' : none.error.message).toMatch(/at least one run/);
		const one = buildEncoderRefs([{ runId: 1, randomInit: false }], 2);
		expect(one.ok ? '' : one.error.message).toMatch(/at least 2 encoders/);
	});
});

describe('targets', () => {
	it('lists the five targets, two of which need a class', () => {
		expect(targetKinds.map((target) => target.kind)).toEqual([
			'predicted',
			'true',
			'class',
			'embedding',
			'class-mean'
		]);
		expect(targetKinds.filter((target) => targetNeedsClass(target.kind)).length).toBe(2);
	});

	it('builds each target, asking for a class where one is needed', () => {
		expect(buildTarget({ kind: 'predicted', classIndex: 5 }, false)).toEqual({
			ok: true,
			params: { kind: 'predicted' }
		});
		expect(buildTarget({ kind: 'class-mean', classIndex: 7 }, false)).toEqual({
			ok: true,
			params: { kind: 'class-mean', classIndex: 7 }
		});
		const noClass = buildTarget({ kind: 'class', classIndex: null }, false);
		expect(noClass.ok ? '' : noClass.error.message).toMatch(/class/);
		// An uploaded image has no label to explain.
		const trueOfUpload = buildTarget({ kind: 'true', classIndex: null }, true);
		expect(trueOfUpload.ok ? '' : trueOfUpload.error.message).toMatch(/no true class/);
		expect(buildTarget({ kind: 'true', classIndex: null }, false).ok).toBe(true);
	});
});

describe('requests', () => {
	const encoders = [
		{ runId: 4, randomInit: false },
		{ runId: 4, randomInit: true }
	];

	it('builds explain.compute requests the contract accepts unchanged, with or without an upload', () => {
		for (const image of [datasetImage, ownImage]) {
			const built = buildExplainParams({
				encoders,
				image,
				method: 'gradcam++',
				layer: 'conv4',
				target: { kind: 'class', classIndex: 2 }
			});
			if (!built.ok) throw new Error(built.error.message);
			expect(explainParamsSchema.parse(built.params)).toEqual(built.params);
			expect(built.params.target).toEqual({ kind: 'class', classIndex: 2 });
			expect(built.params.randomisationCheck).toBe(true);
			expect(built.params.upload?.name).toBe(image.upload?.name);
		}
	});

	it('says what is missing instead of sending a bad request', () => {
		const base = {
			encoders,
			image: datasetImage,
			method: 'gradcam' as const,
			layer: 'conv5' as const,
			target: { kind: 'predicted' as const, classIndex: null }
		};
		const noDataset = buildExplainParams({ ...base, image: { ...datasetImage, dataset: '' } });
		expect(noDataset.ok ? '' : noDataset.error.message).toMatch(/dataset/);
		const badIndex = buildExplainParams({ ...base, image: { ...datasetImage, index: -1 } });
		expect(badIndex.ok ? '' : badIndex.error.message).toMatch(/index/);
	});

	it('builds batch requests for two or more encoders, with an optional class', () => {
		const base = {
			encoders,
			dataset: 'fashion-mnist-mini',
			count: 12,
			classIndex: null,
			target: 'true' as const,
			method: 'gradcam' as const,
			layer: 'conv5' as const
		};
		const all = buildBatchParams(base);
		if (!all.ok) throw new Error(all.error.message);
		expect(all.params).not.toHaveProperty('classIndex');
		expect(explainBatchParamsSchema.parse(all.params)).toEqual(all.params);
		const one = buildBatchParams({ ...base, classIndex: 3 });
		expect(one.ok && one.params.classIndex).toBe(3);
		const single = buildBatchParams({ ...base, encoders: encoders.slice(0, 1) });
		expect(single.ok).toBe(false);
		for (const count of [0, 501, 2.5]) expect(buildBatchParams({ ...base, count }).ok).toBe(false);
	});

	it('builds activations and neighbours requests the contract accepts', () => {
		const strongest = buildActivationsParams({
			encoders,
			image: datasetImage,
			layer: 'conv2',
			channel: parseChannel('  ')
		});
		if (!strongest.ok) throw new Error(strongest.error.message);
		expect(strongest.params).not.toHaveProperty('channel');
		expect(explainActivationsParamsSchema.parse(strongest.params)).toEqual(strongest.params);
		const chosen = buildActivationsParams({
			encoders,
			image: datasetImage,
			layer: 'conv2',
			channel: parseChannel('7')
		});
		expect(chosen.ok && chosen.params.channel).toBe(7);
		const bad = buildActivationsParams({
			encoders,
			image: datasetImage,
			layer: 'conv2',
			channel: parseChannel('x')
		});
		expect(bad.ok).toBe(false);

		const neighbours = buildNeighboursParams({
			encoders,
			image: ownImage,
			k: 5,
			layer: 'fc6',
			gallery: 800
		});
		if (!neighbours.ok) throw new Error(neighbours.error.message);
		const parsed = explainNeighboursParamsSchema.parse(neighbours.params);
		expect(parsed).toMatchObject(neighbours.params);
		expect(parsed.maxGallery).toBe(800);
		for (const [k, gallery] of [
			[40, 800],
			[5, 5],
			[5, 2.5]
		] as const) {
			expect(
				buildNeighboursParams({ encoders, image: ownImage, k, layer: 'fc6', gallery }).ok
			).toBe(false);
		}
	});

	it('refuses empty and oversized uploads before reading them', () => {
		expect(checkUpload({ name: 'a.png', size: 1000 })).toBeNull();
		expect(checkUpload({ name: 'a.png', size: 0 })?.message).toMatch(/empty/);
		expect(checkUpload({ name: 'a.png', size: 30 * 2 ** 20 })?.message).toBe(
			'a.png is 30 MiB; uploads may be at most 20 MiB.'
		);
		// The limit is the contract's, which the server also enforces: 18 MiB is fine.
		expect(checkUpload({ name: 'a.jpg', size: 18 * 2 ** 20 })).toBeNull();
	});
});

describe('stepping through the (filtered) test images', () => {
	// A page of a class's images: positions 24–26 of the filtered list hold dataset images 80, 93, 97.
	const page = { offset: 24, items: [{ index: 80 }, { index: 93 }, { index: 97 }] };

	it('maps between positions in the list and dataset indices on the loaded page', () => {
		expect(positionOfIndex(page, 93)).toBe(25);
		expect(positionOfIndex(page, 94)).toBeNull();
		expect(positionOfIndex(null, 93)).toBeNull();
		expect(indexAtPosition(page, 26)).toBe(97);
		expect(indexAtPosition(page, 27)).toBeNull();
		expect(indexAtPosition(page, 23)).toBeNull();
	});

	it('wraps around the list and finds the page of a position', () => {
		expect(stepPosition(0, -1, 27)).toBe(26);
		expect(stepPosition(26, 1, 27)).toBe(0);
		expect(stepPosition(5, 1, 27)).toBe(6);
		expect(stepPosition(3, 1, 0)).toBe(0);
		expect(pageOffsetFor(26, 24)).toBe(24);
		expect(pageOffsetFor(23, 24)).toBe(0);
		expect(pageOffsetFor(-3, 24)).toBe(0);
		expect(describePage(24, 3, 27)).toBe('Images 25–27 of 27');
		expect(describePage(0, 0, 0)).toBe('No test images');
	});

	it('knows the last index of a test split', () => {
		expect(lastIndex({ testCount: 10 } as never)).toBe(9);
		expect(lastIndex({ testCount: null } as never)).toBeNull();
		expect(lastIndex(undefined)).toBeNull();
	});
});

describe('wording of the results', () => {
	it('passes the randomisation check below ρ 0.5 and fails it above, saying why', () => {
		expect(randomisationVerdict(0.9, true)).toBeNull();
		const pass = randomisationVerdict(0.12, false);
		expect(pass).toMatchObject({
			verdict: 'pass',
			badge: 'Randomisation check passed (ρ = 0.12)'
		});
		expect(pass?.why).toMatch(/learned weights/);
		const fail = randomisationVerdict(0.83, false);
		expect(fail).toMatchObject({
			verdict: 'fail',
			badge: 'Randomisation check failed (ρ = 0.83)'
		});
		expect(fail?.why).toMatch(/architecture/);
		// No ρ for a trained encoder: a flat map, which decides nothing.
		expect(randomisationVerdict(null, false)?.verdict).toBe('undecided');
		expect(randomisationVerdict(Number.NaN, false)?.why).toMatch(/flat/);
	});

	it('tells a flat map from one with structure', () => {
		expect(isFlatMap(new Uint8Array(16).fill(0))).toBe(true);
		expect(isFlatMap(new Uint8Array([0, 0, 1, 0]))).toBe(false);
	});

	it('names the probe, or says how to get one', () => {
		expect(describeProbe(null, 'fashion-mnist-mini')).toEqual({
			known: false,
			text: 'Evaluate this run on fashion-mnist-mini with the linear probe to explain classes; showing its own embedding.'
		});
		expect(describeProbe({ evaluationId: 7, layer: 'fc7', accuracy: 0.6234 }, 'x').text).toBe(
			'Probe: evaluation #7 (fc7, 62.3% top-1)'
		);
	});

	it('lists the top three classes with their probabilities', () => {
		const top = describePrediction(
			{
				classIndex: 1,
				confidence: 0.7,
				top: [
					{ classIndex: 1, probability: 0.7 },
					{ classIndex: 0, probability: 0.2 },
					{ classIndex: 9, probability: 0.05 },
					{ classIndex: 2, probability: 0.05 }
				]
			},
			['T-shirt', 'Trouser']
		);
		expect(top).toEqual([
			{ name: 'Trouser', percent: '70%' },
			{ name: 'T-shirt', percent: '20%' },
			{ name: 'class 9', percent: '5%' }
		]);
		expect(describePrediction(null, [])).toEqual([]);
	});

	it('describes channels, shares and progress', () => {
		expect(describeChannel(12, 64, null)).toBe('channel 12 of 64 (strongest)');
		expect(describeChannel(3, 64, 3)).toBe('channel 3 of 64');
		expect(progressShare(null)).toBe(0);
		expect(progressShare({ done: 3, total: 12 })).toBe(0.25);
		expect(progressShare({ done: 5, total: 0 })).toBe(0);
		expect(progressShare({ done: 15, total: 12 })).toBe(1);
	});

	it('turns per-class agreement into table rows with bars', () => {
		const rows = perClassRows({
			classes: ['a', 'b', 'c'],
			perClass: [
				{ classIndex: 0, count: 4, meanAgreement: 0.5 },
				{ classIndex: 1, count: 4, meanAgreement: -0.25 },
				{ classIndex: 2, count: 0, meanAgreement: null }
			]
		});
		expect(rows).toEqual([
			{ name: 'a', count: 4, value: '0.50', bar: 50, negative: false },
			{ name: 'b', count: 4, value: '-0.25', bar: 25, negative: true },
			{ name: 'c', count: 0, value: '—', bar: 0, negative: false }
		]);
	});

	it('names exported grids after the dataset, image and method', () => {
		expect(
			exportFileName('single', { dataset: 'fashion-mnist-mini', index: 12, method: 'gradcam' })
		).toBe('explain-fashion-mnist-mini-12-gradcam.png');
		expect(
			exportFileName('single', {
				dataset: '/data/my shapes/',
				index: 0,
				method: 'gradcam++',
				upload: { name: 'my cat.jpeg' }
			})
		).toBe('explain-my-shapes-my-cat-gradcampp.png');
		expect(exportFileName('batch', { dataset: 'fashion-mnist-mini', method: 'gradcam' })).toBe(
			'explain-fashion-mnist-mini-batch-gradcam.png'
		);
	});
});

describe('from an evaluation to Explain', () => {
	it('takes the run, the real-data run and the random init that were measured', () => {
		const record = (runId: number) => ({ runId });
		expect(
			evaluationEncoderPicks({
				runId: 3,
				byRole: { encoder: record(3), 'random-init': record(3), real: record(7) }
			})
		).toEqual([
			{ runId: 3, randomInit: false },
			{ runId: 7, randomInit: false },
			{ runId: 3, randomInit: true }
		]);
		expect(evaluationEncoderPicks({ runId: 3, byRole: { encoder: record(3) } })).toEqual([
			{ runId: 3, randomInit: false }
		]);
	});
});

describe('targetMismatch', () => {
	const coat = { kind: 'class', classIndex: 4, description: 'probe class "Coat" (predicted)' };
	const pullover = {
		kind: 'class',
		classIndex: 2,
		description: 'probe class "Pullover" (predicted)'
	};

	it('is silent while every map explains the same target', () => {
		expect(targetMismatch([{ target: coat }, { target: { ...coat } }])).toBeNull();
		expect(targetMismatch([{ target: coat }])).toBeNull();
	});

	it('says which encoder explains what when the targets differ', () => {
		expect(targetMismatch([{ target: pullover }, { target: coat }])).toBe(
			'A explains probe class "Pullover" (predicted), B explains probe class "Coat" (predicted): the agreement compares maps of different targets. Choose True class (or one class) to compare like with like.'
		);
	});
});
