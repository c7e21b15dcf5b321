import { startService } from '../start-service';
import { ClusterWorker, IpcChannel } from './cluster-worker';
import { ClusterWorkerModule } from './cluster-worker.module';

/** A worker: the service as one process runs it, linked to the primary, which is told once it listens. */
export async function runWorker(slot: number): Promise<void> {
  if (!hasIpcChannel(process)) throw new Error(`worker ${slot} has no IPC channel: only the primary starts workers`);
  const worker = new ClusterWorker(slot, process);
  const { port } = await startService(ClusterWorkerModule.forWorker(worker), { worker: true });
  worker.send({ type: 'millis:ready', port });
}

/** `process.send` exists only in a process forked with an IPC channel, as cluster workers are. */
function hasIpcChannel(proc: NodeJS.Process): proc is NodeJS.Process & IpcChannel {
  return typeof proc.send === 'function';
}
