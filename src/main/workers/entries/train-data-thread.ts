/**
 * A data thread of the training batch pipeline (`training/batch-pipeline.ts`): loads images and
 * draws their augmented views for the slots it is given, while the training step runs on the
 * thread that owns the model.
 */
import { parentPort } from 'node:worker_threads';
import { toAppError } from '../../../core/api/errors';
import {
	renderSlots,
	threadContext,
	type DataThreadReply,
	type DataThreadRequest,
	type SlotContext
} from '../../training/batch-pipeline';
import { installCacheFromEnvironment } from '../../generation/disk-cache';

installCacheFromEnvironment();

let context: Promise<SlotContext> | null = null;

function post(reply: DataThreadReply, transfer: ArrayBuffer[] = []): void {
	parentPort?.postMessage(reply, transfer);
}

parentPort?.on('message', (request: DataThreadRequest) => {
	if (request.kind === 'init') {
		context = threadContext(request);
		context.then(
			() => post({ kind: 'ready' }),
			(error: unknown) => post({ kind: 'failed', id: null, error: toAppError(error) })
		);
		return;
	}
	const ready = context;
	if (!ready) {
		post({
			kind: 'failed',
			id: request.id,
			error: { code: 'INTERNAL', message: 'A training data thread got a job before its setup.' }
		});
		return;
	}
	ready
		.then((slots) => {
			for (const [index, reason] of request.newlyBad) slots.bad.set(index, reason);
			return renderSlots(slots, request.step, request.firstSlot, request.indices);
		})
		.then(
			(result) =>
				post({ kind: 'done', id: request.id, result }, [
					result.views.buffer as ArrayBuffer,
					result.used.buffer as ArrayBuffer
				]),
			(error: unknown) => post({ kind: 'failed', id: request.id, error: toAppError(error) })
		);
});
