import type { CallEventType, CallStatus, EndReason, ExchangeKind, ExchangeStatus } from '../call-records/call-status';

/**
 * Full-state snapshots of audit rows, as queued for the write-behind. Each record
 * replaces the previous one with the same key, so every write is an idempotent upsert.
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

export interface AuditBatch {
  phones: PhoneSighting[];
  sessions: SessionRecord[];
  exchanges: ExchangeRecord[];
  events: EventRecord[];
}

/** The audit tables, parents before children: the order every flush writes them in. */
export const AUDIT_TABLES = ['phones', 'sessions', 'exchanges', 'events'] as const;
export type AuditTable = (typeof AUDIT_TABLES)[number];
export type AuditRow<T extends AuditTable> = AuditBatch[T][number];

export function emptyBatch(): AuditBatch {
  return { phones: [], sessions: [], exchanges: [], events: [] };
}

export function batchSize(batch: AuditBatch): number {
  return batch.phones.length + batch.sessions.length + batch.exchanges.length + batch.events.length;
}
