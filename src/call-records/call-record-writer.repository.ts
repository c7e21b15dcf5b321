import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AUDIT_CONNECTION } from '../database/data-source-options';
import type {
  EventRecord,
  ExchangeRecord,
  PhoneSighting,
  SessionRecord,
  StoredFailedAttempt,
  StoredHedge,
  StoredToolCall,
} from './call-record.types';
import { asJsonbParameter } from './postgres-json';

/**
 * The audit's writes: set-based, idempotent upserts, one statement per call whatever the
 * number of rows (they travel as one jsonb parameter), so a retry never duplicates a row.
 * Runs on the audit's own pool. The caller bounds each statement in rows and bytes.
 * A row JSON cannot hold throws UnserializableRowError before anything is sent.
 */
@Injectable()
export class CallRecordWriterRepository {
  constructor(@InjectDataSource(AUDIT_CONNECTION) private readonly dataSource: DataSource) {}

  async upsertPhones(phones: PhoneSighting[]): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO phone_numbers (number, first_seen_at, last_seen_at)
       SELECT x.number, x.first_seen_at, x.last_seen_at
       FROM jsonb_to_recordset($1::jsonb) AS x(number text, first_seen_at timestamptz, last_seen_at timestamptz)
       ON CONFLICT ((text_sha256(number))) DO UPDATE SET
         first_seen_at = LEAST(phone_numbers.first_seen_at, EXCLUDED.first_seen_at),
         last_seen_at = GREATEST(phone_numbers.last_seen_at, EXCLUDED.last_seen_at)`,
      [
        asJsonbParameter(
          phones.map((p) => ({ number: p.number, first_seen_at: p.firstSeenAt, last_seen_at: p.lastSeenAt })),
        ),
      ],
    );
  }

  /**
   * A reconnection with a known session_id continues that session's row. `instanceId` (the
   * writing process) is stamped on each, so a dead instance's calls can be told from a live one's.
   */
  async upsertSessions(sessions: SessionRecord[], instanceId: string): Promise<void> {
    const rows = sessions.map((s) => ({
      session_id: s.sessionId,
      agent_id: s.agentId,
      call_sid: s.callSid,
      metadata: s.metadata,
      from_number: s.fromNumber,
      to_number: s.toNumber,
      status: s.status,
      end_reason: s.endReason,
      started_at: s.startedAt,
      ended_at: s.endedAt,
      close_code: s.closeCode,
    }));
    await this.dataSource.query(
      `INSERT INTO call_sessions
         (session_id, agent_id, call_sid, metadata, from_number_id, to_number_id, status, end_reason, started_at, ended_at, close_code, instance_id)
       SELECT x.session_id, x.agent_id, x.call_sid, x.metadata,
              (SELECT p.id FROM phone_numbers p WHERE p.number = x.from_number),
              (SELECT p.id FROM phone_numbers p WHERE p.number = x.to_number),
              x.status, x.end_reason, x.started_at, x.ended_at, x.close_code, $2::uuid
       FROM jsonb_to_recordset($1::jsonb) AS x(
         session_id text, agent_id text, call_sid text, metadata jsonb, from_number text, to_number text,
         status text, end_reason text, started_at timestamptz, ended_at timestamptz, close_code int)
       ON CONFLICT ((text_sha256(session_id))) DO UPDATE SET
         agent_id = EXCLUDED.agent_id,
         call_sid = EXCLUDED.call_sid,
         metadata = EXCLUDED.metadata,
         from_number_id = EXCLUDED.from_number_id,
         to_number_id = EXCLUDED.to_number_id,
         status = EXCLUDED.status,
         end_reason = EXCLUDED.end_reason,
         started_at = LEAST(call_sessions.started_at, EXCLUDED.started_at),
         ended_at = EXCLUDED.ended_at,
         -- A session continued after a reconnection ends anew: its call.ended is dispatched again.
         ended_dispatched_at = CASE WHEN EXCLUDED.ended_at IS NOT DISTINCT FROM call_sessions.ended_at
                                    THEN call_sessions.ended_dispatched_at END,
         close_code = EXCLUDED.close_code,
         instance_id = EXCLUDED.instance_id`,
      [asJsonbParameter(rows), instanceId],
    );
  }

  /** Returns the exchanges whose call session is not stored (the join finds no parent). */
  async upsertExchanges(exchanges: ExchangeRecord[]): Promise<ExchangeRecord[]> {
    const rows = exchanges.map((e) => ({
      id: e.id,
      session_id: e.sessionId,
      stream_id: e.streamId,
      kind: e.kind,
      transcript: e.transcript,
      response_text: e.responseText,
      status: e.status,
      model: e.model,
      error: e.error,
      error_code: e.errorCode ?? null,
      requested_at: e.requestedAt,
      first_token_at: e.firstTokenAt,
      completed_at: e.completedAt,
      prompt_tokens: e.promptTokens,
      completion_tokens: e.completionTokens,
      total_tokens: e.totalTokens,
      tool_calls: (e.toolCalls ?? []).map((c): StoredToolCall => ({
        id: c.id,
        name: c.name,
        arguments: c.arguments,
        status: c.status,
        result: c.result,
        error: c.error,
        round: c.round,
        started_at: c.startedAt,
        duration_ms: c.durationMs,
      })),
      provider: e.provider ?? null,
      response_model: e.responseModel ?? null,
      failed_attempts: (e.failedAttempts ?? []).map((a): StoredFailedAttempt => ({
        round: a.round,
        provider: a.provider,
        model: a.model,
        code: a.code,
        error: a.error,
        status: a.status,
        retry_after_ms: a.retryAfterMs,
        started_at: a.startedAt,
        duration_ms: a.durationMs,
      })),
      reasoning_tokens: e.reasoningTokens ?? null,
      reasoning_ms: e.reasoningMs ?? null,
      finish_reason: e.finishReason ?? null,
      hedges: (e.hedges ?? []).map((h): StoredHedge => ({
        round: h.round,
        started_after_ms: h.startedAfterMs,
        winner: h.winner,
        hedge_won: h.hedgeWon,
        extra: h.extra.map((x) => ({
          provider: x.provider,
          model: x.model,
          outcome: x.outcome,
          duration_ms: x.durationMs,
        })),
        extra_prompt_tokens: h.extraPromptTokens,
      })),
      preemptive: e.preemptive ?? false,
      preemption_saved_ms: e.preemptionSavedMs ?? null,
    }));
    const written: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO stream_exchanges
         (id, call_session_id, stream_id, kind, transcript, response_text, status, model, error, error_code,
          requested_at, first_token_at, completed_at, prompt_tokens, completion_tokens, total_tokens, tool_calls,
          provider, response_model, failed_attempts, reasoning_tokens, reasoning_ms, finish_reason, hedges,
          preemptive, preemption_saved_ms)
       SELECT x.id, s.id, x.stream_id, x.kind, x.transcript, x.response_text, x.status, x.model, x.error, x.error_code,
              x.requested_at, x.first_token_at, x.completed_at, x.prompt_tokens, x.completion_tokens, x.total_tokens,
              COALESCE(x.tool_calls, '[]'::jsonb),
              x.provider, x.response_model, COALESCE(x.failed_attempts, '[]'::jsonb), x.reasoning_tokens, x.reasoning_ms,
              x.finish_reason, COALESCE(x.hedges, '[]'::jsonb), COALESCE(x.preemptive, false), x.preemption_saved_ms
       FROM jsonb_to_recordset($1::jsonb) AS x(
         id uuid, session_id text, stream_id int, kind text, transcript jsonb, response_text text, status text,
         model text, error text, error_code text, requested_at timestamptz, first_token_at timestamptz, completed_at timestamptz,
         prompt_tokens int, completion_tokens int, total_tokens int, tool_calls jsonb,
         provider text, response_model text, failed_attempts jsonb, reasoning_tokens int, reasoning_ms int,
         finish_reason text, hedges jsonb, preemptive boolean, preemption_saved_ms int)
       JOIN call_sessions s ON s.session_id = x.session_id
       ON CONFLICT (id) DO UPDATE SET
         response_text = EXCLUDED.response_text,
         status = EXCLUDED.status,
         model = EXCLUDED.model,
         error = EXCLUDED.error,
         error_code = EXCLUDED.error_code,
         first_token_at = EXCLUDED.first_token_at,
         completed_at = EXCLUDED.completed_at,
         prompt_tokens = EXCLUDED.prompt_tokens,
         completion_tokens = EXCLUDED.completion_tokens,
         total_tokens = EXCLUDED.total_tokens,
         tool_calls = EXCLUDED.tool_calls,
         provider = EXCLUDED.provider,
         response_model = EXCLUDED.response_model,
         failed_attempts = EXCLUDED.failed_attempts,
         reasoning_tokens = EXCLUDED.reasoning_tokens,
         reasoning_ms = EXCLUDED.reasoning_ms,
         finish_reason = EXCLUDED.finish_reason,
         hedges = EXCLUDED.hedges,
         preemptive = EXCLUDED.preemptive,
         preemption_saved_ms = EXCLUDED.preemption_saved_ms
       RETURNING id`,
      [asJsonbParameter(rows)],
    );
    if (written.length === exchanges.length) return [];
    const stored = new Set(written.map((w) => w.id));
    return exchanges.filter((e) => !stored.has(e.id));
  }

  async insertEvents(events: EventRecord[]): Promise<void> {
    const rows = events.map((e) => ({
      id: e.id,
      session_id: e.sessionId,
      type: e.type,
      stream_id: e.streamId,
      payload: e.payload,
      received_at: e.receivedAt,
    }));
    await this.dataSource.query(
      `INSERT INTO call_events (id, call_session_id, type, stream_id, payload, received_at)
       SELECT x.id, s.id, x.type, x.stream_id, x.payload, x.received_at
       FROM jsonb_to_recordset($1::jsonb) AS x(
         id uuid, session_id text, type text, stream_id int, payload jsonb, received_at timestamptz)
       LEFT JOIN call_sessions s ON s.session_id = x.session_id
       ON CONFLICT (id) DO NOTHING`,
      [asJsonbParameter(rows)],
    );
  }
}
