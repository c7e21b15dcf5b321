import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { AppConfig } from '../config/app-config';
import { ProcessRole } from '../config/process-role';

/**
 * This process among the instances sharing Postgres: a fresh id at every boot (stamped on
 * the sessions it writes) and a name that survives restarts (INSTANCE_NAME, default
 * host:port), so a restarted process knows its previous incarnation is dead.
 *
 * With WORKERS each worker is an instance of its own, named after its slot (`host:port/worker-2`):
 * the workers share a port, and a worker starting with its sibling's name would take it for its
 * own dead incarnation and close its calls. A worker's replacement takes over its slot, so it
 * closes the calls of the worker that died at once, as a restarted process does.
 */
@Injectable()
export class ServiceInstance {
  readonly id = randomUUID();
  readonly name: string;
  /** The instance this process belongs to: its name, or for a worker its primary's (shared by its siblings). */
  readonly group: string;

  constructor(config: AppConfig, role: ProcessRole) {
    this.group = config.instance.name ?? `${hostname()}:${config.http.port}`;
    this.name = role.workerSlot === null ? this.group : `${this.group}/worker-${role.workerSlot}`;
  }

  /**
   * The application_name of this process's bus connection: while Postgres has a backend with it,
   * the process is alive whatever its heartbeat says (the takeover rule reads it).
   */
  get livenessApplicationName(): string {
    return `${LIVENESS_APPLICATION_PREFIX}${this.id}`;
  }
}

/** Followed by the instance id (36 characters; Postgres keeps 63). */
export const LIVENESS_APPLICATION_PREFIX = 'millis-llm-service bus ';
