import { Injectable, Optional } from '@nestjs/common';
import { APIConnectionError, APIError } from 'openai';
import { AppConfig } from '../config/app-config';
import {
  ChatMessage,
  CompletionChunk,
  CompletionRequest,
  LlmClient,
  TokenUsage,
  ToolCallRequest,
  ToolSpec,
} from './llm-client';
import type { CircuitPermit } from './circuit-breaker';
import { LlmErrorCode, LlmReplyError } from './llm-errors';
import { LlmProvider, LlmProviders } from './llm-providers';
import { LlmTelemetry } from './llm-telemetry';
import { renderTemplate } from './prompt-template';
import { ProviderAttempt, Settled } from './provider-attempt';
import { ToolCallAccumulator } from './tool-call-accumulator';
import { interleaveToolRounds, ToolRound } from './tool-history';

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
  /** Per-agent overrides of the configured prompt and model settings. */
  settings?: Partial<LlmSettings>;
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

/** Longest a provider's retry-after is honoured (its circuit stays open that long). */
const MAX_RETRY_AFTER_MS = 300_000;
/** Answers that say the request, not the provider, is at fault: the next provider is tried, the circuit is not told. */
const REQUEST_REJECTED = new Set([400, 413, 422]);

type Failure = { record: FailedAttempt; error: LlmReplyError };

/** How a round starts a request to a provider, and which model it sends it. */
interface Starter {
  modelOf(provider: LlmProvider): string;
  attempt(provider: LlmProvider, permit: CircuitPermit): ProviderAttempt;
}

/**
 * Streams one round of a reply: prompt assembly, then the providers in the agent's order.
 * The first provider is asked; if it errors, says nothing within its budget, or its circuit
 * is open, the next one is, and so on, as long as the caller has heard nothing of this
 * round (text is never held back: once a word is out, a failure is the caller's fallback).
 * With hedging, the next provider also starts when the first is silent after
 * `hedgeAfterMs`; the first to produce output answers and the other is aborted upstream.
 * Once a provider answers, its tokens go straight through: no extra layer per token.
 * Throws LlmReplyError when no provider answers; returns quietly when the caller's signal aborts.
 */
@Injectable()
export class LlmService {
  private readonly providers: LlmProviders;

  constructor(
    client: LlmClient,
    private readonly config: AppConfig,
    @Optional() providers?: LlmProviders,
    @Optional() private readonly telemetry?: LlmTelemetry,
  ) {
    // Built by hand (unit tests): the client given is the `default` provider's.
    this.providers = providers ?? new LlmProviders(config, client, telemetry);
  }

  get model(): string {
    return this.config.llm.model;
  }

  buildMessages(
    request: Pick<ReplyRequest, 'transcript' | 'promptContext' | 'instruction' | 'settings' | 'toolRounds'>,
  ): ChatMessage[] {
    const systemPrompt = request.settings?.systemPrompt ?? this.config.llm.systemPrompt;
    const transcript = request.transcript.map((turn): ChatMessage => ({ role: turn.role, content: turn.content }));
    const messages: ChatMessage[] = [
      { role: 'system', content: renderTemplate(systemPrompt, request.promptContext) },
      ...interleaveToolRounds(transcript, request.toolRounds ?? []),
    ];
    if (request.instruction) messages.push({ role: 'user', content: request.instruction });
    return messages;
  }

