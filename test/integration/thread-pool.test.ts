import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src/core/api/errors';
import { ThreadPool } from '../../src/main/threads/pool';
import type {
	PoolThreadInit,
	PoolThreadResult,
	PoolThreadTask
} from '../fixtures/workers/pool-thread';
import { fixtureWorkersDir } from '../support/paths';

const file = path.join(fixtureWorkersDir, 'pool-thread.cjs');

type Pool = ThreadPool<PoolThreadTask, PoolThreadResult, number>;
const started: Pool[] = [];

async function start(size: number, init?: (index: number) => PoolThreadInit): Promise<Pool> {
	const pool = await ThreadPool.start<PoolThreadTask, PoolThreadResult, number>({
		file,
		size,
		label: 'test thread',
		init: init ?? ((index) => ({ index }))
	});
	started.push(pool);
	return pool;
}

async function rejection(promise: Promise<unknown>): Promise<AppFailure> {
	const error = await promise.then(
		() => null,
		(thrown: unknown) => thrown
	);
	expect(error).toBeInstanceOf(AppFailure);
	return error as AppFailure;
}

afterEach(async () => {
	await Promise.all(started.splice(0).map((pool) => pool.close()));
});

describe('the thread pool', () => {
	it('runs tasks on the thread asked for, or on a free one, with their events in order', async () => {
		const pool = await start(2);
		expect(pool.size).toBe(2);
		expect(pool.live).toBe(2);
		const pinned = await Promise.all(
			[0, 1, 0, 1].map((thread) => pool.run({ kind: 'echo', value: thread }, { thread }))
		);
		expect(pinned.map((result) => result.index)).toEqual([0, 1, 0, 1]);
		expect(new Set(pinned.map((result) => result.threadId)).size).toBe(2);
		// Two long tasks for any thread occupy both threads at once.
		const both = await Promise.all([
			pool.run({ kind: 'hold', ms: 50 }),
			pool.run({ kind: 'hold', ms: 50 })
		]);
		expect(new Set(both.map((result) => result.index))).toEqual(new Set([0, 1]));
		const events: number[] = [];
		const counted = await pool.run(
			{ kind: 'count', to: 5 },
			{ onEvent: (event) => events.push(event) }
		);
		expect(counted.value).toBe(5);
		expect(events).toEqual([1, 2, 3, 4, 5]);
		expect((await rejection(pool.run({ kind: 'echo', value: 0 }, { thread: 2 }))).code).toBe(
			'INVALID_REQUEST'
		);
	});

	it("fails only the task whose handler throws, keeping the thread's error code", async () => {
		const pool = await start(1);
		const refused = await rejection(pool.run({ kind: 'refuse' }));
		expect(refused.code).toBe('IO_ERROR');
		expect(refused.message).toBe('task refused on purpose');
		expect((await pool.run({ kind: 'echo', value: 7 })).value).toBe(7);
		expect(pool.failure).toBeNull();
	});

	it('rejects every task in flight, queued or later with WORKER_CRASHED when a thread exits', async () => {
		const pool = await start(2);
		const crashes: AppFailure[] = [];
		pool.onCrash((failure) => crashes.push(failure));
		const inFlight = rejection(pool.run({ kind: 'hold', ms: 60_000 }, { thread: 1 }));
		const queued = rejection(pool.run({ kind: 'echo', value: 1 }, { thread: 1 }));
		const exited = await rejection(pool.run({ kind: 'exit', code: 7 }, { thread: 0 }));
		expect(exited.code).toBe('WORKER_CRASHED');
		expect(exited.message).toBe('The test thread 0 stopped (exit code 7).');
		for (const other of [inFlight, queued, rejection(pool.run({ kind: 'echo', value: 2 }))]) {
			const failure = await other;
			expect(failure.code).toBe('WORKER_CRASHED');
			expect(failure.message).toContain('exit code 7');
		}
		expect(crashes).toHaveLength(1);
		await pool.close();
		expect(pool.live).toBe(0);
	});

	it('reports an uncaught exception in a thread as a crash naming the error', async () => {
		const pool = await start(1);
		const failure = await rejection(pool.run({ kind: 'throw-later' }));
		expect(failure.code).toBe('WORKER_CRASHED');
		expect(failure.message).toContain('uncaught in the thread');
	});

	it('refuses to start when a setup fails or the file is missing, leaving no thread', async () => {
		const refused = await rejection(start(2, (index) => ({ index, failSetup: index === 1 })));
		expect(refused.code).toBe('INVALID_REQUEST');
		expect(refused.message).toBe('setup 1 refused');
		const missing = await rejection(
			ThreadPool.start({
				file: path.join(fixtureWorkersDir, 'missing.cjs'),
				size: 1,
				label: 'test thread'
			})
		);
		expect(missing.code).toBe('WORKER_CRASHED');
		expect(missing.message).toMatch(/^A test thread could not start: /);
	});

	it('rejects pending tasks with CANCELLED on close and stops every thread', async () => {
		const pool = await start(1);
		const held = rejection(pool.run({ kind: 'hold', ms: 60_000 }));
		const queued = rejection(pool.run({ kind: 'echo', value: 1 }));
		await pool.close();
		expect((await held).code).toBe('CANCELLED');
		expect((await queued).code).toBe('CANCELLED');
		expect((await rejection(pool.run({ kind: 'echo', value: 1 }))).code).toBe('CANCELLED');
		expect(pool.live).toBe(0);
	});
});
