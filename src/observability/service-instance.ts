import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { AppConfig } from '../config/app-config';

/**
 * This process among the instances sharing Postgres: a fresh id at every boot (stamped on
 * the sessions it writes) and a name that survives restarts (INSTANCE_NAME, default
 * host:port), so a restarted process knows its previous incarnation is dead.
 */
@Injectable()
export class ServiceInstance {
  readonly id = randomUUID();
  readonly name: string;

  constructor(config: AppConfig) {
    this.name = config.instance.name ?? `${hostname()}:${config.http.port}`;
  }
}
