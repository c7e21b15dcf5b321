import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import type { CallAnalysisRow } from './call-analysis.types';
import type { CallSummaryRow, EventRow, ExchangeRow } from './call-record.types';
import {
  CallFilters,
  CallListPosition,
  CALLS_WITH_ANALYSIS,
  listCallsQuery,
  PHONE_NUMBER_IDS_QUERY,
  SUMMARY_COLUMNS,
} from './call-list.query';
import { readWithTimeout } from './statement-timeout';

/**
 * Calls as the history API lists and shows them, in reviewed SQL over the call_summaries
 * view. Every query runs under HISTORY_STATEMENT_TIMEOUT_MS and throws QueryTimeoutError
 * when Postgres cancels it.
 */
@Injectable()
export class CallHistoryRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  async findPhoneNumberIds(phone: string): Promise<string[]> {
    const rows = await this.query<Array<{ id: string }>>(PHONE_NUMBER_IDS_QUERY, [phone]);
    return rows.map((r) => r.id);
  }

  /** Newest first; `after` continues from a previous page (keyset, so pages never shift). */
  async listCalls(filters: CallFilters, after: CallListPosition | undefined, limit: number): Promise<CallSummaryRow[]> {
    const { sql, params } = listCallsQuery(filters, after, limit);
    return this.query(sql, params);
  }

  async findCall(sessionId: string): Promise<CallSummaryRow | null> {
    const rows = await this.query<CallSummaryRow[]>(
      `SELECT ${SUMMARY_COLUMNS} FROM ${CALLS_WITH_ANALYSIS} WHERE v.session_id = $1`,
      [sessionId],
    );
    return rows[0] ?? null;
  }

  async findExchanges(callId: string): Promise<ExchangeRow[]> {
    return this.query(
      `SELECT e.id, e.stream_id, e.kind, e.status, e.transcript, last_user_utterance(e.transcript) AS user_text,
              e.response_text, e.model, e.error, e.error_code, e.requested_at, e.first_token_at, e.completed_at,
              round(extract(epoch FROM e.first_token_at - e.requested_at) * 1000, 1)::float8 AS time_to_first_token_ms,
              round(extract(epoch FROM e.completed_at - e.requested_at) * 1000, 1)::float8 AS total_ms,
              e.prompt_tokens, e.completion_tokens, e.total_tokens, e.tool_calls, e.preemptive, e.preemption_saved_ms
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

  async findAnalysis(callId: string): Promise<CallAnalysisRow | null> {
    const rows = await this.query<CallAnalysisRow[]>(
      `SELECT call_session_id, request_id, status, summary, outcome, sentiment, custom_fields, model, prompt_tokens,
              completion_tokens, attempts, error, requested_at, started_at, completed_at, duration_ms
       FROM call_analyses WHERE call_session_id = $1`,
      [callId],
    );
    return rows[0] ?? null;
  }

  private query<T>(sql: string, params: unknown[]): Promise<T> {
    return readWithTimeout<T>(this.dataSource, this.config.history.statementTimeoutMs, sql, params);
  }
}
