import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ServiceInstance } from './service-instance';

/** An instance silent for this many heartbeats is dead. */
const MISSED_HEARTBEATS = 3;
/** Rows of instances gone for longer than this are deleted. */
const FORGET_AFTER = '7 days';

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
    @InjectDataSource() private readonly dataSource: DataSource,
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
    await this.dataSource.query(
      `UPDATE service_instances SET stopped_at = now() WHERE name = $1 AND stopped_at IS NULL`,
      [this.instance.name],
    );
    await this.dataSource.query(`DELETE FROM service_instances WHERE last_seen_at < now() - $1::interval`, [
      FORGET_AFTER,
    ]);
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
      await this.dataSource.query(
        `INSERT INTO service_instances (id, name, started_at, last_seen_at) VALUES ($1, $2, now(), now())
         ON CONFLICT (id) DO UPDATE SET last_seen_at = now()`,
        [this.instance.id, this.instance.name],
      );
      await this.closeOrphanedSessions();
      if (this.failing) this.logger.log('Heartbeat recovered');
      this.failing = false;
    } catch (error) {
      if (!this.failing)
        this.logger.warn(
          `Heartbeat failed (${(error as Error).message}); retrying every ${this.config.instance.heartbeatMs} ms`,
        );
      this.failing = true;
    }
  }

  /**
   * Sessions still `active` whose instance is stopped, silent, or forgotten. A session with no
   * instance_id (written before instances were recorded, or by hand) has no known owner and is left alone.
   */
  private async closeOrphanedSessions(): Promise<void> {
    const closed = await this.dataSource.transaction(async (manager) => {
      // TypeORM answers an UPDATE with [rows, rowCount].
      const [sessions]: [Array<{ id: string }>, number] = await manager.query(
        `UPDATE call_sessions s
            SET status = 'ended', end_reason = 'crashed',
                ended_at = GREATEST(s.started_at, COALESCE(i.last_seen_at, now()))
           FROM call_sessions s2
           LEFT JOIN service_instances i ON i.id = s2.instance_id
          WHERE s2.id = s.id
            AND s.status = 'active'
            AND s.instance_id <> $1
            AND (i.id IS NULL OR i.stopped_at IS NOT NULL OR i.last_seen_at < now() - $2 * interval '1 millisecond')
        RETURNING s.id`,
        [this.instance.id, this.deadAfterMs],
      );
      if (sessions.length === 0) return 0;
      await manager.query(
        `UPDATE stream_exchanges SET status = 'failed', error = 'service instance crashed', completed_at = COALESCE(completed_at, now())
          WHERE call_session_id = ANY($1::uuid[]) AND status = 'streaming'`,
        [sessions.map((s) => s.id)],
      );
      return sessions.length;
    });
    if (closed > 0) {
      this.closedCount += closed;
      this.logger.warn(`Closed ${closed} session(s) left active by a dead instance (end_reason 'crashed')`);
    }
  }
}
