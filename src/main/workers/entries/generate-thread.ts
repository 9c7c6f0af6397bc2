/**
 * A worker thread of the export pool: generates, encodes and writes a batch of images. Each
 * file is written under a temporary name and renamed, so a file with its final name is complete.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { AppFailure, toAppError } from '../../../core/api/errors';
import { imagePath } from '../../../core/generators/manifest';
import { resolveConfig, type ResolvedConfig } from '../../../core/generators/registry';
import { activateGeneratorBackend } from '../../compute/activate-backend';
import { installCacheFromEnvironment } from '../../generation/disk-cache';
import { encodeImage } from '../../generation/encode';
import type { RenderBatch, ThreadReply } from '../../generation/thread-protocol';

installCacheFromEnvironment();

const configs = new Map<string, ResolvedConfig>();

function configFor(batch: RenderBatch): ResolvedConfig {
	const key = JSON.stringify(batch.job.config);
	let config = configs.get(key);
	if (!config) {
		const resolved = resolveConfig(batch.job.config);
		if (!resolved.ok) throw new AppFailure('INVALID_REQUEST', resolved.message);
		config = resolved.value;
		configs.set(key, config);
	}
	return config;
}

async function render(batch: RenderBatch): Promise<void> {
	const { job } = batch;
	const config = configFor(batch);
	if (config.generator.family === 'feature_vis') await activateGeneratorBackend();
	for (const index of batch.indices) {
		const image = await config.generator.generate(config.params, job.seed, index, config.size);
		const bytes = await encodeImage(image, job.format, job.quality);
		const target = path.join(job.outDir, imagePath(index, job.format));
		const temporary = `${target}.${process.pid}.tmp`;
		await fs.mkdir(path.dirname(target), { recursive: true });
		await fs.writeFile(temporary, bytes);
		await fs.rename(temporary, target);
		post({ kind: 'rendered', index, bytes: bytes.length });
	}
}

function post(reply: ThreadReply): void {
	parentPort?.postMessage(reply);
}

parentPort?.on('message', (batch: RenderBatch) => {
	render(batch).then(
		() => post({ kind: 'batch-done' }),
		(error: unknown) => {
			const code = (error as NodeJS.ErrnoException).code;
			const appError =
				code === 'ENOSPC'
					? {
							code: 'DISK_FULL' as const,
							message: `The disk is full (writing into ${batch.job.outDir}).`
						}
					: code && /^E[A-Z]+$/.test(code)
						? {
								code: 'IO_ERROR' as const,
								message: `Cannot write into ${batch.job.outDir}: ${(error as Error).message}`
							}
						: toAppError(error);
			post({ kind: 'failed', error: appError });
		}
	);
});
