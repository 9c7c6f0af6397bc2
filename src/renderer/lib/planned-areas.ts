import type { AreaId } from './router.svelte';

/** What an area that is not built yet will hold, so the shell says so honestly. */
export interface PlannedArea {
	title: string;
	summary: string;
	features: string[];
}

/** The areas that later releases fill, by id. */
export const plannedAreas: Record<
	Exclude<AreaId, 'settings' | 'generate' | 'train'>,
	PlannedArea
> = {
	evaluate: {
		title: 'Evaluation',
		summary: 'Measure what an encoder learned on real images.',
		features: [
			'Linear probe and kNN on image folders, CIFAR and MNIST-format datasets',
			'Random-init and real-data controls side by side',
			'A bundled Fashion-MNIST subset, so it works offline on first launch'
		]
	},
	runs: {
		title: 'Runs',
		summary: 'Every experiment, kept in the local database.',
		features: [
			'History with search, rename and delete',
			'Side-by-side comparison of runs and their curves'
		]
	},
	explain: {
		title: 'Explain',
		summary: 'Look inside the models.',
		features: [
			'Grad-CAM of a noise-trained and a real-trained encoder on the same image',
			'Filters and nearest neighbours'
		]
	}
};
