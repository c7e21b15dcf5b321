import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import type { OutcomeRow, StatsRow } from './call-record.types';
import { readWithTimeout } from './statement-timeout';

@Injectable()
export class CallStatsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  /**
   * Totals, per agent and per UTC day in one pass (GROUPING SETS). Time to first token
   * counts only LLM-written replies and greetings: a static greeting has no model and no wait.
   */
  async stats(from: Date, to: Date): Promise<StatsRow[]> {
    return readWithTimeout(
      this.dataSource,
      this.config.history.statementTimeoutMs,
      `WITH exchange AS (
         SELECT s.id AS call_id, s.agent_id, to_char(s.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                e.id, e.kind, e.status,
                CASE WHEN e.model IS NOT NULL THEN extract(epoch FROM e.first_token_at - e.requested_at)::float8 * 1000 END AS ttft_ms
         FROM call_sessions s
         LEFT JOIN stream_exchanges e ON e.call_session_id = s.id
         WHERE s.started_at >= $1 AND s.started_at < $2
       )
       SELECT agent_id, day,
              GROUPING(agent_id, day) AS grouping_set,
              count(DISTINCT call_id)::int AS calls,
              (count(id) FILTER (WHERE kind = 'reply'))::int AS turns,
              (count(id) FILTER (WHERE status = 'failed'))::int AS failed_exchanges,
              (count(DISTINCT call_id) FILTER (WHERE status = 'failed'))::int AS failed_calls,
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms)::numeric, 1)::float8 AS ttft_p50_ms,
              round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ttft_ms)::numeric, 1)::float8 AS ttft_p95_ms
       FROM exchange
       GROUP BY GROUPING SETS ((), (agent_id), (day))
       ORDER BY grouping_set DESC, agent_id, day`,
      [from, to],
    );
  }

  /** Completed analyses of the calls that started in the window, by outcome: in total and per agent. */
  async outcomes(from: Date, to: Date): Promise<OutcomeRow[]> {
    return readWithTimeout(
      this.dataSource,
      this.config.history.statementTimeoutMs,
      `SELECT CASE WHEN GROUPING(s.agent_id) = 0 THEN s.agent_id END AS agent_id, a.outcome, count(*)::int AS calls
       FROM call_sessions s
       JOIN call_analyses a ON a.call_session_id = s.id
       WHERE s.started_at >= $1 AND s.started_at < $2 AND a.status = 'completed' AND a.outcome IS NOT NULL
       GROUP BY GROUPING SETS ((a.outcome), (s.agent_id, a.outcome))
       ORDER BY agent_id NULLS FIRST, calls DESC, a.outcome`,
      [from, to],
    );
  }
}
