import { describe, expect, it } from 'vitest';
import type { RunProgress, RunRecord } from '../../src/core/api/training';
import { trainConfigSchema } from '../../src/core/training/config';
import { applyRunProgress, newestFirst, upsertRun } from '../../src/renderer/lib/runs/run-list';

const config = trainConfigSchema.parse({
	source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
	steps: 10
});

function run(id: number, createdAt: string): RunRecord {
	return {
		id,
		name: `run ${id}`,
		status: 'running',
		kind: 'trained',
		imported: null,
		config,
		sourceLabel: '',
		backend: 'wasm',
		adapter: null,
		step: 0,
		steps: 10,
		parameterCount: null,
		lastLoss: null,
		trainSeconds: 0,
		skippedImages: 0,
		error: null,
		tags: [],
		notes: '',
		appVersion: '0',
		createdAt,
		updatedAt: createdAt,
		finishedAt: null
	};
}

describe('the shared runs list', () => {
	it('orders newest first, by id within the same instant, without touching its input', () => {
		const input = [run(1, '2026-01-01'), run(3, '2026-01-02'), run(2, '2026-01-02')];
		expect(newestFirst(input).map((r) => r.id)).toEqual([3, 2, 1]);
		expect(input.map((r) => r.id)).toEqual([1, 3, 2]);
	});

	it('adds or replaces a changed run in order', () => {
		const runs = newestFirst([run(1, '2026-01-01'), run(2, '2026-01-02')]);
		const renamed = { ...run(1, '2026-01-01'), name: 'renamed' };
		expect(upsertRun(runs, renamed).map((r) => `${r.id} ${r.name}`)).toEqual([
			'2 run 2',
			'1 renamed'
		]);
		expect(upsertRun(runs, run(5, '2026-01-03')).map((r) => r.id)).toEqual([5, 2, 1]);
	});

	it('applies live progress to its run, and says when the run is unknown', () => {
		const progress = {
			runId: 1,
			step: 4,
			steps: 10,
			backend: 'webgl',
			skippedImages: 2,
			metric: { loss: -1.5 }
		} as unknown as RunProgress;
		const [updated] = applyRunProgress([run(1, '2026-01-01')], progress) ?? [];
		expect(updated).toMatchObject({ step: 4, backend: 'webgl', skippedImages: 2, lastLoss: -1.5 });
		expect(applyRunProgress([run(2, '2026-01-01')], progress)).toBeNull();
	});
});
