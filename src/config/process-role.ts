import cluster from 'node:cluster';
import type { AppConfig } from './app-config';

/**
 * This process's place in the service: the whole of it, or one worker of a cluster (WORKERS),
 * in slot 1 to WORKERS. Always provided, so code that behaves differently in a worker
 * (instance name, migrations, health) asks it instead of looking for the cluster's link.
 */
export class ProcessRole {
  constructor(
    /** Null when this process is the whole service. */
    readonly workerSlot: number | null,
  ) {}

  /** A worker is a process forked by the primary, which hands it CLUSTER_WORKER_SLOT. */
  static of(config: AppConfig): ProcessRole {
    return new ProcessRole(cluster.isWorker ? (config.cluster.workerSlot ?? null) : null);
  }
}
