/**
 * Choosing a folder on the machine that runs NoiseLab: the system dialog in the desktop app, and
 * in web mode a browser of the host's folders (`system.browseFolders`) within what the host-path
 * policy lets this client use, instead of typing server paths. Created once by the shell; every
 * area asks it through {@link FolderPicker.choose}.
 */
import type { ApiClient } from '../../core/api/client';
import type { FolderListing } from '../../core/api/settings';
import { describeError, type ShownError } from './errors';
import { Latest } from './request';

/** The in-page browser while it is open. */
export interface FolderBrowsing {
	title: string;
	listing: FolderListing | null;
	loading: boolean;
	error: ShownError | null;
}

/** The folder chooser shared by every area. */
export class FolderPicker {
	/** The in-page browser's state; null while it is closed (always, in the desktop app). */
	browsing = $state<FolderBrowsing | null>(null);
	private settle: ((folder: string | null) => void) | null = null;
	private readonly listing = new Latest();

	constructor(private readonly api: ApiClient) {}

	/** The chosen folder's absolute path, or null when the user cancelled. */
	async choose(title: string): Promise<string | null> {
		if (this.api.transport === 'electron') {
			const result = await this.api.call('system.pickFolder', { title });
			if (!result.ok) return null;
			if (result.value.supported) return result.value.path;
		}
		this.settle?.(null);
		this.browsing = { title, listing: null, loading: false, error: null };
		const chosen = new Promise<string | null>((resolve) => (this.settle = resolve));
		void this.open(null);
		return chosen;
	}

	/** Lists `folder` (null: the starting points); a failure stays on the folder shown. */
	async open(folder: string | null): Promise<void> {
		const browsing = this.browsing;
		if (!browsing) return;
		const current = this.listing.begin();
		browsing.loading = true;
		const result = await this.api.call('system.browseFolders', { path: folder });
		if (!current() || this.browsing !== browsing) return;
		browsing.loading = false;
		if (result.ok) {
			browsing.listing = result.value;
			browsing.error = null;
		} else {
			browsing.error = describeError(result.error);
		}
	}

	/** Ends the browsing with `folder` chosen, or with nothing (null). */
	finish(folder: string | null): void {
		this.listing.supersede();
		this.browsing = null;
		const settle = this.settle;
		this.settle = null;
		settle?.(folder);
	}
}
