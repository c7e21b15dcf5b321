import type { TokenUsage, ToolCallRequest, ToolSpec } from './llm-client';
import type { LlmErrorCode } from './llm-errors';
import type { ToolRound } from './tool-history';

export interface TranscriptTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface ReplyRequest {
  /** The conversation so far, as the platform sent it. */
  transcript: TranscriptTurn[];
  /** Values for `{{placeholders}}` in the system prompt. */
  promptContext: Record<string, unknown>;
  /** Aborted when the caller interrupts or a newer request supersedes this one. */
  signal: AbortSignal;
  /** Extra instruction as the last user message (the greeting prompt). */
  instruction?: string;
  /** The agent's prompt and model settings, its profile already merged over the configured defaults. */
  settings: LlmSettings;
  /** Tools offered to the model, and whether it may call them this round. */
  tools?: ToolSpec[];
  toolChoice?: 'auto' | 'none';
  /** Tool calls and results of this call so far, replayed where they happened. */
  toolRounds?: readonly ToolRound[];
}

export interface LlmSettings {
  systemPrompt: string;
  /** Sent to providers that have no model of their own. */
  model: string;
  temperature: number;
  maxTokens?: number;
  /** Providers to try, in order; unset or empty = the configured default order. */
  providers?: readonly string[];
  /** Also start the next provider when the first has produced nothing after this long (ms). */
  hedgeAfterMs?: number;
}

/** How a request to a provider failed; `circuit_open`: it was skipped, not asked. */
export type AttemptFailureCode = Exclude<LlmErrorCode, 'tool_rounds' | 'unavailable'> | 'circuit_open';

/** A provider that did not answer a round (stored in stream_exchanges.failed_attempts). */
export interface FailedAttempt {
  provider: string;
  model: string;
  code: AttemptFailureCode;
  error: string;
  /** The provider's HTTP status, when it answered with one. */
  status?: number;
  /** What a 429 asked for (retry-after-ms / retry-after). */
  retryAfterMs?: number;
  startedAt: string;
  durationMs: number;
}

/** A round whose hedge started: who answered, and the requests that did not (the extra cost). */
export interface HedgeOutcome {
  /** When the second request was sent, after the round began. */
  startedAfterMs: number;
  winner: string;
  hedgeWon: boolean;
  extra: Array<{ provider: string; model: string; outcome: 'aborted' | 'failed'; durationMs: number }>;
}

export interface RoundSummary {
  finishReason: string;
  /** The model the provider's stream named, when it did. */
  responseModel: string | null;
  /** Thinking of a reasoning model: never spoken, counted here. */
  reasoning: { tokens: number; ms: number } | null;
}

/**
 * What a reply yields: text as it arrives (never held back), then, at the end of the round,
 * its tool calls, usage and summary. Around them, which provider answered and which failed
 * before it, for the audit.
 */
export type ReplyChunk =
  | { type: 'text'; text: string }
  | { type: 'tool_calls'; calls: ToolCallRequest[] }
  | { type: 'usage'; usage: TokenUsage }
  | { type: 'provider'; provider: string; model: string }
  | { type: 'attempt_failed'; attempt: FailedAttempt }
  | { type: 'hedge'; hedge: HedgeOutcome }
  | { type: 'round_end'; summary: RoundSummary };
