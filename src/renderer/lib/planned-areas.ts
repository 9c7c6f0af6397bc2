import type { AreaId } from './router.svelte';

/** What an area that is not built yet will hold, so the shell says so honestly. */
export interface PlannedArea {
	title: string;
	summary: string;
	features: string[];
}

/** The areas that later releases fill, by id. */
export const plannedAreas: Record<
	Exclude<AreaId, 'settings' | 'generate' | 'train' | 'evaluate' | 'runs'>,
	PlannedArea
> = {
	explain: {
		title: 'Explain',
		summary:
			'Look inside the models. Until this area is built, `noiselab explain --runs A,B --dataset fashion-mnist-mini --index 3 --out grid.png` draws Grad-CAM maps side by side on the command line.',
		features: [
			'Grad-CAM of a noise-trained and a real-trained encoder on the same image',
			'Filters and nearest neighbours'
		]
	}
};
