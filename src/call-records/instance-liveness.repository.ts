import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The error of the exchanges failed by closing a dead instance's calls (and only of those). */
const CRASHED_EXCHANGE_ERROR = 'service instance crashed';

/** Rows of instances gone for longer than this are deleted. */
const FORGET_AFTER = '7 days';

/**
 * service_instances and the calls they own. The table exists so that the sessions of a
 * dead instance can be told from a live one's: it lives with the call records it
 * qualifies, and the statement that closes orphaned calls joins both.
 */
@Injectable()
export class InstanceLivenessRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** At start-up: this name's previous incarnation is dead, and instances long gone are forgotten. */
  async retirePrevious(name: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE service_instances SET stopped_at = now() WHERE name = $1 AND stopped_at IS NULL`,
      [name],
    );
    await this.dataSource.query(`DELETE FROM service_instances WHERE last_seen_at < now() - $1::interval`, [
      FORGET_AFTER,
    ]);
  }

  async heartbeat(id: string, name: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO service_instances (id, name, started_at, last_seen_at) VALUES ($1, $2, now(), now())
       ON CONFLICT (id) DO UPDATE SET last_seen_at = now()`,
      [id, name],
    );
  }

  /**
   * Ends as 'crashed' the sessions still `active` whose instance (other than `liveId`) is dead, and
   * fails their streaming exchanges; returns how many sessions. Dead means: stopped (a clean
   * shutdown, or a restart under the same name), forgotten, or silent for `deadAfterMs` *and*
   * without any Postgres connection whose application_name is `livenessPrefix` + its id (an
   * instance that still holds a connection is alive, whatever its heartbeat says). A session with
   * no instance_id (written before instances were recorded, or by hand) has no known owner and is
   * left alone.
   */
  async closeOrphanedSessions(liveId: string, deadAfterMs: number, livenessPrefix: string): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
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
            AND (i.id IS NULL OR i.stopped_at IS NOT NULL
                 OR (i.last_seen_at < now() - $2 * interval '1 millisecond'
                     AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = $3 || i.id::text)))
        RETURNING s.id`,
        [liveId, deadAfterMs, livenessPrefix],
      );
      if (sessions.length === 0) return 0;
      await manager.query(
        `UPDATE stream_exchanges SET status = 'failed', error = $2, completed_at = COALESCE(completed_at, now())
          WHERE call_session_id = ANY($1::uuid[]) AND status = 'streaming'`,
        [sessions.map((s) => s.id), CRASHED_EXCHANGE_ERROR],
      );
      return sessions.length;
    });
  }

  /**
   * Takes back the calls of `instanceId` still in progress (`sessionIds`) that another instance
   * closed as 'crashed' while this one was cut off: they are active again, and their exchanges
   * failed by that closing are streaming again (the audit writes how they really ended). Returns
   * how many sessions.
   */
  async reclaimSessions(instanceId: string, sessionIds: string[]): Promise<number> {
    if (sessionIds.length === 0) return 0;
    return this.dataSource.transaction(async (manager) => {
      const [sessions]: [Array<{ id: string }>, number] = await manager.query(
        `UPDATE call_sessions SET status = 'active', end_reason = NULL, ended_at = NULL
          WHERE session_id = ANY($2::text[]) AND instance_id = $1 AND end_reason = 'crashed'
        RETURNING id`,
        [instanceId, sessionIds],
      );
      if (sessions.length === 0) return 0;
      await manager.query(
        `UPDATE stream_exchanges SET status = 'streaming', error = NULL, completed_at = NULL
          WHERE call_session_id = ANY($1::uuid[]) AND status = 'failed' AND error = $2`,
        [sessions.map((s) => s.id), CRASHED_EXCHANGE_ERROR],
      );
      return sessions.length;
    });
  }
}
