import type { ApiEvent, ApiEventName, ApiEventPayload } from '../core/api/contract';

/** Fan-out of API events to every connected window or WebSocket client. */
export class EventBus {
	private readonly listeners = new Set<(event: ApiEvent) => void>();

	/** Sends an event to every subscriber. A failing subscriber does not stop the others. */
	emit<E extends ApiEventName>(name: E, payload: ApiEventPayload<E>): void {
		const event = { name, payload } as ApiEvent;
		for (const listener of this.listeners) {
			try {
				listener(event);
			} catch (error) {
				console.error(`An event listener for ${name} failed:`, error);
			}
		}
	}

	/** Returns the function that unsubscribes. */
	subscribe(listener: (event: ApiEvent) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}
}
