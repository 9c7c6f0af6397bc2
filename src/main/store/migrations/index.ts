import settings from './0001-settings';
import presetsAndDatasets from './0002-presets-and-datasets';
import runs from './0003-runs';
import evaluations from './0004-evaluations';
import probes from './0005-probes';
import externalEncoders from './0006-external-encoders';
import studiesAndQueue from './0007-studies-and-queue';
import gpuAdapters from './0008-gpu-adapters';
import metricSeconds from './0009-metric-seconds';

/** One schema change. `version` is what `PRAGMA user_version` holds after it ran. */
export interface Migration {
	version: number;
	name: string;
	sql: string;
}

/**
 * Every migration, in order. To change the schema, add the next numbered file and list it here;
 * never edit one that has shipped.
 */
export const migrations: readonly Migration[] = [
	settings,
	presetsAndDatasets,
	runs,
	evaluations,
	probes,
	externalEncoders,
	studiesAndQueue,
	gpuAdapters,
	metricSeconds
];
