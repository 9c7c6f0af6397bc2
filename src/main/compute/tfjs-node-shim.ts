import util from 'node:util';

/**
 * tfjs-node 4.22 calls `util.isNullOrUndefined`, which Node 23 removed; Electron's utility
 * processes run a newer Node than 22. Restoring it is harmless where it still exists.
 */
export function installTfjsNodeShim(): void {
	const legacy = util as unknown as { isNullOrUndefined?: (value: unknown) => boolean };
	legacy.isNullOrUndefined ??= (value: unknown) => value === null || value === undefined;
	// The GPU build otherwise reserves all GPU memory up front.
	process.env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
}
