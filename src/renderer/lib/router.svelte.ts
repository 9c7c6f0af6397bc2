/** The app's areas, in navigation order. `planned` areas are filled by upcoming releases. */
export const areas = [
	{ id: 'generate', label: 'Generate', icon: '▦' },
	{ id: 'train', label: 'Train', icon: '◎' },
	{ id: 'evaluate', label: 'Evaluate', icon: '◇' },
	{ id: 'studies', label: 'Studies', icon: '▤' },
	{ id: 'runs', label: 'Runs', icon: '☰' },
	{ id: 'explain', label: 'Explain', icon: '◐' },
	{ id: 'settings', label: 'Settings', icon: '⚙' }
] as const;

/** One of the app's areas. */
export type AreaId = (typeof areas)[number]['id'];

function parse(hash: string): AreaId {
	const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
	return areas.find((area) => area.id === id)?.id ?? 'generate';
}

/** Hash routing (`#/settings`), so a reload or a shared URL keeps the area. */
export class Router {
	current = $state<AreaId>(parse(location.hash));

	constructor() {
		window.addEventListener('hashchange', () => {
			this.current = parse(location.hash);
		});
	}
}