  async *streamReply(request: ReplyRequest): AsyncGenerator<ReplyChunk> {
    const caller = request.signal;
    if (caller.aborted) return;
    const { settings } = request;
    const base: Omit<CompletionRequest, 'signal' | 'model'> = {
      messages: this.buildMessages(request),
      temperature: settings?.temperature ?? this.config.llm.temperature,
      maxTokens: settings?.maxTokens ?? this.config.llm.maxTokens,
      ...(request.tools?.length ? { tools: request.tools, toolChoice: request.toolChoice } : {}),
    };
    const agentModel = settings?.model ?? this.config.llm.model;
    const queue = this.providers.route(settings?.providers);
    const failures: Failure[] = [];
    const roundStart = performance.now();
    const { telemetry } = this;
    const start: Starter = {
      modelOf: (provider) => provider.config.model ?? agentModel,
      attempt(provider, permit) {
        return new ProviderAttempt(provider, permit, this.modelOf(provider), base, caller, telemetry);
      },
    };

    let current: ProviderAttempt | undefined;
    try {
      for (;;) {
        const selected = yield* this.select(queue, start, settings?.hedgeAfterMs, caller, failures, roundStart);
        if (!selected) {
          if (caller.aborted) return;
          throw finalError(failures);
        }
        const { attempt } = selected;
        current = attempt;
        const { iterator } = attempt;
        const calls = new ToolCallAccumulator();
        let spoken = false;
        let chunk = selected.first;
        try {
          while (chunk !== undefined) {
            switch (chunk.type) {
              case 'text':
                if (!spoken) {
                  spoken = true;
                  attempt.firstTokenAt ??= performance.now();
                  yield { type: 'provider', provider: attempt.provider.name, model: attempt.model };
                }
                attempt.fed();
                yield chunk;
                break;
              case 'tool_call_delta':
                // Held until the round ends (tools run only then): a failure before it can still fail over.
                attempt.firstTokenAt ??= performance.now();
                attempt.fed();
                calls.push(chunk);
                break;
              case 'reasoning':
                attempt.reasoningStartedAt ??= performance.now();
                attempt.reasoningDeltas++;
                attempt.fed();
                break;
              default:
                attempt.note(chunk);
            }
            const result = await iterator.next();
            // A client that keeps yielding after its signal aborted is not listened to any more.
            if (result.done || caller.aborted || attempt.timedOut) break;
            chunk = result.value;
          }
        } catch (error) {
          if (caller.aborted) {
            attempt.end('cancelled');
            return;
          }
          const failure = this.fail(attempt, error);
          // The caller heard words: a second voice must not start over; the fallback follows them.
          if (spoken) throw failure.error;
          failures.push(failure);
          yield { type: 'attempt_failed', attempt: failure.record };
          continue;
        }
        if (caller.aborted) {
          attempt.end('cancelled');
          return;
        }
        if (attempt.timedOut || attempt.finishReason === undefined) {
          const failure = this.fail(attempt, undefined);
          if (spoken) throw failure.error;
          failures.push(failure);
          yield { type: 'attempt_failed', attempt: failure.record };
          continue;
        }
        attempt.end('answered');
        if (!spoken) yield { type: 'provider', provider: attempt.provider.name, model: attempt.model };
        if (calls.size) yield { type: 'tool_calls', calls: calls.complete() };
        if (attempt.usage) yield { type: 'usage', usage: attempt.usage };
        yield { type: 'round_end', summary: summaryOf(attempt) };
        return;
      }
    } finally {
      // The consumer stopped early (an interrupt, a hang-up): let the request go. A no-op once it ended.
      current?.end('cancelled');
    }
  }

