/**
 * A worker thread of the export pool: generates, encodes and writes batches of images. Each
 * file is written under a temporary name and renamed, so a file with its final name is complete.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppFailure, toAppError } from '../../../core/api/errors';
import { imagePath } from '../../../core/generators/manifest';
import { resolveConfig, type ResolvedConfig } from '../../../core/generators/registry';
import { poolTexture } from '../../../core/generators/textures';
import { activateGeneratorBackend } from '../../compute/activate-backend';
import { isDiskFull } from '../../durable-file';
import { installWasmStyleganConvolutions } from '../../compute/kernels/wasm-stylegan-conv';
import { installCacheFromEnvironment } from '../../generation/disk-cache';
import { encodeImage } from '../../generation/encode';
import type { RenderJob, RenderTask, RenderedImage } from '../../generation/thread-protocol';
import { serveThread } from '../../threads/serve';

installCacheFromEnvironment();
installWasmStyleganConvolutions();

interface ExportThread {
	job: RenderJob;
	config: ResolvedConfig;
}

serveThread<RenderJob, ExportThread, RenderTask, null, RenderedImage>({
	setup: (job) => {
		const resolved = resolveConfig(job.config);
		if (!resolved.ok) throw new AppFailure('INVALID_REQUEST', resolved.message);
		return { job, config: resolved.value };
	},
	run: async ({ job, config }, task, { emit }) => {
		if ('textures' in task) {
			for (const texture of task.textures) poolTexture(texture, config.size);
			return null;
		}
		try {
			if (config.generator.family === 'feature_vis') await activateGeneratorBackend();
			for (const index of task.images) {
				const image = await config.generator.generate(config.params, job.seed, index, config.size);
				const bytes = await encodeImage(image, job.format, job.quality);
				const target = path.join(job.outDir, imagePath(index, job.format));
				const temporary = `${target}.${process.pid}.tmp`;
				await fs.mkdir(path.dirname(target), { recursive: true });
				try {
					// writeFile continues short writes itself; a full disk throws, and the partial file goes.
					await fs.writeFile(temporary, bytes);
					await fs.rename(temporary, target);
				} catch (error) {
					await fs.rm(temporary, { force: true });
					throw error;
				}
				emit({ index, bytes: bytes.length });
			}
			return null;
		} catch (error) {
			throw writeFailure(error, job.outDir);
		}
	}
});

/** File-system errors as the app's codes, naming the folder. */
function writeFailure(error: unknown, outDir: string): AppFailure {
	const code = (error as NodeJS.ErrnoException).code;
	if (isDiskFull(error)) {
		return new AppFailure('DISK_FULL', `The disk is full (writing into ${outDir}).`);
	}
	if (code && /^E[A-Z]+$/.test(code)) {
		return new AppFailure('IO_ERROR', `Cannot write into ${outDir}: ${(error as Error).message}`);
	}
	const described = toAppError(error);
	return new AppFailure(described.code, described.message);
}
