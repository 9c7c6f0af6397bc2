/** A replica thread of data-parallel training; see `training/replica-thread.ts`. */
import { replicaThread } from '../../training/replica-thread';
import { serveThread } from '../../threads/serve';

serveThread(replicaThread);