  /**
   * Starts providers from `queue` until one produces its first output (text, tool call or
   * reasoning), and returns it with that chunk; `first` is undefined for a provider that
   * finished without any output. Failed and skipped providers are yielded as they happen.
   * Returns undefined when none is left, or when the caller aborted.
   */
  private async *select(
    queue: LlmProvider[],
    start: Starter,
    hedgeAfterMs: number | undefined,
    caller: AbortSignal,
    failures: Failure[],
    roundStart: number,
  ): AsyncGenerator<ReplyChunk, { attempt: ProviderAttempt; first: CompletionChunk | undefined } | undefined> {
    const active: ProviderAttempt[] = [];
    const started: ProviderAttempt[] = [];
    let hedge: { promise: Promise<'hedge'>; cancel(): void } | undefined;
    const armHedge = () => {
      hedge?.cancel();
      hedge = hedgeAfterMs !== undefined && queue.length > 0 ? delay(hedgeAfterMs) : undefined;
    };
    let winner: ProviderAttempt | undefined;
    try {
      for (;;) {
        if (active.length === 0) {
          const next = this.launch(queue, start, failures);
          for (const skipped of next.skipped) yield { type: 'attempt_failed', attempt: skipped };
          if (!next.attempt) return undefined;
          active.push(next.attempt);
          started.push(next.attempt);
          next.attempt.pull();
          armHedge();
        }
        const settled: Settled | 'hedge' = await Promise.race<Settled | 'hedge'>([
          ...active.map((a) => a.pending!),
          ...(hedge ? [hedge.promise] : []),
        ]);
        if (caller.aborted) return undefined;
        if (settled === 'hedge') {
          hedge = undefined;
          const next = this.launch(queue, start, failures);
          for (const skipped of next.skipped) yield { type: 'attempt_failed', attempt: skipped };
          if (next.attempt) {
            next.attempt.hedgedAfterMs = performance.now() - roundStart;
            active.push(next.attempt);
            started.push(next.attempt);
            next.attempt.pull();
          }
          continue;
        }
        const { attempt } = settled;
        if ('error' in settled || (settled.result.done && (attempt.timedOut || attempt.finishReason === undefined))) {
          active.splice(active.indexOf(attempt), 1);
          const failure = this.fail(attempt, 'error' in settled ? settled.error : undefined);
          failures.push(failure);
          yield { type: 'attempt_failed', attempt: failure.record };
          continue;
        }
        // A stream that finished without any output is an (empty) answer too.
        const chunk = settled.result.done ? undefined : settled.result.value;
        if (
          chunk === undefined ||
          chunk.type === 'text' ||
          chunk.type === 'tool_call_delta' ||
          chunk.type === 'reasoning'
        ) {
          winner = attempt;
          for (const other of active) if (other !== attempt) other.end('lost');
          const hedged = started.find((a) => a.hedgedAfterMs !== undefined);
          if (hedged) {
            const outcome = hedgeOutcome(winner, hedged, started);
            this.telemetry?.emit({ type: 'hedge', provider: hedged.provider.name, hedgeWon: outcome.hedgeWon });
            yield { type: 'hedge', hedge: outcome };
          }
          return { attempt, first: chunk };
        }
        attempt.note(chunk);
        attempt.pull();
      }
    } finally {
      hedge?.cancel();
      // The caller aborted, or the consumer stopped: nothing of this round is wanted any more.
      for (const attempt of active) if (attempt !== winner) attempt.end('cancelled');
    }
  }

  /** The next provider whose circuit lets a request through; those it skips, as failed attempts. */
  private launch(
    queue: LlmProvider[],
    start: Starter,
    failures: Failure[],
  ): { attempt?: ProviderAttempt; skipped: FailedAttempt[] } {
    const skipped: FailedAttempt[] = [];
    for (let provider = queue.shift(); provider; provider = queue.shift()) {
      const permit = provider.breaker.tryAcquire();
      if (permit) return { attempt: start.attempt(provider, permit), skipped };
      const record: FailedAttempt = {
        provider: provider.name,
        model: start.modelOf(provider),
        code: 'circuit_open',
        error: `skipped: circuit open for ${Math.ceil(provider.breaker.retryInMs / 1000)} s more`,
        startedAt: new Date().toISOString(),
        durationMs: 0,
      };
      this.telemetry?.emit({ type: 'attempt', provider: provider.name, outcome: 'skipped' });
      failures.push({ record, error: new LlmReplyError('unavailable', record.error) });
      skipped.push(record);
    }
    return { skipped };
  }

  /** Classifies a failed request, ends it and tells its circuit. `error` undefined: the stream ended or went silent. */
  private fail(attempt: ProviderAttempt, error: unknown): Failure {
    let replyError: LlmReplyError;
    let status: number | undefined;
    let retryAfterMs: number | undefined;
    if (attempt.timedOut) {
      replyError = new LlmReplyError(
        'timeout',
        attempt.producedOutput
          ? `no token for ${attempt.timeoutMs} ms mid-reply`
          : `no first token within ${attempt.timeoutMs} ms`,
      );
    } else if (error === undefined) {
      replyError = new LlmReplyError('stream_cut', 'the model stream ended before it finished');
    } else {
      replyError = upstreamError(error);
      if (error instanceof APIError) {
        status = error.status;
        retryAfterMs = retryAfter(error);
      }
    }
    attempt.end('failed', replyError.code);
    const { breaker } = attempt.provider;
    if (status !== undefined && REQUEST_REJECTED.has(status)) breaker.released(attempt.permit);
    else breaker.failed(attempt.permit, replyError.message);
    if (retryAfterMs !== undefined)
      breaker.coolDown(
        Math.min(retryAfterMs, MAX_RETRY_AFTER_MS),
        `it answered ${status} with retry-after ${Math.round(retryAfterMs)} ms`,
      );
    const record: FailedAttempt = {
      provider: attempt.provider.name,
      model: attempt.model,
      code: replyError.code as AttemptFailureCode,
      error: replyError.message,
      ...(status !== undefined ? { status } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs: Math.round(retryAfterMs) } : {}),
      startedAt: attempt.startedAtIso,
      durationMs: Math.round(attempt.durationMs),
    };
    return { record, error: replyError };
  }
}

