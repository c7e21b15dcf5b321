import type { AnalysisStatus, Sentiment } from './call-analysis.types';
import type { CallEventType, CallStatus, EndReason, ExchangeKind, ExchangeStatus } from './call-status';

/**
 * The rows of call_sessions, stream_exchanges, call_events and phone_numbers, in one place.
 *
 * Records (camelCase) are what the service writes: full-state snapshots, each replacing
 * the previous one with the same key, so every write is an idempotent upsert.
 * Rows (snake_case) are what the read queries return, column for column.
 */

export interface SessionRecord {
  sessionId: string;
  agentId: string;
  callSid: string | null;
  metadata: Record<string, unknown> | null;
  fromNumber: string | null;
  toNumber: string | null;
  status: CallStatus;
  endReason: EndReason | null;
  startedAt: string;
  endedAt: string | null;
  closeCode: number | null;
}

export interface ExchangeRecord {
  id: string;
  sessionId: string;
  streamId: number;
  kind: ExchangeKind;
  transcript: unknown[];
  responseText: string;
  status: ExchangeStatus;
  model: string | null;
  error: string | null;
  /** Why the reply failed, as a code (`timeout`, `stream_cut`, `unexpected`...): stored in stream_exchanges.error_code. */
  errorCode?: string | null;
  requestedAt: string;
  firstTokenAt: string | null;
  completedAt: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
  /** Every tool the model called during this exchange, in order (stored in stream_exchanges.tool_calls). */
  toolCalls?: ToolCallRecord[];
  /** The LLM provider that answered: the one that spoke (or finished the last round). Unset: none did. */
  provider?: string | null;
  /** The model as the provider's stream named it (a dated version, Azure's underlying model). */
  responseModel?: string | null;
  /** Providers that did not answer a round before another did (or before every one failed), in order. */
  failedAttempts?: FailedAttemptRecord[];
  /** Thinking of a reasoning model, summed over the rounds: never spoken. */
  reasoningTokens?: number | null;
  reasoningMs?: number | null;
  /** The last round's finish_reason (`stop`, `tool_calls`, `length`...). */
  finishReason?: string | null;
  /** Rounds whose hedge started: the winner and the extra requests. */
  hedges?: HedgeRecord[];
  /** Answered with a reply started on the final partial transcript (stream_exchanges.preemptive). */
  preemptive?: boolean;
  /** The caller's wait that reply saved, in ms (see docs/sql.md); null unless preemptive. */
  preemptionSavedMs?: number | null;
}

/** A provider that did not answer a round: failed (`code`, `status`) or skipped (`circuit_open`). */
export interface FailedAttemptRecord {
  round: number;
  provider: string;
  model: string;
  code: string;
  error: string;
  status?: number;
  retryAfterMs?: number;
  startedAt: string;
  durationMs: number;
}

export interface HedgeRecord {
  round: number;
  /** When the second provider was asked, after the round began. */
  startedAfterMs: number;
  winner: string;
  hedgeWon: boolean;
  /** The requests that did not answer: aborted when the winner spoke first, or failed. */
  extra: Array<{ provider: string; model: string; outcome: 'aborted' | 'failed'; durationMs: number }>;
  /** The round's prompt tokens times the aborted requests: about what they were billed for. Null until known. */
  extraPromptTokens: number | null;
}

/** How a tool call ended. */
export type ToolCallStatus = 'ok' | 'error' | 'invalid_arguments' | 'timeout' | 'cancelled' | 'unknown_tool';

export interface ToolCallRecord {
  id: string;
  name: string;
  /** Parsed arguments, or the raw text when it was not JSON. */
  arguments: unknown;
  status: ToolCallStatus;
  result?: unknown;
  error?: string;
  round: number;
  startedAt: string;
  durationMs: number;
}

export interface EventRecord {
  id: string;
  /** Null when the frame came before start_call. */
  sessionId: string | null;
  type: CallEventType;
  streamId: number | null;
  payload: Record<string, unknown>;
  receivedAt: string;
}

export interface PhoneSighting {
  number: string;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** `startedAt` -> `started_at`. */
type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

/** A record as stored in a jsonb column: the same fields, in snake_case, all the way down. */
export type Stored<T> =
  T extends Array<infer Item>
    ? Array<Stored<Item>>
    : T extends object
      ? { [K in keyof T as K extends string ? SnakeCase<K> : K]: Stored<T[K]> }
      : T;

/** stream_exchanges.tool_calls, failed_attempts and hedges hold these. */
export type StoredToolCall = Stored<ToolCallRecord>;
export type StoredFailedAttempt = Stored<FailedAttemptRecord>;
export type StoredHedge = Stored<HedgeRecord>;

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
  /** Of the call's analysis (null when it has none). */
  analysis_status: AnalysisStatus | null;
  outcome: string | null;
  sentiment: Sentiment | null;
  analysis_summary: string | null;
  custom_fields: Record<string, unknown> | null;
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
  error_code: string | null;
  requested_at: Date;
  first_token_at: Date | null;
  completed_at: Date | null;
  time_to_first_token_ms: number | null;
  total_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  tool_calls: StoredToolCall[];
  preemptive: boolean;
  preemption_saved_ms: number | null;
}

export interface EventRow {
  id: string;
  type: CallEventType;
  stream_id: number | null;
  payload: Record<string, unknown>;
  received_at: Date;
}

/** Analysed calls by outcome: agent_id null for the totals. */
export interface OutcomeRow {
  agent_id: string | null;
  outcome: string;
  calls: number;
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
