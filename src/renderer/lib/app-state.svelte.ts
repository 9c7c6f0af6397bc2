import type { ApiClient } from '../../core/api/client';
import type { AppStatus } from '../../core/api/contract';
import type { BackendSelection } from '../../core/compute/backends';
import { connectApi, type ConnectionState } from './transports';

/** State shared by the shell: the connection, the app status and the active backend. */
export class AppState {
	connection = $state<ConnectionState>('connecting');
	status = $state<AppStatus | null>(null);
	backend = $state<BackendSelection | null>(null);
	error = $state<string | null>(null);
	readonly api: ApiClient;

	constructor() {
		this.api = connectApi((state) => {
			this.connection = state;
			// Deferred: Electron's transport is open before `api` is assigned.
			if (state === 'open') queueMicrotask(() => void this.refresh());
		});
		this.api.on('backend.changed', (selection) => {
			this.backend = selection;
		});
	}

	/** Reloads the status; called on every (re)connection. */
	async refresh(): Promise<void> {
		const result = await this.api.call('system.status', {});
		if (result.ok) {
			this.status = result.value;
			this.backend = result.value.backend ?? this.backend;
			this.error = null;
		} else {
			this.error = result.error.message;
		}
	}
}
