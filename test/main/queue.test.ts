import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/main/events';
import {
	QueueService,
	queueLanes,
	singleLane,
	type ExecutionContext,
	type ItemOutcome,
	type QueueExecutors,
	type QueueLane
} from '../../src/main/services/queue';
import { openStore, type Store } from '../../src/main/store/database';
import { getQueueItem, type StoredQueueItem } from '../../src/main/store/queue';
import { createRun } from '../../src/main/store/runs';
import { trainConfigSchema } from '../../src/core/training/config';
import { temporaryFolder } from '../support/paths';

/** An execution the test ends by hand, as a worker would. */
interface Started {
	item: StoredQueueItem;
	context: ExecutionContext;
	end(outcome: ItemOutcome): void;
}

/** Executors that record what started and wait for the test (or a stop) to end it. */
class FakeExecutors implements QueueExecutors {
	readonly started: Started[] = [];
	blockedRuns = new Set<number>();

	private execute(item: StoredQueueItem, context: ExecutionContext): Promise<ItemOutcome> {
		return new Promise((resolve) => {
			this.started.push({ item, context, end: resolve });
			// A stopped item ends the way a paused training does: not done.
			context.signal.addEventListener('abort', () =>
				resolve({ state: 'cancelled', error: 'stopped' })
			);
		});
	}

	generate = (item: StoredQueueItem, context: ExecutionContext) => this.execute(item, context);
	train = (item: StoredQueueItem, context: ExecutionContext) => this.execute(item, context);
	evaluate = (item: StoredQueueItem, context: ExecutionContext) => this.execute(item, context);
	blocked = (item: StoredQueueItem) =>
		item.runId !== null && this.blockedRuns.has(item.runId) ? 'run not trained' : null;

	labels(): string[] {
		return this.started.map((started) => started.item.label);
	}

	running(label: string): Started {
		const found = this.started.findLast((started) => started.item.label === label);
		if (!found) throw new Error(`${label} has not started; started: ${this.labels().join(', ')}`);
		return found;
	}
}

