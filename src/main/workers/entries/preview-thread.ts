/**
 * A thread of the generator worker's preview pool: draws one preview image per task, so that a
 * Studio grid is spread over the cores instead of drawn one image after another, or fills pool
 * textures into the persistent cache ahead of the images that draw them.
 */
import { AppFailure } from '../../../core/api/errors';
import { generateOrExplain } from '../../../core/generators/generator';
import { resolveConfig, type ResolvedConfig } from '../../../core/generators/registry';
import { poolTexture } from '../../../core/generators/textures';
import { installWasmStyleganConvolutions } from '../../compute/kernels/wasm-stylegan-conv';
import { installCacheFromEnvironment } from '../../generation/disk-cache';
import type { PreviewImage, PreviewTask } from '../../generation/preview-threads';
import { serveThread } from '../../threads/serve';

installCacheFromEnvironment();
installWasmStyleganConvolutions();

/** The last configuration resolved, since a grid's tasks all name the same one. */
let last: { key: string; config: ResolvedConfig } | null = null;

function resolved(task: PreviewTask): ResolvedConfig {
	const key = JSON.stringify(task.config);
	if (last?.key !== key) {
		const result = resolveConfig(task.config);
		if (!result.ok) throw new AppFailure('INVALID_REQUEST', result.message);
		last = { key, config: result.value };
	}
	return last.config;
}

serveThread<null, null, PreviewTask, PreviewImage | null>({
	setup: () => null,
	run: async (_state, task) => {
		const { generator, params, size } = resolved(task);
		if ('textures' in task) {
			for (const texture of task.textures) poolTexture(texture, size);
			return null;
		}
		const started = performance.now();
		const image = await generateOrExplain(generator, params, task.seed, task.index, size);
		return {
			index: task.index,
			size: image.size,
			rgb: image.data,
			milliseconds: performance.now() - started
		};
	}
});