function summaryOf(attempt: ProviderAttempt): RoundSummary {
  const reasoningTokens = attempt.usage?.reasoningTokens;
  const reasoned = attempt.reasoningDeltas > 0 || (reasoningTokens ?? 0) > 0;
  return {
    finishReason: attempt.finishReason!,
    responseModel: attempt.responseModel ?? null,
    // Counted as the provider reports it, else one token per streamed piece.
    reasoning: reasoned
      ? { tokens: reasoningTokens ?? attempt.reasoningDeltas, ms: Math.round(attempt.reasoningMs ?? 0) }
      : null,
  };
}

function hedgeOutcome(winner: ProviderAttempt, hedged: ProviderAttempt, started: ProviderAttempt[]): HedgeOutcome {
  return {
    startedAfterMs: Math.round(hedged.hedgedAfterMs!),
    winner: winner.provider.name,
    hedgeWon: winner === hedged,
    extra: started
      .filter((a) => a !== winner)
      .map((a) => ({
        provider: a.provider.name,
        model: a.model,
        // Those the winner beat were cut short; the others had failed on their own.
        outcome: a.outcome === 'lost' ? ('aborted' as const) : ('failed' as const),
        durationMs: Math.round(a.durationMs),
      })),
  };
}

/** When every provider failed: the one failure as it was, or each provider's, in order. */
function finalError(failures: Failure[]): LlmReplyError {
  const asked = failures.filter((f) => f.record.code !== 'circuit_open');
  if (asked.length === 0) {
    const detail = failures.map((f) => `${f.record.provider} ${f.record.error}`).join('; ');
    return new LlmReplyError('unavailable', `no LLM provider available: ${detail || 'none configured for this agent'}`);
  }
  if (failures.length === 1) return failures[0].error;
  const last = asked[asked.length - 1].error;
  return new LlmReplyError(last.code, failures.map((f) => `${f.record.provider}: ${f.error.message}`).join('; '));
}

/** The kind comes from the error's class: a provider that was never reached did not answer anything. */
function upstreamError(error: unknown): LlmReplyError {
  if (error instanceof APIConnectionError)
    return new LlmReplyError('unreachable', `LLM provider unreachable: ${rootCause(error)}`);
  if (error instanceof APIError) {
    return new LlmReplyError(
      error.status === 429 ? 'rate_limited' : 'upstream_error',
      `LLM provider answered ${error.status ?? 'with an error'}: ${error.message}`,
    );
  }
  return new LlmReplyError('upstream_error', `LLM request failed: ${(error as Error)?.message ?? String(error)}`);
}

/** retry-after-ms (Azure), else retry-after in seconds or as an HTTP date. */
function retryAfter(error: APIError): number | undefined {
  if (error.status !== 429 && error.status !== 503) return undefined;
  const headers = error.headers as Headers | undefined;
  const ms = Number.parseFloat(headers?.get?.('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get?.('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** "Connection error." says nothing; the socket error under it (ECONNREFUSED, ENOTFOUND...) does. */
function rootCause(error: Error): string {
  let deepest: ErrorLike = error;
  // Duck-typed: Node's own errors may come from another realm (a test VM), where instanceof fails.
  while (isErrorLike(deepest.cause)) deepest = deepest.cause;
  return String(deepest.message || deepest.code || error.message);
}

type ErrorLike = { message?: unknown; code?: unknown; cause?: unknown };

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && 'message' in value;
}

function delay(ms: number): { promise: Promise<'hedge'>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<'hedge'>((resolve) => (timer = setTimeout(() => resolve('hedge'), ms)));
  return { promise, cancel: () => clearTimeout(timer) };
}
