import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

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
   * Ends as 'crashed' the sessions still `active` whose instance (other than `liveId`) is stopped,
   * silent for `deadAfterMs`, or forgotten, and fails their streaming exchanges; returns how many
   * sessions. A session with no instance_id (written before instances were recorded, or by hand)
   * has no known owner and is left alone.
   */
  async closeOrphanedSessions(liveId: string, deadAfterMs: number): Promise<number> {
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
            AND (i.id IS NULL OR i.stopped_at IS NOT NULL OR i.last_seen_at < now() - $2 * interval '1 millisecond')
        RETURNING s.id`,
        [liveId, deadAfterMs],
      );
      if (sessions.length === 0) return 0;
      await manager.query(
        `UPDATE stream_exchanges SET status = 'failed', error = 'service instance crashed', completed_at = COALESCE(completed_at, now())
          WHERE call_session_id = ANY($1::uuid[]) AND status = 'streaming'`,
        [sessions.map((s) => s.id)],
      );
      return sessions.length;
    });
  }
}
