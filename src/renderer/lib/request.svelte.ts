/** A request kind's reactive lifecycle; the guard itself is `Latest` (request.ts). */
import type { ShownError } from './errors';
import { Latest, type Answer, type Built } from './request';

/**
 * One request kind's lifecycle: busy flag, error, and the result together with the request it
 * answers (`params`), so that a view can tell whether what it shows still matches its choices.
 * An answer arriving after a newer request (or `clear`) is dropped.
 */
export class Request<P, R> {
	busy = $state(false);
	error = $state<ShownError | null>(null);
	result = $state.raw<R | null>(null);
	/** The request the shown result answers. */
	params = $state.raw<P | null>(null);
	/** The request in flight, while `busy`. */
	pending = $state.raw<P | null>(null);
	private readonly latest = new Latest();

	/**
	 * Runs `call` unless `built` says what is missing; a newer run supersedes this one. Resolves
	 * true when this answer was applied (shown), false when it was dropped or failed.
	 */
	async run(built: Built<P>, call: (params: P) => Promise<Answer<R>>): Promise<boolean> {
		if (!built.ok) {
			this.error = built.error;
			return false;
		}
		const current = this.latest.begin();
		this.busy = true;
		this.pending = built.params;
		this.error = null;
		const answer = await call(built.params);
		if (!current()) return false;
		this.busy = false;
		this.pending = null;
		if (!answer.ok) {
			this.error = answer.error;
			return false;
		}
		this.result = answer.value;
		this.params = built.params;
		return true;
	}

	/** Drops whatever is in flight, keeping the shown result (e.g. the user cancelled). */
	abandon(): void {
		this.latest.supersede();
		this.busy = false;
		this.pending = null;
	}

	/** Forgets the result (e.g. the dataset changed under it). */
	clear(): void {
		this.abandon();
		this.error = null;
		this.result = null;
		this.params = null;
	}
}
