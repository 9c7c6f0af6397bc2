/**
 * A data thread of the training batch pipeline (`training/batch-pipeline.ts`): loads images and
 * draws their augmented views for the slots it is given, while the training step runs on the
 * thread that owns the model.
 */
import {
	renderSlots,
	threadContext,
	type DataThreadInit,
	type DataThreadTask,
	type SlotContext,
	type SlotResult
} from '../../training/batch-pipeline';
import { installCacheFromEnvironment } from '../../generation/disk-cache';
import { serveThread } from '../../threads/serve';

installCacheFromEnvironment();

serveThread<DataThreadInit, SlotContext, DataThreadTask, SlotResult>({
	setup: threadContext,
	run: (context, task) => {
		for (const [index, reason] of task.newlyBad) context.bad.set(index, reason);
		return renderSlots(context, task.step, task.firstSlot, task.indices);
	},
	transfer: (result) => [result.views.buffer as ArrayBuffer, result.used.buffer as ArrayBuffer]
});
