/** The probe worker: checks compute backends in a process of its own. */
import type { BackendId, BackendProbe } from '../../../core/compute/backends';
import type { TaskSpec } from '../../../core/workers/protocol';
import { probeBackends } from '../../compute/probe-backends';
import { serveWorker } from '../runtime';

/** The probe worker's tasks. */
export type ProbeTasks = {
	/** Loads and tests each backend; progress reports each probe as it finishes. */
	backends: TaskSpec<{ only?: BackendId[] }, BackendProbe[], BackendProbe>;
};

serveWorker<ProbeTasks>({
	backends: (input, { progress }) => probeBackends(input.only, (probe) => progress(probe))
});