/** Lets the queue's promise chains settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the work queue', () => {
	let folder: ReturnType<typeof temporaryFolder>;
	let store: Store;
	let executors: FakeExecutors;
	let lanes: readonly QueueLane[];
	let queue: QueueService;

	beforeEach(() => {
		folder = temporaryFolder();
		store = openStore(folder.path);
		executors = new FakeExecutors();
		lanes = singleLane;
		queue = new QueueService(
			() => store,
			new EventBus(),
			executors,
			() => lanes
		);
	});

	afterEach(() => {
		queue.close();
		store.close();
		folder.remove();
	});

	const add = (
		label: string,
		extra: { dependsOn?: number; kind?: StoredQueueItem['kind']; runId?: number } = {}
	) => queue.enqueue({ kind: extra.kind ?? 'train', label, ...extra });
	const stateOf = (id: number) => getQueueItem(store.db, id)?.state;
	const runRow = () =>
		createRun(
			store.db,
			{
				name: null,
				config: trainConfigSchema.parse({
					source: { kind: 'generator', config: { preset: 'dead_leaves-mixed' } },
					steps: 1
				}),
				sourceLabel: 'x',
				appVersion: '0',
				status: 'paused'
			},
			(id) => `/runs/run-${id}`
		).id;

	it('runs items one at a time in queue order, and moving an item changes the order', async () => {
		const a = add('a');
		add('b');
		const c = add('c');
		queue.work();
		expect(executors.labels()).toEqual(['a']);
		queue.move(c.id, 0);
		executors.running('a').end({ state: 'done' });
		await settle();
		expect(executors.labels()).toEqual(['a', 'c']);
		expect(stateOf(a.id)).toBe('done');
		expect(queue.state().items.find((item) => item.label === 'c')?.state).toBe('running');
		executors.running('c').end({ state: 'done' });
		await settle();
		executors.running('b').end({ state: 'done' });
		await queue.idle();
		expect(executors.labels()).toEqual(['a', 'c', 'b']);
	});

	it('waits for a dependency, says why, and runs on once the failed dependency is retried', async () => {
		const generate = add('generate', { kind: 'generate' });
		const train = add('train', { dependsOn: generate.id });
		queue.work();
		executors.running('generate').end({ state: 'failed', error: 'disk full' });
		await settle();
		expect(executors.labels()).toEqual(['generate']);
		const blocked = queue.item(train.id);
		expect(blocked.state).toBe('queued');
		expect(blocked.blocked).toContain(`#${generate.id}`);
		expect(blocked.blocked).toContain('failed');
		await queue.idle();

		queue.retry(generate.id);
		executors.running('generate').end({ state: 'done' });
		await settle();
		executors.running('train').end({ state: 'done' });
		await queue.idle();
		expect(stateOf(train.id)).toBe('done');
		expect(getQueueItem(store.db, generate.id)?.attempts).toBe(2);
	});

	it('skips an item its executor says is blocked and runs the next one', async () => {
		const runId = runRow();
		const waiting = add('evaluate', { kind: 'evaluate', runId });
		executors.blockedRuns.add(runId);
		add('other');
		queue.work();
		expect(executors.labels()).toEqual(['other']);
		expect(queue.item(waiting.id).blocked).toBe('run not trained');
	});

	it('pauses all: the running item stops to continue later, and runs again on resume', async () => {
		const a = add('a');
		add('b');
		queue.work();
		queue.setPaused(true);
		await settle();
		expect(executors.running('a').context.stopReason()).toBe('hold');
		expect(stateOf(a.id)).toBe('queued');
		expect(queue.state().paused).toBe(true);
		expect(executors.labels()).toEqual(['a']);
		queue.setPaused(false);
		expect(executors.labels()).toEqual(['a', 'a']);
		expect(getQueueItem(store.db, a.id)?.attempts).toBe(2);
	});

	it('cancels a running item for good and a waiting one before it starts', async () => {
		const a = add('a');
		const b = add('b');
		queue.work();
		queue.cancel(b.id);
		expect(stateOf(b.id)).toBe('cancelled');
		queue.cancel(a.id);
		await settle();
		expect(executors.running('a').context.stopReason()).toBe('cancel');
		expect(stateOf(a.id)).toBe('cancelled');
		await queue.idle();
		expect(executors.labels()).toEqual(['a']);
		expect(() => queue.cancel(a.id)).toThrow('already cancelled');
	});

	it('stops working on request: the running item goes back to the queue and idle() resolves', async () => {
		const a = add('a');
		add('b');
		queue.work();
		const idle = queue.idle();
		await queue.stopWorking();
		expect(executors.running('a').context.stopReason()).toBe('hold');
		expect(stateOf(a.id)).toBe('queued');
		// `noiselab study run` waits on idle() before printing the table: it must not hang.
		await expect(idle).resolves.toBeUndefined();
		expect(executors.labels()).toEqual(['a']);
		expect(queue.state().paused).toBe(false);
	});

	it('resolves settled() when an item ends', async () => {
		const a = add('a');
		queue.work();
		const settled = queue.settled(a.id);
		executors.running('a').end({ state: 'failed', error: 'boom' });
		expect(await settled).toMatchObject({ state: 'failed', error: 'boom' });
	});

	it('puts items a dead process left running back at their place', () => {
		const a = add('a');
		add('b');
		queue.work();
		// The process dies: nothing records the end.
		queue.close();
		const next = new QueueService(
			() => store,
			new EventBus(),
			executors,
			() => lanes
		);
		next.recover();
		expect(stateOf(a.id)).toBe('queued');
		next.work();
		expect(executors.labels()).toEqual(['a', 'a']);
		next.close();
	});

	it('works through a scope and the dependencies of its items only', async () => {
		const dataset = add('dataset', { kind: 'generate' });
		add('someone else');
		const runId = runRow();
		const mine = add('mine', { dependsOn: dataset.id, runId });
		queue.work((item) => item.runId === runId);
		expect(executors.labels()).toEqual(['dataset']);
		executors.running('dataset').end({ state: 'done' });
		await settle();
		executors.running('mine').end({ state: 'done' });
		await queue.idle();
		expect(executors.labels()).toEqual(['dataset', 'mine']);
		expect(stateOf(mine.id)).toBe('done');
	});

	it('runs two items at once on two lanes, each taking only its kinds', async () => {
		lanes = queueLanes('tfjs-node-gpu', 8);
		expect(lanes.map((lane) => lane.id)).toEqual(['accelerator', 'cpu']);
		add('export', { kind: 'generate' });
		add('train 1');
		add('train 2');
		queue.work();
		const first = executors.started.map((started) => [started.item.label, started.context.lane.id]);
		// The accelerator takes no exports: it trains, while the CPU lane exports.
		expect(first).toEqual([
			['train 1', 'accelerator'],
			['export', 'cpu']
		]);
		executors.running('export').end({ state: 'done' });
		await settle();
		expect(executors.running('train 2').context.lane).toMatchObject({ id: 'cpu', backend: 'wasm' });
	});

	it('uses one lane without an accelerator or with few cores', () => {
		expect(queueLanes('wasm', 16)).toBe(singleLane);
		expect(queueLanes('tfjs-node-gpu', 2)).toBe(singleLane);
		expect(queueLanes(null, 16)).toBe(singleLane);
	});
});
