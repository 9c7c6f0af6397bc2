import { describe, expect, it } from 'vitest';
import { formatAccuracy, formatGapClosed } from '../../src/core/format';
import {
	evaluateParamsSchema,
	type EvaluationProgress,
	type EvaluationRecord,
	type EvaluationRole
} from '../../src/core/api/evaluation';
import {
	evaluationProgressFraction,
	formatClock,
	gapClosed,
	gapClosedReason,
	groupEvaluations,
	phaseSecondsLeft,
	progressText,
	rowKnnKs,
	rowTop1,
	upsertEvaluation
} from '../../src/renderer/lib/evaluation/results';

let nextId = 1;

function record(
	groupId: string,
	role: EvaluationRole,
	top1: number | null,
	change: Partial<EvaluationRecord> = {}
): EvaluationRecord {
	return {
		id: nextId++,
		groupId,
		runId: role === 'real' ? 99 : 1,
		role,
		checkpointStep: role === 'random-init' ? null : 100,
		dataset: 'fashion-mnist-mini',
		protocol: 'linear',
		layer: 'fc6',
		status: top1 === null ? 'running' : 'completed',
		metrics:
			top1 === null
				? null
				: {
						top1,
						top5: null,
						knn: null,
						trainImages: 100,
						testImages: 50,
						classes: 10,
						featureDim: 1024
					},
		config: evaluateParamsSchema.parse({ runId: 1, dataset: 'fashion-mnist-mini' }),
		error: null,
		seconds: top1 === null ? null : 3,
		createdAt: '2024-05-01T10:00:00.000Z',
		finishedAt: null,
		...change
	};
}

describe('gap closed', () => {
	it('is (noise − random) / (real − random)', () => {
		expect(gapClosed(0.6, 0.4, 0.8)).toBeCloseTo(0.5, 12);
		expect(gapClosed(0.8, 0.4, 0.8)).toBeCloseTo(1, 12);
		expect(gapClosed(0.3, 0.4, 0.8)).toBeCloseTo(-0.25, 12);
		expect(gapClosed(0.9, 0.4, 0.8)).toBeCloseTo(1.25, 12);
	});

	it('is null without a real control, or when real does not beat random', () => {
		expect(gapClosed(0.6, 0.4, null)).toBeNull();
		expect(gapClosed(0.6, null, 0.8)).toBeNull();
		expect(gapClosed(null, 0.4, 0.8)).toBeNull();
		expect(gapClosed(0.6, 0.4, 0.4)).toBeNull();
		expect(gapClosed(0.6, 0.5, 0.45)).toBeNull();
		expect(gapClosed(0.6, Number.NaN, 0.8)).toBeNull();
	});

	it('formats as a rounded percentage with a true minus sign, and — when null', () => {
		expect(formatGapClosed(0.5)).toBe('50%');
		expect(formatGapClosed(0.6349)).toBe('63%');
		expect(formatGapClosed(-0.25)).toBe('−25%');
		expect(formatGapClosed(1.124)).toBe('112%');
		expect(formatGapClosed(null)).toBe('—');
	});

	it('explains why it is missing, and says nothing when it is there', () => {
		expect(gapClosedReason(0.6, 0.4, 0.8)).toBeNull();
		expect(gapClosedReason(0.6, 0.4, null)).toMatch(/real-data control/);
		expect(gapClosedReason(0.6, null, 0.8)).toMatch(/random-init/);
		expect(gapClosedReason(null, 0.4, 0.8)).toMatch(/encoder/);
		expect(gapClosedReason(0.6, 0.5, 0.5)).toMatch(/does not beat random init/);
	});
});

