import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ChatMessage, CompletionRequest } from './llm-client';
import type { ReplyChunk, ReplyRequest, RoundSummary } from './llm-reply';
import { LlmProviders } from './llm-providers';
import { LlmTelemetry } from './llm-telemetry';
import { renderTemplate } from './prompt-template';
import { ProviderAttempt } from './provider-attempt';
import { failAttempt, finalError } from './provider-failure';
import { Round, selectProvider } from './provider-race';
import { ToolCallAccumulator } from './tool-call-accumulator';
import { interleaveToolRounds } from './tool-history';

export type {
  AttemptFailureCode,
  FailedAttempt,
  HedgeOutcome,
  LlmSettings,
  ReplyChunk,
  ReplyRequest,
  RoundSummary,
  TranscriptTurn,
} from './llm-reply';

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
  constructor(
    private readonly config: AppConfig,
    private readonly providers: LlmProviders,
    private readonly telemetry: LlmTelemetry,
  ) {}

  /** The configured default model, for an exchange whose agent is not known yet. */
  get model(): string {
    return this.config.llm.model;
  }

  buildMessages(
    request: Pick<ReplyRequest, 'transcript' | 'promptContext' | 'instruction' | 'settings' | 'toolRounds'>,
  ): ChatMessage[] {
    const transcript = request.transcript.map((turn): ChatMessage => ({ role: turn.role, content: turn.content }));
    const messages: ChatMessage[] = [
      { role: 'system', content: renderTemplate(request.settings.systemPrompt, request.promptContext) },
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
      temperature: settings.temperature,
      maxTokens: settings.maxTokens,
      ...(request.tools?.length ? { tools: request.tools, toolChoice: request.toolChoice } : {}),
    };
    const { telemetry } = this;
    const round: Round = {
      queue: this.providers.route(settings.providers),
      start: {
        modelOf: (provider) => provider.config.model ?? settings.model,
        attempt(provider, permit) {
          return new ProviderAttempt(provider, permit, this.modelOf(provider), base, caller, telemetry);
        },
      },
      hedgeAfterMs: settings.hedgeAfterMs,
      caller,
      failures: [],
      roundStart: performance.now(),
      telemetry,
    };
    const { failures } = round;

    let current: ProviderAttempt | undefined;
    try {
      for (;;) {
        const selected = yield* selectProvider(round);
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
          const failure = failAttempt(attempt, error);
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
          const failure = failAttempt(attempt, undefined);
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
