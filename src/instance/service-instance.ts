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

  constructor(config: AppConfig, role: ProcessRole) {
    const name = config.instance.name ?? `${hostname()}:${config.http.port}`;
    this.name = role.workerSlot === null ? name : `${name}/worker-${role.workerSlot}`;
  }
}
