/**
 * Where the linear probe of an evaluation is kept (`<run folder>/probes/…`), so Explain can
 * take class targets through it. Null for kNN evaluations, for evaluations from before this
 * version and when the file could not be written.
 */
export default {
	version: 5,
	name: 'probes',
	sql: `
		ALTER TABLE evaluations ADD COLUMN probe_path TEXT;
	`
};
