import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InstanceLivenessRepository } from '../call-records/instance-liveness.repository';
import { describeError } from '../common/describe-error';
import { AppConfig } from '../config/app-config';
import { ServiceInstance } from './service-instance';

/** An instance silent for this many heartbeats is dead. */
const MISSED_HEARTBEATS = 3;

/**
 * Keeps `service_instances.last_seen_at` fresh (a timer, off the call path) and closes as
 * 'crashed' the sessions left `active` by instances that are dead: at start-up (including
 * this process's previous incarnation, recognised by its name) and at every heartbeat
 * (an instance that died while others run).
 */
@Injectable()
export class InstanceHeartbeat implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InstanceHeartbeat.name);
  private timer?: NodeJS.Timeout;
  private beating: Promise<void> | null = null;
  private failing = false;
  private closedCount = 0;

  constructor(
    private readonly liveness: InstanceLivenessRepository,
    private readonly instance: ServiceInstance,
    private readonly config: AppConfig,
  ) {}

  /** Sessions of dead instances this one closed as 'crashed' since start (read by the metrics). */
  get crashedSessionsClosed(): number {
    return this.closedCount;
  }

  get deadAfterMs(): number {
    return this.config.instance.heartbeatMs * MISSED_HEARTBEATS;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.liveness.retirePrevious(this.instance.name);
    await this.beat();
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => (this.beating = null));
    }, this.config.instance.heartbeatMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.beating;
  }

  private async beat(): Promise<void> {
    try {
      await this.liveness.heartbeat(this.instance.id, this.instance.name);
      await this.closeOrphanedSessions();
      if (this.failing) this.logger.log('Heartbeat recovered');
      this.failing = false;
    } catch (error) {
      if (!this.failing)
        this.logger.warn(
          `Heartbeat failed (${describeError(error)}); retrying every ${this.config.instance.heartbeatMs} ms`,
        );
      this.failing = true;
    }
  }

  private async closeOrphanedSessions(): Promise<void> {
    const closed = await this.liveness.closeOrphanedSessions(this.instance.id, this.deadAfterMs);
    if (closed === 0) return;
    this.closedCount += closed;
    this.logger.warn(`Closed ${closed} session(s) left active by a dead instance (end_reason 'crashed')`);
  }
}
