import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SqlExecutor } from '../database/sql-executor';

/** A call whose start or end is claimed for dispatch. */
export interface ClaimedCall {
  callId: string;
  sessionId: string;
  agentId: string;
  /** started_at for a start, ended_at for an end. */
  at: Date;
}

/**
 * The dispatch state of call_sessions: which starts and ends were handed on. A claim locks the
 * rows (SKIP LOCKED), so each is claimed by one instance, and is undone when the caller's
 * transaction rolls back.
 */
@Injectable()
export class CallEventDispatchRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Calls whose start is not dispatched yet, oldest first (a read: the claim decides). */
  async pendingStarts(limit: number): Promise<string[]> {
    return this.ids(
      `SELECT id FROM call_sessions WHERE started_dispatched_at IS NULL ORDER BY started_at LIMIT $1`,
      limit,
    );
  }

  /** Calls that ended and whose end is not dispatched yet, oldest first. */
  async pendingEnds(limit: number): Promise<string[]> {
    return this.ids(
      `SELECT id FROM call_sessions WHERE ended_at IS NOT NULL AND ended_dispatched_at IS NULL ORDER BY ended_at LIMIT $1`,
      limit,
    );
  }

  /** Marks these starts dispatched, skipping rows another instance holds or already dispatched. */
  async claimStarts(tx: SqlExecutor, callIds: string[]): Promise<ClaimedCall[]> {
    return this.claim(
      tx,
      `UPDATE call_sessions s SET started_dispatched_at = now()
        WHERE s.id IN (SELECT id FROM call_sessions WHERE id = ANY($1::uuid[]) AND started_dispatched_at IS NULL
                          FOR UPDATE SKIP LOCKED)
        RETURNING s.id, s.session_id, s.agent_id, s.started_at AS at`,
      callIds,
    );
  }

  async claimEnds(tx: SqlExecutor, callIds: string[]): Promise<ClaimedCall[]> {
    return this.claim(
      tx,
      `UPDATE call_sessions s SET ended_dispatched_at = now()
        WHERE s.id IN (SELECT id FROM call_sessions
                        WHERE id = ANY($1::uuid[]) AND ended_at IS NOT NULL AND ended_dispatched_at IS NULL
                          FOR UPDATE SKIP LOCKED)
        RETURNING s.id, s.session_id, s.agent_id, s.ended_at AS at`,
      callIds,
    );
  }

  private async ids(sql: string, limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(sql, [limit]);
    return rows.map((r) => r.id);
  }

  private async claim(tx: SqlExecutor, sql: string, callIds: string[]): Promise<ClaimedCall[]> {
    if (callIds.length === 0) return [];
    const { rows } = await tx.executeSql(sql, [callIds]);
    return rows
      .map((r) => ({
        callId: r.id as string,
        sessionId: r.session_id as string,
        agentId: r.agent_id as string,
        at: r.at as Date,
      }))
      .sort((a, b) => a.at.getTime() - b.at.getTime());
  }
}
