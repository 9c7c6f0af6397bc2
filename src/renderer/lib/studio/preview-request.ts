/**
 * What a Studio preview answers and when it is too expensive to render as a side effect. Every
 * grid carries the request it answers; the Studio shows it only while that request still
 * matches the settings on screen.
 */

/** One grid request: everything that decides which pixels come back. */
export interface PreviewRequest {
	generator: string;
	params: Record<string, unknown>;
	size: number;
	seed: number;
	/** Images per side of the grid. */
	side: number;
}

/** Images drawn per request: the whole grid, or one image at a time for expensive settings. */
export type PreviewPlan = { kind: 'grid' } | { kind: 'on-request' } | { kind: 'probe' };

/**
 * A grid whose estimated time exceeds this renders only when asked, image by image, like the
 * feature-visualisation family: a slider move must not start seconds of work nobody can stop.
 */
export const expensiveGridMs = 3_000;

/** The identity of a request: equal keys draw the same pixels. */
export function previewKey(request: PreviewRequest): string {
	return JSON.stringify([
		request.generator,
		request.params,
		request.size,
		request.seed,
		request.side
	]);
}

/** What decides an image's cost (the seed and grid do not): generator, parameters and size. */
export function costKey(request: Pick<PreviewRequest, 'generator' | 'params' | 'size'>): string {
	return JSON.stringify([request.generator, request.params, request.size]);
}

/** Whether an answer to `answered` may be shown while the screen asks for `current`. */
export function answersCurrent(answered: PreviewRequest, current: PreviewRequest): boolean {
	return previewKey(answered) === previewKey(current);
}

/**
 * How to render a grid: a generator declared slow, or settings whose measured cost per image
 * makes the grid exceed {@link expensiveGridMs}, wait for "Render previews"; settings never
 * measured draw one image at a time first (the probe), whose time decides.
 */
export function planPreview(options: {
	declaredSlow: boolean;
	/** Measured milliseconds per image of these settings, when known. */
	msPerImage: number | undefined;
	images: number;
}): PreviewPlan {
	if (options.declaredSlow) return { kind: 'on-request' };
	if (options.msPerImage === undefined) return { kind: 'probe' };
	return options.msPerImage * options.images > expensiveGridMs
		? { kind: 'on-request' }
		: { kind: 'grid' };
}

/** The grid side an expensive configuration starts on: at most 2×2. */
export function expensiveSide(side: number): number {
	return Math.min(side, 2);
}
