/**
 * The WebGPU adapter a run trained on (vendor, architecture, description, software or not, key
 * limits) as JSON, on the run (its latest session) and on each session. Null for sessions on
 * other backends and for runs from before this version.
 */
export default {
	version: 8,
	name: 'gpu-adapters',
	sql: `
		ALTER TABLE runs ADD COLUMN adapter TEXT;
		ALTER TABLE run_sessions ADD COLUMN adapter TEXT;
	`
};
