import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SqlExecutor } from '../database/sql-executor';
import type {
  AnalysisRequest,
  AnalysisResult,
  AnalysisStatus,
  CallAnalysisRow,
  CallForAnalysis,
} from './call-analysis.types';

const COLUMNS = `call_session_id, request_id, status, summary, outcome, sentiment, custom_fields, model, prompt_tokens,
  completion_tokens, attempts, error, requested_at, started_at, completed_at, duration_ms`;

/** Columns reset when an analysis is asked for again. */
const RESET = `status = 'pending', request_id = EXCLUDED.request_id, summary = NULL, outcome = NULL, sentiment = NULL,
  custom_fields = NULL, model = NULL, prompt_tokens = NULL, completion_tokens = NULL, attempts = 0, error = NULL,
  requested_at = now(), started_at = NULL, completed_at = NULL, duration_ms = NULL`;

export interface BulkSelection {
  since: Date;
  agentId?: string;
  /** Also calls analysed already (otherwise: never analysed, or failed). */
  redo: boolean;
}

/**
 * call_analyses: one row per analysed call. A row waits for one job (`request_id`); only that
 * job may claim it and store its answer, so a re-run supersedes an attempt still in flight.
 * Statements that go with an enqueue take the caller's transaction.
 */
@Injectable()
export class CallAnalysisRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Pending rows for calls that have none yet; returns the requests actually made. Idempotent. */
  async insertPending(tx: SqlExecutor, requests: AnalysisRequest[]): Promise<AnalysisRequest[]> {
    if (requests.length === 0) return [];
    const { rows } = await tx.executeSql(
      `INSERT INTO call_analyses (call_session_id, request_id)
       SELECT r.call_id, r.request_id FROM unnest($1::uuid[], $2::uuid[]) AS r(call_id, request_id)
       JOIN call_sessions s ON s.id = r.call_id
       ON CONFLICT (call_session_id) DO NOTHING
       RETURNING call_session_id, request_id`,
      [requests.map((r) => r.callId), requests.map((r) => r.requestId)],
    );
    return rows.map(toRequest);
  }

  /** Asks again for one call's analysis (whatever its state), under a new request id. */
  async request(tx: SqlExecutor, request: AnalysisRequest): Promise<CallAnalysisRow> {
    const { rows } = await tx.executeSql(
      `INSERT INTO call_analyses AS a (call_session_id, request_id) VALUES ($1, $2)
       ON CONFLICT (call_session_id) DO UPDATE SET ${RESET}
       RETURNING ${COLUMNS}`,
      [request.callId, request.requestId],
    );
    return rows[0] as CallAnalysisRow;
  }

  /** Requests for ended, unredacted calls since a date (see BulkSelection); each gets a fresh request id. */
  async requestMany(tx: SqlExecutor, selection: BulkSelection): Promise<AnalysisRequest[]> {
    const { rows } = await tx.executeSql(
      `INSERT INTO call_analyses AS a (call_session_id, request_id)
       SELECT s.id, gen_random_uuid() FROM call_sessions s
       WHERE s.started_at >= $1 AND s.ended_at IS NOT NULL AND s.redacted_at IS NULL
         AND ($2::text IS NULL OR s.agent_id = $2)
       ON CONFLICT (call_session_id) DO UPDATE SET ${RESET}
       WHERE $3 OR a.status = 'failed'
       RETURNING call_session_id, request_id`,
      [selection.since, selection.agentId ?? null, selection.redo],
    );
    return rows.map(toRequest);
  }

  /** How the given requests stand: by status; a request superseded since counts as `superseded`. */
  async progress(requestIds: string[]): Promise<Partial<Record<AnalysisStatus | 'superseded', number>>> {
    const rows: Array<{ status: AnalysisStatus; count: number }> = await this.dataSource.query(
      `SELECT a.status, count(*)::int AS count FROM call_analyses a
       WHERE a.request_id = ANY($1::uuid[]) GROUP BY a.status`,
      [requestIds],
    );
    const counts: Partial<Record<AnalysisStatus | 'superseded', number>> = {};
    let found = 0;
    for (const row of rows) {
      counts[row.status] = row.count;
      found += row.count;
    }
    if (found < requestIds.length) counts.superseded = requestIds.length - found;
    return counts;
  }

  /**
   * Starts an attempt of job `requestId`: null when the row is gone (the call was deleted),
   * answered already, or waiting for another request.
   */
  async claim(request: AnalysisRequest): Promise<{ attempts: number } | null> {
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
    const [rows]: [Array<{ attempts: number }>, number] = await this.dataSource.query(
      `UPDATE call_analyses SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now())
       WHERE call_session_id = $1 AND request_id = $2 AND status IN ('pending', 'running')
       RETURNING attempts`,
      [request.callId, request.requestId],
    );
    return rows[0] ?? null;
  }

  /** A failed attempt: back to pending with the reason, or `failed` for good after the last. */
  async recordFailure(request: AnalysisRequest, error: string, final: boolean): Promise<void> {
    await this.dataSource.query(
      `UPDATE call_analyses SET error = $3,
         status = CASE WHEN $4 THEN 'failed' ELSE 'pending' END,
         completed_at = CASE WHEN $4 THEN now() END,
         duration_ms = CASE WHEN $4 THEN (extract(epoch FROM now() - started_at) * 1000)::int END
       WHERE call_session_id = $1 AND request_id = $2 AND status = 'running'`,
      [request.callId, request.requestId, error, final],
    );
  }

  /** Stores the answer; null when the row no longer waits for this request (nothing stored). */
  async complete(tx: SqlExecutor, request: AnalysisRequest, result: AnalysisResult): Promise<CallAnalysisRow | null> {
    const { rows } = await tx.executeSql(
      `UPDATE call_analyses SET status = 'completed', summary = $3, outcome = $4, sentiment = $5, custom_fields = $6::jsonb,
         model = $7, prompt_tokens = $8, completion_tokens = $9, error = NULL, completed_at = now(),
         duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int
       WHERE call_session_id = $1 AND request_id = $2 AND status = 'running'
       RETURNING ${COLUMNS}`,
      [
        request.callId,
        request.requestId,
        result.summary,
        result.outcome,
        result.sentiment,
        JSON.stringify(result.customFields),
        result.model,
        result.promptTokens,
        result.completionTokens,
      ],
    );
    return rows.length ? (rows[0] as CallAnalysisRow) : null;
  }

  async find(callId: string): Promise<CallAnalysisRow | null> {
    const rows: CallAnalysisRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM call_analyses WHERE call_session_id = $1`,
      [callId],
    );
    return rows[0] ?? null;
  }

  /** The call and what was said, in order; null when the call is gone. */
  async findCall(callId: string): Promise<CallForAnalysis | null> {
    const sessions: Array<{
      id: string;
      session_id: string;
      agent_id: string;
      started_at: Date;
      ended_at: Date | null;
      redacted_at: Date | null;
    }> = await this.dataSource.query(
      `SELECT id, session_id, agent_id, started_at, ended_at, redacted_at FROM call_sessions WHERE id = $1`,
      [callId],
    );
    const session = sessions[0];
    if (!session) return null;
    const turns: Array<{ kind: 'greeting' | 'reply'; user_text: string | null; response_text: string }> =
      await this.dataSource.query(
        `SELECT kind, last_user_utterance(transcript) AS user_text, response_text
         FROM stream_exchanges WHERE call_session_id = $1 ORDER BY requested_at, stream_id`,
        [callId],
      );
    return {
      id: session.id,
      sessionId: session.session_id,
      agentId: session.agent_id,
      startedAt: session.started_at,
      endedAt: session.ended_at,
      redacted: session.redacted_at !== null,
      turns: turns.map((t) => ({
        kind: t.kind,
        callerText: t.kind === 'reply' ? t.user_text : null,
        agentText: t.response_text,
      })),
    };
  }

  /** The call's id by the platform's session id. */
  async findCallId(sessionId: string): Promise<{ id: string; redacted: boolean } | null> {
    const rows: Array<{ id: string; redacted: boolean }> = await this.dataSource.query(
      `SELECT id, redacted_at IS NOT NULL AS redacted FROM call_sessions WHERE session_id = $1`,
      [sessionId],
    );
    return rows[0] ?? null;
  }

  /** Rows by status, for the metrics. */
  async countByStatus(): Promise<Array<{ status: AnalysisStatus; count: number }>> {
    return this.dataSource.query(`SELECT status, count(*)::int AS count FROM call_analyses GROUP BY status`);
  }
}

function toRequest(row: Record<string, unknown>): AnalysisRequest {
  return { callId: String(row.call_session_id), requestId: String(row.request_id) };
}
