import { startService } from '../start-service';
import { ClusterWorker, IpcChannel } from './cluster-worker';
import { ClusterWorkerModule } from './cluster-worker.module';

/** A worker: the service as one process runs it, linked to the primary, which is told once it listens. */
export async function runWorker(slot: number): Promise<void> {
  const worker = new ClusterWorker(slot, process as unknown as IpcChannel);
  const { port } = await startService(ClusterWorkerModule.forWorker(worker), { worker: true });
  worker.send({ type: 'millis:ready', port });
}
