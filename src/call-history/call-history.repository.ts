import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import type { CallEventType, CallStatus, EndReason, ExchangeKind, ExchangeStatus } from '../call-records/call-status';
import { AppConfig } from '../config/app-config';
import type { CallCursor } from './call-cursor';
import { HistoryException, HistoryExceptionCode } from './history.exception';

export interface CallFilters {
  from?: Date;
  to?: Date;
  agentId?: string;
  /** Ids of the phone_numbers rows the `phone` filter resolved to; the call matches on either side. */
  phoneNumberIds?: string[];
  status?: CallStatus;
  hasFailures?: boolean;
  q?: string;
}

/** A row of the call_summaries view (plus the cursor position). */
export interface CallSummaryRow {
  id: string;
  session_id: string;
  agent_id: string;
  call_sid: string | null;
  metadata: Record<string, unknown> | null;
  from_number: string | null;
  to_number: string | null;
  status: CallStatus;
  end_reason: EndReason | null;
  started_at: Date;
  ended_at: Date | null;
  close_code: number | null;
  /** bigint: pg hands it over as a string. */
  duration_ms: string | null;
  turn_count: number;
  failed_exchanges: number;
  has_failures: boolean;
  summary: string | null;
  redacted_at: Date | null;
  cursor_started_at: string;
}

export interface ExchangeRow {
  id: string;
  stream_id: number;
  kind: ExchangeKind;
  status: ExchangeStatus;
  transcript: Array<{ role: string; content: string }>;
  user_text: string | null;
  response_text: string;
  model: string | null;
  error: string | null;
  requested_at: Date;
  first_token_at: Date | null;
  completed_at: Date | null;
  time_to_first_token_ms: number | null;
  total_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  tool_calls: ToolCallRow[];
}

/** One tool call as stored in stream_exchanges.tool_calls. */
export interface ToolCallRow {
  id: string;
  name: string;
  arguments: unknown;
  status: string;
  result?: unknown;
  error?: string;
  round: number;
  started_at: string;
  duration_ms: number;
}

export interface EventRow {
  id: string;
  type: CallEventType;
  stream_id: number | null;
  payload: Record<string, unknown>;
  received_at: Date;
}

export interface StatsRow {
  agent_id: string | null;
  day: string | null;
  /** GROUPING(agent_id, day): 3 for the totals, 1 per agent, 2 per day. */
  grouping_set: number;
  calls: number;
  turns: number;
  failed_exchanges: number;
  failed_calls: number;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
}

export interface CallStream {
  rows: Readable;
  release(): Promise<void>;
}

const SUMMARY_COLUMNS = `
  v.id, v.session_id, v.agent_id, v.call_sid, v.metadata, v.from_number, v.to_number, v.status, v.end_reason,
  v.started_at, v.ended_at, v.close_code, v.duration_ms, v.turn_count, v.failed_exchanges, v.has_failures,
  v.summary, v.redacted_at,
  to_char(v.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_started_at`;

/** Postgres' SQLSTATEs for a statement cancelled by statement_timeout, and a lock wait by lock_timeout. */
const TIMED_OUT = ['57014', '55P03'];
const SET_STATEMENT_TIMEOUT = `SELECT set_config('statement_timeout', $1, true)`;
const SET_LOCK_TIMEOUT = `SELECT set_config('lock_timeout', $1, true)`;

/**
 * The read side of the audit tables, in reviewed SQL over the call_summaries view.
 * Every query runs in its own transaction with HISTORY_STATEMENT_TIMEOUT_MS as its
 * statement_timeout (the export's cursor: see streamCalls): the API shares the pool
 * with calls and the audit, and a query that runs away must give its connection back
 * rather than starve them.
 */
