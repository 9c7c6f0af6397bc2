/**
 * How the renderer keeps late answers off the screen. Every request an area sends may be
 * overtaken by a newer one (the user picked another run, preset or image meanwhile); its answer
 * must then be dropped, never shown under the newer choice. `Request` (request.svelte.ts) adds
 * the reactive state on top.
 */
import type { ShownError } from './errors';

/**
 * Numbers requests so that only the newest one's answer is applied: `begin` returns a check that
 * stays true until another request begins or `supersede` is called.
 */
export class Latest {
	private ticket = 0;

	/** Starts a request; the returned function says whether it is still the newest. */
	begin(): () => boolean {
		const ticket = ++this.ticket;
		return () => ticket === this.ticket;
	}

	/** Makes whatever is in flight out of date (the choice it answers is gone). */
	supersede(): void {
		this.ticket++;
	}
}

/** What `run` is given: the built request, or why it could not be built. */
export type Built<P> = { ok: true; params: P } | { ok: false; error: ShownError };

/** An answer, or why there is none. */
export type Answer<R> = { ok: true; value: R } | { ok: false; error: ShownError };
