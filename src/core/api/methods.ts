/**
 * The names of every API method and event, free of schema code so that Electron's preload can
 * import them without bundling the validators. `contract.ts` must define exactly these (the
 * compiler checks it).
 */
export const apiMethodNames = [
	'system.status',
	'system.doctor',
	'system.pickFolder',
	'system.browseFolders',
	'settings.get',
	'settings.update',
	'settings.allowFolder',
	'settings.removeFolder',
	'generators.catalogue',
	'generators.preview',
	'generators.cancelPreview',
	'generators.diagnostics',
	'generators.requirements',
	'presets.list',
	'presets.save',
	'presets.rename',
	'presets.delete',
	'datasets.list',
	'datasets.export',
	'datasets.cancel',
	'runs.list',
	'runs.get',
	'runs.start',
	'runs.pause',
	'runs.resume',
	'runs.cancel',
	'runs.estimate',
	'runs.cancelEstimate',
	'runs.update',
	'runs.delete',
	'runs.exportBundle',
	'runs.importBundle',
	'runs.importEncoder',
	'runs.exportEncoder',
	'evaluations.datasets',
	'evaluations.registerDataset',
	'evaluations.start',
	'evaluations.list',
	'evaluations.cancel',
	'explain.compute',
	'explain.batch',
	'explain.cancel',
	'explain.images',
	'explain.filters',
	'explain.activations',
	'explain.neighbours',
	'analysis.precisionRecall',
	'analysis.cancel',
	'quickstart.start',
	'quickstart.status',
	'studies.templates',
	'studies.estimate',
	'studies.create',
	'studies.list',
	'studies.get',
	'studies.measureRealism',
	'studies.requeue',
	'studies.delete',
	'studies.export',
	'studies.exportBundle',
	'studies.importBundle',
	'queue.state',
	'queue.move',
	'queue.cancel',
	'queue.retry',
	'queue.setPaused'
] as const;

/** A method name. */
export type ApiMethod = (typeof apiMethodNames)[number];

/** Type guard for a method name received from outside. */
export function isApiMethod(name: unknown): name is ApiMethod {
	return typeof name === 'string' && (apiMethodNames as readonly string[]).includes(name);
}