@Injectable()
export class CallHistoryRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  async findPhoneNumberIds(phone: string): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.query(PHONE_NUMBER_IDS_QUERY, [phone]);
    return rows.map((r) => r.id);
  }

  /** Newest first; `after` continues from a previous page (keyset, so pages never shift). */
  async listCalls(filters: CallFilters, after: CallCursor | undefined, limit: number): Promise<CallSummaryRow[]> {
    const { sql, params } = listCallsQuery(filters, after, limit);
    return this.query(sql, params);
  }

  /**
   * Every matching call through a server-side cursor: memory stays flat whatever the
   * count. Resolves once the first rows are in, so a failing query is reported before a
   * response starts. Postgres times a cursor from its first fetch to its last, slow
   * client included, so a statement timeout would cap the whole export: lock_timeout
   * bounds its waits instead. `release` ends the transaction and returns the connection.
   */
  async streamCalls(filters: CallFilters): Promise<CallStream> {
    const { sql, params } = listCallsQuery(filters);
    const runner = this.dataSource.createQueryRunner();
    const release = async () => {
      try {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
    };
    try {
      await runner.startTransaction();
      await runner.query(SET_LOCK_TIMEOUT, [String(this.config.history.statementTimeoutMs)]);
      const rows = await runner.stream(sql, params);
      await once(rows, 'readable');
      return { rows, release };
    } catch (error) {
      await release().catch(() => undefined);
      throw this.explain(error);
    }
  }

  async findCall(sessionId: string): Promise<CallSummaryRow | null> {
    const rows: CallSummaryRow[] = await this.query(
      `SELECT ${SUMMARY_COLUMNS} FROM call_summaries v WHERE v.session_id = $1`,
      [sessionId],
    );
    return rows[0] ?? null;
  }

  async findExchanges(callId: string): Promise<ExchangeRow[]> {
    return this.query(
      `SELECT e.id, e.stream_id, e.kind, e.status, e.transcript, last_user_utterance(e.transcript) AS user_text,
              e.response_text, e.model, e.error, e.requested_at, e.first_token_at, e.completed_at,
              round(extract(epoch FROM e.first_token_at - e.requested_at) * 1000, 1)::float8 AS time_to_first_token_ms,
              round(extract(epoch FROM e.completed_at - e.requested_at) * 1000, 1)::float8 AS total_ms,
              e.prompt_tokens, e.completion_tokens, e.total_tokens, e.tool_calls
       FROM stream_exchanges e
       WHERE e.call_session_id = $1
       ORDER BY e.requested_at, e.stream_id`,
      [callId],
    );
  }

  async findEvents(callId: string): Promise<EventRow[]> {
    return this.query(
      `SELECT ev.id, ev.type, ev.stream_id, ev.payload, ev.received_at
       FROM call_events ev
       WHERE ev.call_session_id = $1
       ORDER BY ev.received_at, ev.id`,
      [callId],
    );
  }

  /**
   * Totals, per agent and per UTC day in one pass (GROUPING SETS). Time to first token
   * counts only LLM-written replies and greetings: a static greeting has no model and no wait.
   */
  async stats(from: Date, to: Date): Promise<StatsRow[]> {
    return this.query(
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

  private async query<T>(sql: string, params: unknown[]): Promise<T> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        await manager.query(SET_STATEMENT_TIMEOUT, [String(this.config.history.statementTimeoutMs)]);
        return manager.query(sql, params);
      });
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** A query error as the API can report it: a cancelled statement becomes a QUERY_TIMEOUT. */
  private explain(error: unknown): unknown {
    const code =
      (error as { code?: unknown; driverError?: { code?: unknown } })?.driverError?.code ??
      (error as { code?: unknown })?.code;
    if (typeof code !== 'string' || !TIMED_OUT.includes(code)) return error;
    const ms = this.config.history.statementTimeoutMs;
    return new HistoryException(
      HistoryExceptionCode.QUERY_TIMEOUT,
      `the query took longer than ${ms} ms (HISTORY_STATEMENT_TIMEOUT_MS) and was cancelled: narrow the time range or filters, or try again`,
    );
  }
}

export const PHONE_NUMBER_IDS_QUERY = `SELECT id FROM phone_numbers WHERE phone_digits(number) = phone_digits($1)`;

/** The list (and, without a limit, the export) query; also what `npm run explain-check` explains. */
export function listCallsQuery(
  filters: CallFilters,
  after?: CallCursor,
  limit?: number,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = buildWhere(filters, params);
  if (after) {
    where.push(
      `(v.started_at, v.id) < (${param(params, after.startedAt)}::timestamptz, ${param(params, after.id)}::uuid)`,
    );
  }
  const sql = `SELECT ${SUMMARY_COLUMNS}
    FROM call_summaries v
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY v.started_at DESC, v.id DESC
    ${limit === undefined ? '' : `LIMIT ${param(params, limit)}`}`;
  return { sql, params };
}

function param(params: unknown[], value: unknown): string {
  params.push(value);
  return `$${params.length}`;
}

function buildWhere(filters: CallFilters, params: unknown[]): string[] {
  const where: string[] = [];
  if (filters.from) where.push(`v.started_at >= ${param(params, filters.from)}`);
  if (filters.to) where.push(`v.started_at < ${param(params, filters.to)}`);
  if (filters.agentId !== undefined)
    where.push(
      `left(v.agent_id, 200) = left(${param(params, filters.agentId)}, 200) AND v.agent_id = $${params.length}`,
    );
  if (filters.phoneNumberIds) {
    const ids = param(params, filters.phoneNumberIds);
    where.push(`(v.from_number_id = ANY(${ids}::uuid[]) OR v.to_number_id = ANY(${ids}::uuid[]))`);
  }
  if (filters.status) where.push(`v.status = ${param(params, filters.status)}`);
  if (filters.hasFailures !== undefined) {
    where.push(
      `${filters.hasFailures ? '' : 'NOT '}EXISTS (SELECT 1 FROM stream_exchanges f WHERE f.call_session_id = v.id AND f.status = 'failed')`,
    );
  }
  if (filters.q) {
    where.push(
      `EXISTS (SELECT 1 FROM stream_exchanges m WHERE m.call_session_id = v.id
               AND exchange_search_vector(m.response_text, m.transcript) @@ call_search_query(${param(params, filters.q)}))`,
    );
  }
  return where;
}
