import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { CallActivityFeed } from '../call-activity/call-activity.feed';
import { InstanceLivenessRepository } from '../call-records/instance-liveness.repository';
import { describeError } from '../common/describe-error';
import { AppConfig } from '../config/app-config';
import { LIVENESS_APPLICATION_PREFIX, ServiceInstance } from './service-instance';

/**
 * Keeps `service_instances.last_seen_at` fresh (a timer, off the call path) and closes as
 * 'crashed' the sessions left `active` by instances that are dead: at start-up (including
 * this process's previous incarnation, recognised by its name) and at every heartbeat
 * (an instance that died while others run).
 *
 * The takeover rule (docs/operations.md, "Instances"): an instance is dead only when stopped,
 * or silent for INSTANCE_TAKEOVER_AFTER_MS (far longer than a heartbeat) with no connection of
 * its own left on Postgres. Each beat of this instance first re-asserts its heartbeat, then takes
 * back its calls still in progress that another instance closed while it was cut off, and only
 * then looks at the others.
 */
@Injectable()
export class InstanceHeartbeat
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnModuleDestroy
{
  private readonly logger = new Logger(InstanceHeartbeat.name);
  private timer?: NodeJS.Timeout;
  private beating: Promise<void> | null = null;
  private failing = false;
  private closedCount = 0;
  private reclaimedCount = 0;
  /** This process's calls in progress (by session id). */
  private readonly liveSessions = new Set<string>();
  private subscription?: Subscription;

  constructor(
    private readonly liveness: InstanceLivenessRepository,
    private readonly instance: ServiceInstance,
    private readonly config: AppConfig,
    private readonly feed: CallActivityFeed,
  ) {}

  /** Sessions of dead instances this one closed as 'crashed' since start (read by the metrics). */
  get crashedSessionsClosed(): number {
    return this.closedCount;
  }

  /** Sessions of this instance closed as 'crashed' by another and taken back (read by the metrics). */
  get sessionsReclaimed(): number {
    return this.reclaimedCount;
  }

  get deadAfterMs(): number {
    return this.config.instance.takeoverAfterMs;
  }

  onModuleInit(): void {
    this.subscription = this.feed.activity$.subscribe((activity) => {
      if (activity.type === 'call_started') this.liveSessions.add(activity.sessionId);
      else if (activity.type === 'call_ended') this.liveSessions.delete(activity.sessionId);
    });
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

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  private async beat(): Promise<void> {
    try {
      await this.liveness.heartbeat(this.instance.id, this.instance.name);
      await this.reclaim();
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

  /** Cheap when nothing was taken: one indexed UPDATE that matches no row. */
  private async reclaim(): Promise<void> {
    const reclaimed = await this.liveness.reclaimSessions(this.instance.id, [...this.liveSessions]);
    if (reclaimed === 0) return;
    this.reclaimedCount += reclaimed;
    this.logger.warn(
      `Took back ${reclaimed} call(s) in progress here that another instance had closed as 'crashed' while this one was cut off from Postgres`,
    );
  }

  private async closeOrphanedSessions(): Promise<void> {
    const closed = await this.liveness.closeOrphanedSessions(
      this.instance.id,
      this.deadAfterMs,
      LIVENESS_APPLICATION_PREFIX,
    );
    if (closed === 0) return;
    this.closedCount += closed;
    this.logger.warn(`Closed ${closed} session(s) left active by a dead instance (end_reason 'crashed')`);
  }
}
