import type { CallAnalysisRow } from '../call-records/call-analysis.types';
import type { CallSummaryRow, EventRow, ExchangeRow } from '../call-records/call-record.types';
import type { CallAnalysisDto } from './dto/call-analysis.dto';
import type { CallDetailDto, CallEventDto, ExchangeDto } from './dto/call-detail.dto';
import type { CallExportRowDto, CallSummaryDto } from './dto/call-summary.dto';

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

export function toCallSummary(row: CallSummaryRow): CallSummaryDto {
  return {
    session_id: row.session_id,
    agent_id: row.agent_id,
    call_sid: row.call_sid,
    from_number: row.from_number,
    to_number: row.to_number,
    status: row.status,
    end_reason: row.end_reason,
    started_at: iso(row.started_at),
    ended_at: isoOrNull(row.ended_at),
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
    turn_count: row.turn_count,
    failed_exchanges: row.failed_exchanges,
    has_failures: row.has_failures,
    summary: row.summary,
    redacted_at: isoOrNull(row.redacted_at),
    analysis_status: row.analysis_status,
    outcome: row.outcome,
    sentiment: row.sentiment,
  };
}

export function toExportRow(row: CallSummaryRow): CallExportRowDto {
  return {
    ...toCallSummary(row),
    metadata: row.metadata,
    analysis_summary: row.analysis_summary,
    custom_fields: row.custom_fields,
  };
}

export function toExchange(row: ExchangeRow): ExchangeDto {
  return {
    id: row.id,
    stream_id: row.stream_id,
    kind: row.kind,
    status: row.status,
    transcript: row.transcript,
    user_text: row.user_text,
    response_text: row.response_text,
    model: row.model,
    error: row.error,
    error_code: row.error_code,
    requested_at: iso(row.requested_at),
    first_token_at: isoOrNull(row.first_token_at),
    completed_at: isoOrNull(row.completed_at),
    time_to_first_token_ms: row.time_to_first_token_ms,
    total_ms: row.total_ms,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    total_tokens: row.total_tokens,
    tool_calls: row.tool_calls ?? [],
    preemptive: row.preemptive,
    preemption_saved_ms: row.preemption_saved_ms,
  };
}

export function toEvent(row: EventRow): CallEventDto {
  return {
    id: row.id,
    type: row.type,
    stream_id: row.stream_id,
    payload: row.payload,
    received_at: iso(row.received_at),
  };
}

export function toCallDetail(
  call: CallSummaryRow,
  exchanges: ExchangeRow[],
  events: EventRow[],
  analysis: CallAnalysisRow | null,
): CallDetailDto {
  return {
    ...toCallSummary(call),
    metadata: call.metadata,
    close_code: call.close_code,
    analysis: analysis ? toCallAnalysis(analysis) : null,
    exchanges: exchanges.map(toExchange),
    events: events.map(toEvent),
  };
}

export function toCallAnalysis(row: CallAnalysisRow): CallAnalysisDto {
  return {
    status: row.status,
    summary: row.summary,
    outcome: row.outcome,
    sentiment: row.sentiment,
    custom_fields: row.custom_fields,
    model: row.model,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    attempts: row.attempts,
    error: row.error,
    requested_at: iso(row.requested_at),
    started_at: isoOrNull(row.started_at),
    completed_at: isoOrNull(row.completed_at),
    duration_ms: row.duration_ms,
  };
}