describe('grouping evaluations into rows', () => {
	it('puts each group’s roles on one row, newest group first, with its gap closed', () => {
		const older = [
			record('a', 'encoder', 0.6, { createdAt: '2024-05-01T09:00:00.000Z' }),
			record('a', 'random-init', 0.4, { createdAt: '2024-05-01T09:00:00.000Z' }),
			record('a', 'real', 0.8, { createdAt: '2024-05-01T09:00:00.000Z' })
		];
		const newer = [
			record('b', 'encoder', 0.7, { dataset: 'structured:count-shapes', protocol: 'knn' }),
			record('b', 'random-init', 0.3)
		];
		// The service lists newest first; the grouping must not depend on that order.
		const rows = groupEvaluations([...newer, ...older].reverse());
		expect(rows.map((row) => row.groupId)).toEqual(['b', 'a']);
		const [b, a] = rows;
		expect(a?.gap).toBeCloseTo(0.5, 12);
		expect(a?.runId).toBe(1);
		expect(a?.status).toBe('completed');
		expect(Object.keys(a?.byRole ?? {}).sort()).toEqual(['encoder', 'random-init', 'real']);
		expect(b?.gap).toBeNull();
		expect(b?.dataset).toBe('structured:count-shapes');
		expect(b?.protocol).toBe('knn');
		expect(b && rowTop1(b)).toEqual({ encoder: 0.7, 'random-init': 0.3, real: null });
	});

	it('reports running while any member runs, and failed when any failed', () => {
		const running = groupEvaluations([
			record('r', 'encoder', 0.6),
			record('r', 'random-init', null)
		]);
		expect(running[0]?.status).toBe('running');
		expect(running[0]?.gap).toBeNull();
		const failed = groupEvaluations([
			record('f', 'encoder', null, { status: 'failed', error: 'no checkpoint' }),
			record('f', 'random-init', 0.2)
		]);
		expect(failed[0]?.status).toBe('failed');
		expect(failed[0] && rowTop1(failed[0]).encoder).toBeNull();
	});

	it('orders groups created in the same instant by their newest evaluation', () => {
		const rows = groupEvaluations([record('x', 'encoder', 0.5), record('y', 'encoder', 0.5)]);
		expect(rows.map((row) => row.groupId)).toEqual(['y', 'x']);
	});

	it('lists the kNN k’s present, in numeric order', () => {
		const knn = { '200': 0.7, '20': 0.8 };
		const [row] = groupEvaluations([
			record('k', 'encoder', 0.8, {
				protocol: 'knn',
				metrics: {
					top1: 0.8,
					top5: null,
					knn,
					trainImages: 1,
					testImages: 1,
					classes: 2,
					featureDim: 4
				}
			})
		]);
		expect(row && rowKnnKs(row)).toEqual(['20', '200']);
	});

	it('replaces an updated record in place and adds a new one at the front', () => {
		const first = record('u', 'encoder', null);
		const second = record('u', 'random-init', null);
		const list = [first, second];
		const finished = { ...first, status: 'completed' as const };
		expect(upsertEvaluation(list, finished)).toEqual([finished, second]);
		const third = record('v', 'encoder', null);
		expect(upsertEvaluation(list, third).map((item) => item.id)).toEqual([
			third.id,
			first.id,
			second.id
		]);
	});
});

describe('wording', () => {
	it('formats accuracies as percentages with one decimal', () => {
		expect(formatAccuracy(0.8123)).toBe('81.2%');
		expect(formatAccuracy(1)).toBe('100.0%');
		expect(formatAccuracy(null)).toBe('—');
		expect(formatAccuracy(undefined)).toBe('—');
	});

	it('counts the phases in order for the progress bar', () => {
		const progress = (phase: EvaluationProgress['phase'], done: number, total: number) => ({
			groupId: 'g',
			evaluationId: 1,
			role: 'encoder' as const,
			phase,
			done,
			total,
			message: ''
		});
		expect(evaluationProgressFraction(undefined)).toBe(0);
		expect(evaluationProgressFraction(progress('loading', 0, 0))).toBe(0);
		expect(evaluationProgressFraction(progress('features', 50, 100))).toBeCloseTo(0.375, 12);
		expect(evaluationProgressFraction(progress('scoring', 1, 1))).toBe(1);
	});

	it('writes elapsed time as a clock', () => {
		expect(formatClock(0)).toBe('0:00');
		expect(formatClock(42.9)).toBe('0:42');
		expect(formatClock(245)).toBe('4:05');
		expect(formatClock(3723)).toBe('1:02:03');
	});
});

describe('the text of an evaluation’s progress', () => {
	const progress = (over: Partial<EvaluationProgress>): EvaluationProgress => ({
		groupId: 'g',
		evaluationId: 1,
		role: 'encoder',
		phase: 'features',
		done: 0,
		total: 0,
		message: 'Extracting fc6 features (training crops)',
		...over
	});

	it('says the worker’s message once, with a count and, once it can, the time left', () => {
		expect(progressText(progress({}), null)).toBe('Extracting fc6 features (training crops)');
		expect(progressText(progress({ done: 1200, total: 5000 }), null)).toBe(
			'Extracting fc6 features (training crops) · 1,200 / 5,000'
		);
		expect(progressText(progress({ done: 1200, total: 5000 }), 95)).toBe(
			'Extracting fc6 features (training crops) · 1,200 / 5,000 · about 1 min 35 s left'
		);
	});

	it('estimates the time left of a phase from its own pace, not before there is one', () => {
		expect(phaseSecondsLeft({ done: 0, total: 100 }, 5)).toBeNull();
		expect(phaseSecondsLeft({ done: 25, total: 100 }, 0.5)).toBeNull();
		expect(phaseSecondsLeft({ done: 25, total: 100 }, 10)).toBe(30);
		expect(phaseSecondsLeft({ done: 100, total: 100 }, 10)).toBeNull();
	});
});
