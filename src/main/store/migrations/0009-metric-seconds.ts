/**
 * The training time at each logged step: seconds of the run's training up to that step, as the
 * trainer measured it (the sessions that led to this step, without the gaps while the run was
 * paused or interrupted, and without the steps a resume re-trained). Null for steps logged
 * before this version, which recorded only the run's total.
 */
export default {
	version: 9,
	name: 'metric-seconds',
	sql: `
		ALTER TABLE run_metrics ADD COLUMN seconds REAL;
	`
};
