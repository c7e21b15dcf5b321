import type { AppConfig } from '../config/app-config';

/**
 * Postgres connections one process of the service opens at most: the readers' pool, the audit's
 * pool, the job queue's pool, the bus listener (a connection of its own, outside the pools) and two to spare (the
 * migration lock, a connection being replaced). The embedded server is sized from it.
 */
export function connectionsPerProcess(config: AppConfig): number {
  const busListener = 1;
  return config.database.poolSize + config.audit.poolSize + config.jobs.poolSize + busListener + 2;
}
