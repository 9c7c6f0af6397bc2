/** The probe worker: checks compute backends in a process of its own. */
import type { BackendId, BackendProbe, BackendSpeed } from '../../../core/compute/backends';
import type { TaskSpec } from '../../../core/workers/protocol';
import { measureTrainingSpeed, type SpeedRequest } from '../../compute/measure-speed';
import { probeBackends } from '../../compute/probe-backends';
import { serveWorker } from '../runtime';

/** The probe worker's tasks. */
export type ProbeTasks = {
	/** Loads and tests each backend; progress reports each probe as it finishes. */
	backends: TaskSpec<{ only?: BackendId[] }, BackendProbe[], BackendProbe>;
	/** Measures one backend's training speed on a model (a few steps), for `auto`. */
	speed: TaskSpec<SpeedRequest, BackendSpeed, never>;
};

serveWorker<ProbeTasks>({
	backends: (input, { progress }) => probeBackends(input.only, (probe) => progress(probe)),
	speed: (request) => measureTrainingSpeed(request)
});
